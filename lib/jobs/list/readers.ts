import { typeKeysToRead } from "../keys.ts";
import type { JobStore, ListEntry } from "../ports.ts";
import { type Position, startsAfter } from "./cursor.ts";

/** The store reads the listing engine merges: raw reads, no ordering logic. */
export type ListSource = Pick<JobStore, "readShard" | "getJobs" | "knownTypes" | "openJobsOfType">;

/** One listing to merge: a type's jobs, or a type's jobs of one tenant. */
export interface ListScope {
  type: string;
  tenant?: string;
}

/** The part of the listing order a page reads: inclusive bounds on `created`, strictly after `after`. */
export interface ReadWindow {
  from: number;
  to: number;
  after?: Position;
}

/** The most index entries one shard read asks for. */
const MAX_SHARD_PAGE = 1000;

/**
 * One stream of index entries, newest first, read a page at a time. The merge takes an entry
 * only once no reader can still hold a newer one: a reader's unread entries have `created` at
 * most its `bound`.
 */
export interface EntryReader {
  /** Entries read and not merged yet (each within the window and of the scope's tenant). */
  entries: ListEntry[];
  /** Unread entries have `created` at most this; `-Infinity` once the reader is at its end. */
  bound: number;
  /** Reads on; resolves to how many index entries it evaluated. */
  read(): Promise<number>;
}

/**
 * The readers for some scopes: for unfinished statuses only, each scope's sparse open index
 * (so "what is running" never walks a type's finished jobs); otherwise each of the scope's
 * shards of the write-once `byType` listing index. `pageSize` is the rows of a first page.
 */
export function readersFor(
  source: ListSource,
  scopes: readonly ListScope[],
  window: ReadWindow,
  openOnly: boolean,
  pageSize: number,
): EntryReader[] {
  if (openOnly) return scopes.map((scope) => openReader(source, scope, window));
  const shards = scopes.flatMap((scope) =>
    typeKeysToRead(scope.type, scope.tenant).map((typeKey) => ({ typeKey, tenant: scope.tenant })),
  );
  const firstSize = Math.min(MAX_SHARD_PAGE, Math.ceil((2 * pageSize) / shards.length) + 1);
  return shards.map(({ typeKey, tenant }) =>
    shardReader(source, typeKey, tenant, window, firstSize),
  );
}

function shardReader(
  source: ListSource,
  typeKey: string,
  tenant: string | undefined,
  window: ReadWindow,
  firstSize: number,
): EntryReader {
  let startKey: unknown;
  let size = firstSize;
  const reader: EntryReader = {
    entries: [],
    bound: window.from > window.to ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
    async read() {
      const page = await source.readShard({
        typeKey,
        from: window.from,
        to: window.to,
        limit: size,
        ...(tenant === undefined ? {} : { tenant }),
        ...(startKey === undefined ? {} : { startKey }),
      });
      reader.entries.push(
        ...page.entries.filter(
          (entry) =>
            (tenant === undefined || entry.tenant === tenant) && startsAfter(entry, window.after),
        ),
      );
      size = Math.min(MAX_SHARD_PAGE, size * 2);
      startKey = page.next?.key;
      reader.bound = page.next ? page.next.created : Number.NEGATIVE_INFINITY;
      return page.evaluated;
    },
  };
  return reader;
}

/** The open index has no order or paging: one read takes the scope's unfinished jobs. */
function openReader(source: ListSource, scope: ListScope, window: ReadWindow): EntryReader {
  const reader: EntryReader = {
    entries: [],
    bound: window.from > window.to ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
    async read() {
      const open = await source.openJobsOfType(scope.type, scope.tenant);
      reader.entries.push(
        ...open.filter(
          (entry) =>
            entry.created >= window.from &&
            entry.created <= window.to &&
            startsAfter(entry, window.after),
        ),
      );
      reader.bound = Number.NEGATIVE_INFINITY;
      return open.length;
    },
  };
  return reader;
}
