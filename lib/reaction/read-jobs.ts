import { JobValidationError } from "../errors.ts";
import { MAX_LIST_LIMIT } from "../jobs/list.ts";
import type { JobListQuery } from "../jobs/ports.ts";
import type { JobRecord } from "../jobs/types.ts";
import type { FilterPlan } from "./filter.ts";
import type { JobsSource } from "./jobs-source.ts";

/**
 * The most job records one `Jobs` query reads before it is refused: sort, skip and count work
 * in memory over what the listing index returns for the filter's types and shops.
 */
export const MAX_RECORDS_READ = 10_000;

/**
 * The records a filter can match, as few as its plan allows: by id (`getJob`); else, for each
 * type it names (every known type when none), the listing index's pages of that type, or of
 * the type's jobs of each shop the filter names on the type's tenant key. Newest first within
 * a read. Never a table scan. Refused past `maxRecords` records, with a message on narrowing.
 *
 * @example for await (const record of candidateRecords(source, planFilter({ type: "sendEmail" }))) ...
 */
export async function* candidateRecords(
  source: JobsSource,
  plan: FilterPlan,
  maxRecords = MAX_RECORDS_READ,
): AsyncGenerator<JobRecord> {
  if (plan.empty) return;
  if (plan.ids) {
    for (const record of await Promise.all(plan.ids.map((id) => source.getJob(id)))) {
      if (record) yield record;
    }
    return;
  }
  let read = 0;
  for (const query of await listQueries(source, plan)) {
    let cursor: string | undefined;
    do {
      const page = await source.listJobs({ ...query, ...(cursor ? { cursor } : {}) });
      read += page.jobs.length;
      if (read > maxRecords)
        throw new JobValidationError(
          "filter",
          `reads more than ${maxRecords} jobs; the Jobs view sorts and counts in memory, so name a type, a shop (data.shopId), a status or a range of created`,
        );
      yield* page.jobs;
      cursor = page.cursor;
    } while (cursor);
  }
}

/** One listing query per (type, shop) the plan names: a type's shops only on its tenant key. */
async function listQueries(source: JobsSource, plan: FilterPlan): Promise<JobListQuery[]> {
  const types = plan.types ?? (await source.knownTypes());
  const common: JobListQuery = {
    limit: MAX_LIST_LIMIT,
    ...(plan.statuses ? { statuses: plan.statuses } : {}),
    ...(plan.createdFrom !== undefined ? { createdFrom: plan.createdFrom } : {}),
    ...(plan.createdTo !== undefined ? { createdTo: plan.createdTo } : {}),
  };
  return types.flatMap((type) => {
    const tenants = plan.dataValues.get(source.tenantKeyOf(type));
    // A job whose tenant field is "" has no tenant: only the type's whole listing holds it.
    if (!tenants || tenants.includes("")) return [{ ...common, type }];
    return tenants.map((tenant) => ({ ...common, type, tenant }));
  });
}
