import type { JobRecord } from "../types.ts";
import { encodeCursor, newestFirst, type Position, startsAfter } from "./cursor.ts";
import type { EntryReader, ListSource } from "./readers.ts";

/** What one merged page asks for. */
export interface MergeRequest {
  limit: number;
  /** The previous page's position: this page starts strictly after it. */
  after?: Position;
  /** Stop once this many index entries and records are read (the page then has a cursor). */
  maxRead: number;
  /** Stop once this many entries were taken off the merge, kept or not (default: no limit). */
  maxTaken?: number;
  /** Whether a record belongs on the page (statuses and whatever the index cannot apply). */
  keep(record: JobRecord): boolean;
}

/** One page: records newest first, where to go on (while more may follow), what it cost. */
export interface MergedPage {
  jobs: JobRecord[];
  cursor?: string;
  /** Index entries evaluated plus records read. */
  read: number;
  /** False when the page stopped at `maxRead` before it was full. */
  complete: boolean;
}

/**
 * The newest-first merge over readers: an entry goes on the page only once no reader still
 * being read can hold a newer one, so the order is exact even when many jobs share a
 * `created`. Entries are taken in order, their records read in one batch per step and kept or
 * dropped; the cursor is the last entry considered, so no job comes twice or is skipped.
 *
 * @example await mergePage(source, readers, { limit: 20, maxRead: 5000, keep: () => true })
 */
export async function mergePage(
  source: ListSource,
  readers: readonly EntryReader[],
  request: MergeRequest,
): Promise<MergedPage> {
  const jobs: JobRecord[] = [];
  let read = 0;
  let position = request.after;
  let complete = true;
  let taken = 0;
  const maxTaken = request.maxTaken ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const bound = Math.max(Number.NEGATIVE_INFINITY, ...readers.map((reader) => reader.bound));
    const ready = readers
      .flatMap((reader) => reader.entries.filter((entry) => entry.created > bound))
      .sort(newestFirst);
    if (ready.length > 0) {
      const batch = ready.slice(0, Math.min(request.limit - jobs.length, maxTaken - taken));
      const ids = new Set(batch.map((entry) => entry._id));
      for (const reader of readers)
        reader.entries = reader.entries.filter((entry) => !ids.has(entry._id));
      const records = new Map(
        (await source.getJobs([...ids])).map((record) => [record._id, record]),
      );
      read += batch.length;
      taken += batch.length;
      for (const entry of batch) {
        position = { created: entry.created, id: entry._id };
        const record = records.get(entry._id);
        if (record && request.keep(record)) jobs.push(record);
      }
      if (jobs.length >= request.limit) break;
      if (read >= request.maxRead || taken >= maxTaken) {
        complete = false;
        break;
      }
      continue;
    }
    if (bound === Number.NEGATIVE_INFINITY) break; // every reader at its end
    // Out of budget with nothing left to take: everything newer than `bound` is considered.
    if (read >= request.maxRead && Number.isFinite(bound)) {
      const considered = { created: bound + 1, id: "" };
      if (!position || startsAfter({ created: considered.created, _id: "" }, position)) {
        position = considered;
        complete = false;
        break;
      }
    }
    // Read on where the page is held up: the readers whose unread entries may be the newest.
    const blocking = readers.filter((reader) => reader.bound === bound);
    for (const count of await Promise.all(blocking.map((reader) => reader.read()))) read += count;
  }
  const more = readers.some(
    (reader) => reader.bound > Number.NEGATIVE_INFINITY || reader.entries.length > 0,
  );
  // A page that stopped on its budget just as the listing ended holds every match: complete.
  return {
    jobs,
    read,
    complete: complete || !more,
    ...(more && position ? { cursor: encodeCursor(position) } : {}),
  };
}
