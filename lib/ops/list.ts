import { JobValidationError } from "../errors.ts";
import type { JobStore } from "../jobs/deps.ts";
import type { JobRecord } from "../jobs/types.ts";
import { onlyOpen, type ValidFilter } from "./filter.ts";
import { type Cursor, newerFirst, positionOf, type Reader, readerFor } from "./readers.ts";
import { toSummary } from "./summary.ts";
import type { JobPage } from "./types.ts";

export { iso, toSummary } from "./summary.ts";

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;
export const DEFAULT_MAX_READ = 5000;

/**
 * One page of jobs matching `filter`, newest first (`created`, then id, descending). With a
 * type or a tenant, one listing; with neither, every known type's listing merged. The cursor
 * is opaque; a page stops early (with a cursor, `complete: false`) after `maxRead` index
 * entries and records, so a rare match never reads a whole table in one request.
 *
 * @example await listPage(store, validateFilter({ statuses: ["failed"] }, now), { limit: 20 })
 */
export async function listPage(
  store: JobStore,
  filter: ValidFilter,
  options: { limit?: number; cursor?: string; maxRead?: number } = {},
): Promise<{ page: JobPage; records: JobRecord[] }> {
  const limit = pageLimit(options.limit);
  const maxRead = options.maxRead ?? DEFAULT_MAX_READ;
  const cursor = decodeCursor(options.cursor);
  const keys =
    filter.type !== undefined
      ? [filter.type]
      : filter.tenant !== undefined && !onlyOpen(filter)
        ? ["*"]
        : await store.knownTypes();
  const readers = keys.map((key) => readerFor(store, filter, key, cursor));
  const out: JobRecord[] = [];
  let read = 0;
  let complete = true;
  while (out.length < limit) {
    if (read >= maxRead) {
      complete = false;
      break;
    }
    const empty = readers.filter((reader) => reader.buffer.length === 0 && !reader.done);
    if (empty.length > 0) {
      const remaining = limit - out.length;
      const size =
        readers.length === 1
          ? Math.min(MAX_PAGE, remaining)
          : Math.min(MAX_PAGE, Math.max(5, Math.ceil(remaining / readers.length) + 1));
      const counts = await Promise.all(empty.map((reader) => reader.fill(size)));
      read += counts.reduce((sum, n) => sum + n, 0);
      // A reader that found nothing it keeps must be read on before any other is taken from.
      if (empty.some((reader) => reader.buffer.length === 0 && !reader.done)) continue;
    }
    let newest: Reader | undefined;
    for (const reader of readers) {
      const head = reader.buffer[0];
      if (head && (!newest || newerFirst(head, newest.buffer[0] as JobRecord) < 0)) newest = reader;
    }
    if (!newest) break;
    out.push(newest.buffer.shift() as JobRecord);
  }
  const more = readers.some((reader) => !reader.done || reader.buffer.length > 0);
  const page: JobPage = { jobs: out.map(toSummary), read, complete };
  if (more) {
    const last = out.at(-1);
    const next: Cursor = { r: {} };
    const p = last ? positionOf(last) : cursor.p;
    if (p) next.p = p;
    for (const reader of readers) {
      const resume = reader.resume();
      if (resume !== undefined) next.r[reader.key] = resume;
    }
    page.cursor = encodeCursor(next);
  }
  return { page, records: out };
}

/**
 * Every job matching `filter`, page by page (a bulk action's walk). Each page's `read` counts
 * toward the total; the walk is stable while jobs change status, since listings are by
 * creation time.
 */
export async function* walkMatching(
  store: JobStore,
  filter: ValidFilter,
): AsyncGenerator<{ records: JobRecord[]; read: number }> {
  let cursor: string | undefined;
  do {
    const { page, records } = await listPage(store, filter, {
      limit: MAX_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    yield { records, read: page.read };
    cursor = page.cursor;
  } while (cursor);
}

function pageLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new JobValidationError("limit", `must be an integer from 1 to ${MAX_PAGE}`);
  return limit;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

function decodeCursor(text: string | undefined): Cursor {
  if (text === undefined || text === "") return { r: {} };
  try {
    const cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (typeof cursor === "object" && cursor !== null && typeof cursor.r === "object")
      return cursor;
  } catch {
    // refused below
  }
  throw new JobValidationError("cursor", "is not a cursor from a previous page");
}
