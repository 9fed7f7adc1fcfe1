import { JobValidationError } from "../errors.ts";
import { type ListScope, MAX_LIST_LIMIT, walkPages } from "../jobs/list/index.ts";
import type { JobRecord } from "../jobs/types.ts";
import type { FilterPlan } from "./filter.ts";
import type { JobsSource } from "./jobs-source.ts";

/**
 * The most job records one `Jobs` query reads before it is refused: sort, skip and count work
 * in memory over what the listing engine returns for the filter's types and shops.
 */
export const MAX_RECORDS_READ = 10_000;

/**
 * The records a filter can match, as few as its plan allows: by id (`getJob`); else the one
 * listing engine's pages of the plan's filter over each type it names (every known type when
 * none), or the type's jobs of each shop the filter names on the type's tenant key. Newest
 * first; unfinished statuses only come from the open index. Never a table scan. Refused past
 * `maxRecords` records, with a message on narrowing.
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
  const scopes = await scopesOf(source, plan);
  for await (const page of walkPages(source, plan.filter, { limit: MAX_LIST_LIMIT, scopes })) {
    read += page.jobs.length;
    if (read > maxRecords)
      throw new JobValidationError(
        "filter",
        `reads more than ${maxRecords} jobs; the Jobs view sorts and counts in memory, so name a type, a shop (data.shopId), a status or a range of created`,
      );
    yield* page.jobs;
  }
}

/** One listing per (type, shop) the plan names: a type's shops only on its tenant key. */
async function scopesOf(source: JobsSource, plan: FilterPlan): Promise<ListScope[]> {
  const types = plan.types ?? (await source.knownTypes());
  return types.flatMap((type) => {
    const tenants = plan.dataValues.get(source.tenantKeyOf(type));
    // A job whose tenant field is "" has no tenant: only the type's whole listing holds it.
    if (!tenants || tenants.includes("")) return [{ type }];
    return tenants.map((tenant) => ({ type, tenant }));
  });
}
