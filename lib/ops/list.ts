import type { JobStore } from "../jobs/deps.ts";
import {
  decodeCursor,
  type ListFilter,
  listPage as listEnginePage,
  MAX_LIST_LIMIT,
  pageLimit,
  walkPages,
} from "../jobs/list/index.ts";
import type { JobRecord } from "../jobs/types.ts";
import { toSummary } from "./summary.ts";
import type { JobPage } from "./types.ts";

export { iso, toSummary } from "./summary.ts";

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = MAX_LIST_LIMIT;
export const DEFAULT_MAX_READ = 5000;

/**
 * One page of jobs matching `filter`, newest first (`created`, then id, descending), read by
 * the one listing engine (`lib/jobs/list/`). The cursor is opaque; a page stops early (with a
 * cursor, `complete: false`) after `maxRead` index entries and records, so a rare match never
 * reads a whole table in one request.
 *
 * @example await listPage(store, validateFilter({ statuses: ["failed"] }, now), { limit: 20 })
 */
export async function listPage(
  store: JobStore,
  filter: ListFilter,
  options: { limit?: number; cursor?: string; maxRead?: number } = {},
): Promise<{ page: JobPage; records: JobRecord[] }> {
  const limit = pageLimit(options.limit, DEFAULT_PAGE);
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const merged = await listEnginePage(store, filter, {
    limit,
    maxRead: options.maxRead ?? DEFAULT_MAX_READ,
    ...(after ? { after } : {}),
  });
  const page: JobPage = {
    jobs: merged.jobs.map(toSummary),
    read: merged.read,
    complete: merged.complete,
    ...(merged.cursor ? { cursor: merged.cursor } : {}),
  };
  return { page, records: merged.jobs };
}

/**
 * Every job matching `filter`, page by page (a bulk action's walk). Each page's `read` counts
 * toward the total; the walk is stable while jobs change status, since listings are by
 * creation time.
 */
export async function* walkMatching(
  store: JobStore,
  filter: ListFilter,
): AsyncGenerator<{ records: JobRecord[]; read: number }> {
  for await (const page of walkPages(store, filter, {
    limit: MAX_PAGE,
    maxRead: DEFAULT_MAX_READ,
  })) {
    yield { records: page.jobs, read: page.read };
  }
}
