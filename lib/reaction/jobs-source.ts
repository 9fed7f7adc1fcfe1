import type { ListSource } from "../jobs/list/index.ts";
import type { JobStore } from "../jobs/ports.ts";
import { DEFAULT_TENANT_KEY } from "../jobs/tenant.ts";
import type { JobRecord } from "../jobs/types.ts";

/**
 * All the `Jobs` view reads: one job by id, and the listing engine's raw reads (the listing
 * and open indexes, records in batches, the types ever scheduled), plus where each type keeps
 * its tenant. Never a table scan.
 */
export interface JobsSource extends ListSource {
  getJob(id: string): Promise<JobRecord | null>;
  /** The tenant key path of a type: `"data.shopId"` unless a plugin named another. */
  tenantKeyOf(type: string): string;
}

/** The view's source over a job store and the plugins' tenant rules. */
export function storeSource(store: JobStore, tenants: ReadonlyMap<string, string>): JobsSource {
  return {
    getJob: (id) => store.getJob(id),
    getJobs: (ids) => store.getJobs(ids),
    readShard: (read) => store.readShard(read),
    openJobsOfType: (type, tenant) => store.openJobsOfType(type, tenant),
    knownTypes: () => store.knownTypes(),
    tenantKeyOf: (type) => tenants.get(type) ?? DEFAULT_TENANT_KEY,
  };
}
