import { JobValidationError } from "../errors.ts";
import type { JobStore } from "../jobs/deps.ts";
import { forEachLimited } from "../jobs/enqueue.ts";
import { laneFor } from "../jobs/priority.ts";
import { FOREVER } from "../jobs/retry.ts";
import type { JobRecord } from "../jobs/types.ts";
import { onlyOpen, passes, type ValidFilter } from "./filter.ts";
import type { JobPage, JobSummary } from "./types.ts";

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;
export const DEFAULT_MAX_READ = 5000;
const PARALLEL_READS = 16;

type Position = [created: number, id: string];
/** Where one reader resumes: the store's own cursor, a position it has read up to, or its end. */
type ReaderResume = { c: string } | { p: Position } | null;
/** The page cursor: the last job returned, and readers that must not resume from it. */
interface Cursor {
  p?: Position;
  r: Record<string, ReaderResume>;
}

/**
 * Reads one stream of jobs, newest first, keeping those that pass the filter: the store's
 * `listJobs` (the write-once listing index), or for unfinished statuses only, the sparse open
 * index of one type (so "what is running" never walks a type's finished jobs).
 */
interface Reader {
  readonly key: string;
  readonly buffer: JobRecord[];
  done: boolean;
  fill(size: number): Promise<number>;
  /** With the buffer empty: where to go on from; `undefined` while it holds jobs. */
  resume(): ReaderResume | undefined;
}

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

/** A job as lists show it. */
export function toSummary(record: JobRecord): JobSummary {
  const summary: JobSummary = {
    id: record._id,
    type: record.type,
    status: record.status,
    lane: laneFor(record.priority),
    priority: record.priority,
    created: iso(record.created),
    updated: iso(record.updated),
    after: iso(record.after),
    attempts: record.retried,
    attemptsLeft: record.retries >= FOREVER - 1 ? "forever" : record.retries,
    progress: record.progress?.percent ?? 0,
  };
  if (record.tenant !== undefined) summary.tenant = record.tenant;
  const error = record.failures?.at(-1)?.value;
  if (error !== undefined) summary.lastError = String(error).slice(0, 300);
  if (record.repeat) summary.schedule = record.repeat.schedule;
  if (record.templateId) summary.templateId = record.templateId;
  return summary;
}

export function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function readerFor(store: JobStore, filter: ValidFilter, key: string, cursor: Cursor): Reader {
  const resume = cursor.r[key];
  const after = resume && "p" in resume ? resume.p : resume === undefined ? cursor.p : undefined;
  if (onlyOpen(filter)) return openReader(store, filter, key, resume === null, after);
  return listingReader(store, filter, key, resume, after);
}

/** A reader over the store's listing (`listJobs`). */
function listingReader(
  store: JobStore,
  filter: ValidFilter,
  key: string,
  resume: ReaderResume | undefined,
  after: Position | undefined,
): Reader {
  let storeCursor = resume && "c" in resume ? resume.c : undefined;
  // Resumed from a position: read from its instant and skip what is not strictly after it.
  const skipUpTo = storeCursor ? undefined : after;
  const to = skipUpTo ? Math.min(skipUpTo[0], filter.to ?? skipUpTo[0]) : filter.to;
  const reader: Reader = {
    key,
    buffer: [],
    done: resume === null,
    async fill(size) {
      const page = await store.listJobs({
        ...(key === "*" ? {} : { type: key }),
        ...(filter.tenant !== undefined ? { tenant: filter.tenant } : {}),
        ...(filter.from !== undefined ? { createdFrom: filter.from } : {}),
        ...(to !== undefined ? { createdTo: to } : {}),
        ...(filter.statuses ? { statuses: [...filter.statuses] } : {}),
        limit: size,
        ...(storeCursor ? { cursor: storeCursor } : {}),
      });
      for (const record of page.jobs) {
        if (skipUpTo && newerFirst(record, positionRecord(skipUpTo)) <= 0) continue;
        if (passes(record, filter)) reader.buffer.push(record);
      }
      storeCursor = page.cursor;
      if (!page.cursor) reader.done = true;
      return page.read;
    },
    resume() {
      if (reader.buffer.length > 0) return undefined;
      if (reader.done) return null;
      return storeCursor ? { c: storeCursor } : undefined;
    },
  };
  return reader;
}

/** A reader over one type's open index: unfinished jobs only, however many finished ones exist. */
function openReader(
  store: JobStore,
  filter: ValidFilter,
  type: string,
  finished: boolean,
  after: Position | undefined,
): Reader {
  let entries: Array<{ _id: string; created: number }> | undefined;
  let scanned: Position | undefined = after;
  const reader: Reader = {
    key: type,
    buffer: [],
    done: finished,
    async fill(size) {
      let read = 0;
      if (!entries) {
        const open = await store.openJobsOfType(type);
        read += open.length;
        entries = open
          .filter((entry) => filter.from === undefined || entry.created >= filter.from)
          .filter((entry) => filter.to === undefined || entry.created <= filter.to)
          .filter((entry) => !after || newerFirst(entry, positionRecord(after)) > 0)
          .sort(newerFirst);
      }
      const batch = entries.splice(0, size);
      const records = new Map<string, JobRecord>();
      await forEachLimited(batch, PARALLEL_READS, async (entry) => {
        const record = await store.getJob(entry._id);
        if (record) records.set(entry._id, record);
      });
      read += batch.length;
      for (const entry of batch) {
        const record = records.get(entry._id);
        if (record && passes(record, filter)) reader.buffer.push(record);
        scanned = [entry.created, entry._id];
      }
      if (entries.length === 0) reader.done = true;
      return read;
    },
    resume() {
      if (reader.buffer.length > 0) return undefined;
      if (reader.done) return null;
      return scanned ? { p: scanned } : undefined;
    },
  };
  return reader;
}

/** Newest first: `created` descending, then id descending (the listing index's order). */
function newerFirst(
  a: { created: number; _id: string },
  b: { created: number; _id: string },
): number {
  return b.created - a.created || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
}

function positionOf(record: JobRecord): Position {
  return [record.created, record._id];
}

function positionRecord(position: Position): { created: number; _id: string } {
  return { created: position[0], _id: position[1] };
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
