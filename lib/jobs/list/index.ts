/**
 * The one listing engine: every list of jobs (the store's `listJobs`, the operator tools, the
 * Reaction `Jobs` view) is a filter (`filter.ts`, the one parser) read through these readers
 * (`readers.ts`: the listing index, or the open index for unfinished statuses), merged newest
 * first (`merge.ts`), and continued by one cursor form (`cursor.ts`).
 */
import { decodeCursor, type Position } from "./cursor.ts";
import { type ListFilter, onlyOpen, passes } from "./filter.ts";
import { type MergedPage, mergePage } from "./merge.ts";
import { type JobListPage, type JobListQuery, validateListQuery } from "./query.ts";
import { type ListScope, type ListSource, readersFor } from "./readers.ts";

export { decodeCursor, encodeCursor, newestFirst, type Position } from "./cursor.ts";
export {
  FILTER_FIELDS,
  instant,
  type JobFilter,
  type ListFilter,
  onlyOpen,
  passes,
  validateFilter,
} from "./filter.ts";
export type { MergedPage } from "./merge.ts";
export {
  type JobListPage,
  type JobListQuery,
  MAX_LIST_LIMIT,
  pageLimit,
  validateListQuery,
} from "./query.ts";
export type { ListScope, ListSource } from "./readers.ts";

/** How one page is read. */
export interface PageOptions {
  limit: number;
  /** The previous page's position (its decoded cursor). */
  after?: Position;
  /** Stop a page after this many index entries and records (default: no limit). */
  maxRead?: number;
  /** Stop a page after considering this many jobs, kept or not (default: no limit). */
  maxTaken?: number;
  /** The listings to merge; by default the filter's type (every known type without one), of its tenant. */
  scopes?: readonly ListScope[];
}

/**
 * One page of the jobs matching `filter`, newest first (`created`, then `_id`, descending).
 * Unfinished statuses only are read from the open index; anything else from the listing
 * index. Never a table scan.
 *
 * @example await listPage(store, validateFilter({ type: "sendEmail", statuses: "failed" }), { limit: 20 })
 */
export async function listPage(
  source: ListSource,
  filter: ListFilter,
  options: PageOptions,
): Promise<MergedPage> {
  const scopes =
    options.scopes ??
    (filter.type !== undefined ? [filter.type] : await source.knownTypes()).map((type) => ({
      type,
      ...(filter.tenant === undefined ? {} : { tenant: filter.tenant }),
    }));
  const from = filter.from ?? Number.MIN_SAFE_INTEGER;
  const to = Math.min(filter.to ?? Number.MAX_SAFE_INTEGER, options.after?.created ?? Infinity);
  const window = { from, to, ...(options.after ? { after: options.after } : {}) };
  const readers = readersFor(source, scopes, window, onlyOpen(filter), options.limit);
  return mergePage(source, readers, {
    limit: options.limit,
    ...(options.after ? { after: options.after } : {}),
    maxRead: options.maxRead ?? Number.POSITIVE_INFINITY,
    ...(options.maxTaken === undefined ? {} : { maxTaken: options.maxTaken }),
    keep: (record) => passes(record, filter),
  });
}

/**
 * Every job matching `filter`, page by page, newest first (a bulk action's or the Jobs view's
 * walk). Stable while jobs change status: listings are by creation time.
 *
 * @example for await (const page of walkPages(store, filter, { limit: 100 })) act(page.jobs)
 */
export async function* walkPages(
  source: ListSource,
  filter: ListFilter,
  options: Omit<PageOptions, "after">,
): AsyncGenerator<MergedPage> {
  let after: Position | undefined;
  for (;;) {
    const page = await listPage(source, filter, { ...options, ...(after ? { after } : {}) });
    yield page;
    if (!page.cursor) return;
    after = decodeCursor(page.cursor);
  }
}

/**
 * `listJobs` over a store's raw reads: a page of a type's or a tenant's jobs (see
 * `JobListQuery`). A page considers the next `limit` jobs of the listing and keeps those in
 * the statuses asked, so its cost is bounded and it may be shorter than `limit`. Throws a `JobValidationError` for a bad query (neither type nor tenant, a
 * limit outside 1..100, a cursor not from a page).
 *
 * @example await listJobs(store, { type: "sendEmail", tenant: "shop1", limit: 20 })
 */
export async function listJobs(source: ListSource, query: JobListQuery): Promise<JobListPage> {
  const { filter, limit, after } = validateListQuery(query);
  const page = await listPage(source, filter, {
    limit,
    maxTaken: limit,
    ...(after ? { after } : {}),
  });
  return {
    jobs: page.jobs,
    read: page.read,
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}
