/**
 * Reading one job-collection document (Reaction's `Jobs` collection in MongoDB) field by field:
 * each reader takes what the original stored and returns the value this system stores, or
 * throws a `JobValidationError` naming the field. No decision about what becomes of the job:
 * that is `plan.ts`.
 */
import { JobValidationError } from "../errors.ts";
import { jsonObject } from "../jobs/json.ts";
import { isReservedId } from "../jobs/keys.ts";
import { failureValue, resultValue, storedLog, withFailure } from "../jobs/records.ts";
import { DEFAULT_RETRY_WAIT_MS, FOREVER, FOREVER_DATE } from "../jobs/retry.ts";
import {
  type Backoff,
  JOB_STATUSES,
  type JobLogEntry,
  type JobRecord,
  type JobStatus,
  type JsonObject,
} from "../jobs/types.ts";
import { jobType, MAX_DATA_BYTES } from "../jobs/validate.ts";
import { laterObject } from "../schedule/later-object.ts";
import type { LaterSchedule } from "../schedule/later-text.ts";

/** A document of job-collection's `Jobs` collection, as the MongoDB driver returns it. */
export type JobCollectionDocument = Record<string, unknown>;

/** The document's id: job-collection's ids are strings (Meteor's `Random.id()`). */
export function documentId(doc: JobCollectionDocument): string {
  const id = doc._id;
  if (typeof id !== "string" || id === "")
    throw new JobValidationError("_id", `must be a non-empty string, got ${describe(id)}`);
  if (isReservedId(id))
    throw new JobValidationError("_id", "starts with #, which this table keeps for itself");
  if (id.length > 200) throw new JobValidationError("_id", "is longer than 200 characters");
  return id;
}

export function documentType(doc: JobCollectionDocument): string {
  return jobType(doc.type, "type");
}

export function documentStatus(doc: JobCollectionDocument): JobStatus {
  const status = doc.status;
  if (typeof status !== "string" || !JOB_STATUSES.includes(status as JobStatus))
    throw new JobValidationError(
      "status",
      `must be one of ${JOB_STATUSES.join(", ")}, got ${describe(status)}`,
    );
  return status as JobStatus;
}

/** `data` as JSON (Dates become ISO text, as `JSON.stringify` does), within the size a record holds. */
export function documentData(doc: JobCollectionDocument): JsonObject {
  const data = jsonObject(doc.data ?? {}, "data");
  const bytes = Buffer.byteLength(JSON.stringify(data), "utf8");
  if (bytes > MAX_DATA_BYTES)
    throw new JobValidationError(
      "data",
      `is ${bytes} bytes as JSON; the limit is ${MAX_DATA_BYTES}`,
    );
  return data;
}

/** An integer field; job-collection's `Job.forever` (2^53) is this system's `FOREVER`. */
export function count(doc: JobCollectionDocument, field: string, fallback: number): number {
  const value = doc[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new JobValidationError(field, `must be a non-negative integer, got ${describe(value)}`);
  return Math.min(value, FOREVER);
}

export function documentPriority(doc: JobCollectionDocument): number {
  const value = doc.priority ?? 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new JobValidationError("priority", `must be an integer, got ${describe(value)}`);
  return value;
}

export function documentBackoff(doc: JobCollectionDocument): Backoff {
  const value = doc.retryBackoff ?? "constant";
  if (value !== "constant" && value !== "exponential")
    throw new JobValidationError(
      "retryBackoff",
      `must be "constant" or "exponential", got ${describe(value)}`,
    );
  return value;
}

export function documentRetryWait(doc: JobCollectionDocument): number {
  return Math.min(count(doc, "retryWait", DEFAULT_RETRY_WAIT_MS), FOREVER_DATE);
}

/** A Date field as epoch ms (`Job.foreverDate` included). */
export function time(doc: JobCollectionDocument, field: string, fallback: number): number {
  const value = doc[field];
  if (value === undefined || value === null) return fallback;
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms))
    throw new JobValidationError(field, `must be a Date, got ${describe(value)}`);
  return Math.max(-FOREVER_DATE, Math.min(ms, FOREVER_DATE));
}

/** `progress` as `{ completed, total, percent }`, or the start of a run. */
export function documentProgress(doc: JobCollectionDocument): JobRecord["progress"] {
  const value = doc.progress as Record<string, unknown> | undefined;
  const numbers = ["completed", "total", "percent"].map((key) => value?.[key]);
  if (numbers.every((n) => typeof n === "number" && Number.isFinite(n))) {
    const [completed, total, percent] = numbers as number[];
    return { completed: completed as number, total: total as number, percent: percent as number };
  }
  return { completed: 0, total: 1, percent: 0 };
}

/** `result` as stored here (`{ value }` for a non-object), or `undefined` when there is none. */
export function documentResult(doc: JobCollectionDocument): JsonObject | undefined {
  return doc.result === undefined || doc.result === null ? undefined : resultValue(doc.result);
}

/** `failures`, the newest kept within the record's bounds. */
export function documentFailures(doc: JobCollectionDocument): JsonObject[] {
  const value = doc.failures ?? [];
  if (!Array.isArray(value)) throw new JobValidationError("failures", "must be an array");
  return value.reduce<JsonObject[]>(
    (kept, failure) => withFailure(kept, failureValue(failure)),
    [],
  );
}

const LOG_LEVELS = new Set(["info", "success", "warning", "danger"]);

/** The log, capped as every record's log is (the newest entries, within 16 KB). */
export function documentLog(doc: JobCollectionDocument, appended: JobLogEntry[]): JobRecord["log"] {
  const value = doc.log ?? [];
  if (!Array.isArray(value)) throw new JobValidationError("log", "must be an array");
  const entries = value.map((item, i): JobLogEntry => {
    const entry = (typeof item === "object" && item !== null ? item : {}) as Record<
      string,
      unknown
    >;
    const level = LOG_LEVELS.has(entry.level as string) ? entry.level : "info";
    const logged: JobLogEntry = {
      time: entry.time instanceof Date ? entry.time : new Date(0),
      runId: typeof entry.runId === "string" ? entry.runId : null,
      level: level as JobLogEntry["level"],
      message: typeof entry.message === "string" ? entry.message : String(entry.message ?? ""),
    };
    if (entry.data !== undefined && entry.data !== null) {
      try {
        logged.data = jsonObject(entry.data, `log[${i}].data`);
      } catch {
        // A log line's details are kept only as JSON; the line itself stays.
      }
    }
    return logged;
  });
  return storedLog([...entries, ...appended]);
}

/**
 * What the document repeats on: later.js's `{ schedules, exceptions }` when it repeats
 * (`repeats` > 0 and a schedule object), `undefined` when it does not. A wait in ms
 * (`repeat({ wait })`, which Reaction's `scheduleJob` never made) is refused naming `repeatWait`.
 */
export function documentRepeat(doc: JobCollectionDocument): LaterSchedule | undefined {
  const repeats = count(doc, "repeats", 0);
  const wait = doc.repeatWait;
  if (repeats === 0) return undefined;
  if (typeof wait === "number")
    throw new JobValidationError(
      "repeatWait",
      `is a wait of ${wait} ms; only later.js schedules ({ schedules, exceptions }) repeat here`,
    );
  return laterObject(wait, "repeatWait");
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "object")
    return (value as object).constructor?.name ?? "an object without prototype";
  return JSON.stringify(value) ?? String(value);
}
