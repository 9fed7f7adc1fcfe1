import type { JobListPage, JobListQuery, JobStore } from "../jobs/ports.ts";
import { DEFAULT_TENANT_KEY } from "../jobs/tenant.ts";
import type { JobRecord } from "../jobs/types.ts";

/**
 * All the `Jobs` view reads: one job by id, pages of a type's or a tenant's jobs from the
 * listing index (`JobStore.listJobs`), the types ever scheduled, and where each type keeps its
 * tenant. Never a table scan.
 */
export interface JobsSource {
  getJob(id: string): Promise<JobRecord | null>;
  listJobs(query: JobListQuery): Promise<JobListPage>;
  knownTypes(): Promise<string[]>;
  /** The tenant key path of a type: `"data.shopId"` unless a plugin named another. */
  tenantKeyOf(type: string): string;
}

/** The view's source over a job store and the plugins' tenant rules. */
export function storeSource(store: JobStore, tenants: ReadonlyMap<string, string>): JobsSource {
  return {
    getJob: (id) => store.getJob(id),
    listJobs: (query) => store.listJobs(query),
    knownTypes: () => store.knownTypes(),
    tenantKeyOf: (type) => tenants.get(type) ?? DEFAULT_TENANT_KEY,
  };
}
