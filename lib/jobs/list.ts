import { JobValidationError } from "../errors.ts";
import { typeKeysToRead } from "./keys.ts";
import type { JobListPage, JobListQuery } from "./ports.ts";
import { JOB_STATUSES, type JobRecord, type JobStatus } from "./types.ts";

/** The largest page `listJobs` returns (a page's records are one `BatchGetItem`). */
export const MAX_LIST_LIMIT = 100;
/** The most index entries one shard read asks for. */
const MAX_SHARD_PAGE = 1000;
const QUERY_KEYS = new Set([
  "type",
  "tenant",
  "createdFrom",
  "createdTo",
  "statuses",
  "limit",
  "cursor",
]);

/** An entry of the `byType` index: the keys and the projected tenant. */
export interface ListEntry {
  _id: string;
  created: number;
  tenant?: string;
}

/** One read of one `byType` shard, newest first. */
export interface ShardRead {
  typeKey: string;
  /** Inclusive bounds on `created`. */
  from: number;
  to: number;
  /** Only entries of this tenant are returned (the others still count as evaluated). */
  tenant?: string;
  /** How many entries to evaluate at most. */
  limit: number;
  /** The store's own resume key from the previous read of this shard. */
  startKey?: unknown;
}

export interface ShardPage {
  entries: ListEntry[];
  /** Entries evaluated, the ones a tenant filter dropped included. */
  evaluated: number;
  /** Where this shard continues, and the `created` of the last entry evaluated; none at its end. */
  next?: { key: unknown; created: number };
}

/** What a store gives `listJobsFrom`: its statements, no ordering logic. */
export interface ListSource {
  readShard(read: ShardRead): Promise<ShardPage>;
  /** These jobs' records (unknown or expired ids left out), read in batches. */
  readRecords(ids: readonly string[]): Promise<JobRecord[]>;
  knownTypes(): Promise<string[]>;
}

interface ValidListQuery {
  type?: string;
  tenant?: string;
  from: number;
  to: number;
  statuses?: ReadonlySet<JobStatus>;
  limit: number;
  /** The last entry of the previous page: this page starts strictly after it. */
  after?: { created: number; id: string };
}

interface Shard {
  typeKey: string;
  entries: ListEntry[];
  startKey?: unknown;
  /** Entries of this shard not read yet have `created` at most this. */
  bound: number;
  done: boolean;
  size: number;
}

/**
 * `listJobs` over a store's shard reads: each shard is read newest first, and an entry goes on
 * the page only once no shard still being read can hold a newer one (a shard's unread entries
 * are no newer than the last it evaluated), so the merged order is exact even when many jobs
 * share a `created`. The cursor is the last entry put on the page; the next page starts
 * strictly after it in (`created` desc, `_id` desc) order, so no job comes twice or is skipped.
 *
 * @example await listJobsFrom(source, { type: "sendEmail", tenant: "shop1", limit: 20 })
 */
export async function listJobsFrom(source: ListSource, query: JobListQuery): Promise<JobListPage> {
  const q = validateListQuery(query);
  const to = q.after ? Math.min(q.to, q.after.created) : q.to;
  const types = q.type !== undefined ? [q.type] : await source.knownTypes();
  const keys = types.flatMap((type) => typeKeysToRead(type, q.tenant));
  const firstSize = Math.min(MAX_SHARD_PAGE, Math.ceil((2 * q.limit) / keys.length) + 1);
  const shards: Shard[] = keys.map((typeKey) => ({
    typeKey,
    entries: [],
    bound: Number.POSITIVE_INFINITY,
    done: q.from > to,
    size: firstSize,
  }));
  const wanted = (entry: ListEntry) =>
    (q.tenant === undefined || entry.tenant === q.tenant) && startsAfter(entry, q.after);
  let read = 0;
  for (;;) {
    const open = shards.filter((shard) => !shard.done);
    const bound = Math.max(Number.NEGATIVE_INFINITY, ...open.map((shard) => shard.bound));
    const ready = shards.flatMap((shard) => shard.entries).filter((e) => e.created > bound);
    if (ready.length >= q.limit || open.length === 0) {
      const page = ready.sort(newestFirst).slice(0, q.limit);
      const more = open.length > 0 || ready.length > page.length;
      const records = new Map(
        (await source.readRecords(page.map((entry) => entry._id))).map((r) => [r._id, r]),
      );
      read += page.length;
      const jobs = page
        .map((entry) => records.get(entry._id))
        .filter(
          (r): r is JobRecord => r !== undefined && (!q.statuses || q.statuses.has(r.status)),
        );
      const last = page.at(-1);
      return more && last ? { jobs, cursor: encodeCursor(last), read } : { jobs, read };
    }
    // Read on where the page is held up: the shards whose unread entries may be the newest.
    const blocking = open.filter((shard) => shard.bound === bound);
    await Promise.all(
      blocking.map(async (shard) => {
        const page = await source.readShard({
          typeKey: shard.typeKey,
          from: q.from,
          to,
          limit: shard.size,
          ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
          ...(shard.startKey === undefined ? {} : { startKey: shard.startKey }),
        });
        read += page.evaluated;
        shard.entries.push(...page.entries.filter(wanted));
        shard.size = Math.min(MAX_SHARD_PAGE, shard.size * 2);
        if (page.next) {
          shard.startKey = page.next.key;
          shard.bound = page.next.created;
        } else {
          shard.done = true;
        }
      }),
    );
  }
}

/** Newest first: `created` descending, then `_id` descending. */
function newestFirst(a: ListEntry, b: ListEntry): number {
  return b.created - a.created || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
}

function startsAfter(entry: ListEntry, after: ValidListQuery["after"]): boolean {
  if (!after) return true;
  return entry.created < after.created || (entry.created === after.created && entry._id < after.id);
}

function encodeCursor(entry: ListEntry): string {
  return Buffer.from(JSON.stringify([entry.created, entry._id]), "utf8").toString("base64url");
}

function decodeCursor(cursor: unknown): { created: number; id: string } {
  const refused = () =>
    new JobValidationError("cursor", "is not a cursor returned by a previous page");
  if (typeof cursor !== "string" || cursor === "") throw refused();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw refused();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isFinite(value[0]) ||
    typeof value[1] !== "string"
  )
    throw refused();
  return { created: value[0] as number, id: value[1] as string };
}

/** Checks a `listJobs` query; throws a `JobValidationError` naming the field at fault. */
export function validateListQuery(query: unknown): ValidListQuery {
  if (typeof query !== "object" || query === null || Array.isArray(query))
    throw new JobValidationError("query", "must be an object such as { type, limit }");
  const input = query as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!QUERY_KEYS.has(key))
      throw new JobValidationError(
        key,
        `is not a listJobs option; expected one of ${[...QUERY_KEYS].join(", ")}`,
      );
  }
  const valid: ValidListQuery = {
    from: createdBound(input.createdFrom, "createdFrom", Number.MIN_SAFE_INTEGER),
    to: createdBound(input.createdTo, "createdTo", Number.MAX_SAFE_INTEGER),
    limit: pageLimit(input.limit),
  };
  for (const field of ["type", "tenant"] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== "string" || value === "")
      throw new JobValidationError(field, "must be a non-empty string");
    valid[field] = value;
  }
  if (valid.type === undefined && valid.tenant === undefined)
    throw new JobValidationError("type, tenant", "at least one of type and tenant is required");
  if (valid.from > valid.to)
    throw new JobValidationError("createdFrom", `(${valid.from}) is after createdTo (${valid.to})`);
  if (input.statuses !== undefined) valid.statuses = statusSet(input.statuses);
  if (input.cursor !== undefined) valid.after = decodeCursor(input.cursor);
  return valid;
}

function createdBound(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new JobValidationError(
      field,
      `must be epoch milliseconds (an integer), got ${String(value)}`,
    );
  return value;
}

function pageLimit(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_LIST_LIMIT)
    throw new JobValidationError(
      "limit",
      `must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(value)}`,
    );
  return value;
}

function statusSet(value: unknown): ReadonlySet<JobStatus> {
  if (!Array.isArray(value) || value.length === 0)
    throw new JobValidationError(
      "statuses",
      `must be a non-empty array of ${JOB_STATUSES.join(", ")}`,
    );
  for (const [i, status] of value.entries()) {
    if (!JOB_STATUSES.includes(status as JobStatus))
      throw new JobValidationError(
        `statuses[${i}]`,
        `"${String(status)}" is not one of ${JOB_STATUSES.join(", ")}`,
      );
  }
  return new Set(value as JobStatus[]);
}
