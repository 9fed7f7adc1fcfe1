import { FOREVER, FOREVER_DATE } from "../jobs/retry.ts";
import { type JobRecord, toDoc } from "../jobs/types.ts";
import { laterSchedule } from "../schedule/later-text.ts";

/** job-collection's `repeatWait` of a job that does not repeat (`repeat(0)` in its constructor). */
const NO_REPEAT_WAIT_MS = 5 * 60 * 1000;

/** A job as Reaction's `Jobs` collection held it (vsivsi job-collection's document). */
export type ReactionJobDocument = Record<string, unknown> & { _id: string };

/**
 * The fields of a `Jobs` document: job-collection's own, plus `createdAt`/`updatedAt`, which
 * the email plugin's GraphQL `EmailJob` type declares but the original documents never had.
 */
export const DOCUMENT_FIELDS: ReadonlySet<string> = new Set([
  "_id",
  "type",
  "data",
  "status",
  "priority",
  "retries",
  "retried",
  "retryWait",
  "retryBackoff",
  "retryUntil",
  "repeatRetries",
  "repeats",
  "repeated",
  "repeatWait",
  "repeatUntil",
  "after",
  "created",
  "updated",
  "progress",
  "result",
  "failures",
  "log",
  "runId",
  "depends",
  "resolved",
  "workTimeout",
  "expiresAfter",
  "createdAt",
  "updatedAt",
]);

/**
 * A stored job as a `Jobs` document: Reaction's field names and types (Dates, `{ value }`
 * failures, the log with its times). A repeating job's template reads as job-collection's did:
 * `repeats` forever and `repeatWait` later.js's schedule; any other job repeats 0 times.
 *
 * @example toReactionDocument(record).updated // a Date
 */
export function toReactionDocument(record: JobRecord): ReactionJobDocument {
  const doc = toDoc(record);
  return {
    ...doc,
    repeats: record.repeat ? FOREVER : 0,
    repeatWait: record.repeat ? laterSchedule(record.repeat.schedule) : NO_REPEAT_WAIT_MS,
    repeatUntil: new Date(FOREVER_DATE),
    depends: [],
    resolved: [],
    log: (record.log ?? []).map((entry) => ({ ...entry, time: new Date(entry.time) })),
    createdAt: doc.created,
    updatedAt: doc.updated,
  };
}
