import type { JobStore } from "../jobs/deps.ts";
import type { JobRecord } from "../jobs/types.ts";
import { onlyOpen, passes, type ValidFilter } from "./filter.ts";

/** A place in the listing order: `created`, then id, both descending. */
export type Position = [created: number, id: string];
/** Where one reader resumes: the store's own cursor, a position it has read up to, or its end. */
export type ReaderResume = { c: string } | { p: Position } | null;
/** A page cursor: the last job returned, and readers that must not resume from it. */
export interface Cursor {
  p?: Position;
  r: Record<string, ReaderResume>;
}

/**
 * Reads one stream of jobs, newest first, keeping those that pass the filter: the store's
 * `listJobs` (the write-once listing index), or for unfinished statuses only, the sparse open
 * index of one type (so "what is running" never walks a type's finished jobs).
 */
export interface Reader {
  readonly key: string;
  readonly buffer: JobRecord[];
  done: boolean;
  fill(size: number): Promise<number>;
  /** With the buffer empty: where to go on from; `undefined` while it holds jobs. */
  resume(): ReaderResume | undefined;
}

/** The reader for one listing key (a type, or `*` for a tenant across types), resuming as `cursor` says. */
export function readerFor(
  store: JobStore,
  filter: ValidFilter,
  key: string,
  cursor: Cursor,
): Reader {
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
        // With a tenant, only that tenant's shards of the open index.
        const open = await store.openJobsOfType(type, filter.tenant);
        read += open.length;
        entries = open
          .filter((entry) => filter.from === undefined || entry.created >= filter.from)
          .filter((entry) => filter.to === undefined || entry.created <= filter.to)
          .filter((entry) => !after || newerFirst(entry, positionRecord(after)) > 0)
          .sort(newerFirst);
      }
      const batch = entries.splice(0, size);
      const records = new Map(
        (await store.getJobs(batch.map((entry) => entry._id))).map((r) => [r._id, r]),
      );
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
export function newerFirst(
  a: { created: number; _id: string },
  b: { created: number; _id: string },
): number {
  return b.created - a.created || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
}

export function positionOf(record: JobRecord): Position {
  return [record.created, record._id];
}

function positionRecord(position: Position): { created: number; _id: string } {
  return { created: position[0], _id: position[1] };
}
