import { JobValidationError } from "../errors.ts";
import { jsonObject, toJsonValue } from "./json.ts";
import { checkDataSize } from "./payload.ts";
import { priorityValue } from "./priority.ts";
import { type RetryPolicy, retryPolicy } from "./retry.ts";
import type { JsonObject, JsonValue } from "./types.ts";

export { toJsonValue } from "./json.ts";

/** The largest `data` accepted (16 MiB of UTF-8 JSON, MongoDB's limit); see payload.ts. */
export { MAX_DATA_BYTES } from "./payload.ts";
/** The largest `cancelJobs` filter, as JSON: claims read pending filters until they are applied. */
export const MAX_CANCEL_FILTER_BYTES = 64 * 1024;
/** The largest `result` a worker may store, as JSON (the record must stay under 400 KB). */
export const MAX_RESULT_BYTES = 32 * 1024;
/** Job types are DynamoDB key values and log dimensions: keep them readable. */
export const MAX_TYPE_LENGTH = 256;

export interface ScheduleJobOptions {
  type: string;
  data?: Record<string, unknown>;
  retry?:
    | number
    | { retries?: number; wait?: number; backoff?: "constant" | "exponential"; until?: Date };
  priority?: string | number;
  schedule?: string;
  cancelRepeats?: boolean;
}

export interface ValidJobRequest {
  type: string;
  data: JsonObject;
  priority: number;
  retry: RetryPolicy;
  schedule?: string;
  cancelRepeats: boolean;
}

const SCHEDULE_KEYS = new Set(["type", "data", "retry", "priority", "schedule", "cancelRepeats"]);

/**
 * Checks `scheduleJob`'s options; throws a `JobValidationError` naming the field at fault.
 * `priority`, `retry` and `schedule` are read as Reaction's original read them (`if
 * (schedule) job.repeat(...)`): a falsy one (`""`, `null`, `0`, `false`) is as if not given,
 * so a shop setting left empty schedules a one-off job there too, instead of a rejection no
 * one awaits. A schedule of blanks reaches later.js, which finds no occurrence in it (see
 * `refuseSchedule`).
 */
export function validateScheduleOptions(options: unknown): ValidJobRequest {
  const input = plainOptions(options, "scheduleJob options", SCHEDULE_KEYS);
  const request: ValidJobRequest = {
    type: jobType(input.type, "type"),
    data: jobData(input.data),
    priority: priorityValue(given(input.priority)),
    retry: retryPolicy(given(input.retry)),
    cancelRepeats: false,
  };
  const schedule = given(input.schedule);
  if (schedule !== undefined) {
    if (typeof schedule !== "string") {
      throw new JobValidationError("schedule", 'must be later.js text such as "every 24 hours"');
    }
    request.schedule = schedule;
  }
  if (input.cancelRepeats !== undefined) {
    if (typeof input.cancelRepeats !== "boolean")
      throw new JobValidationError("cancelRepeats", "must be a boolean");
    request.cancelRepeats = input.cancelRepeats;
  }
  return request;
}

/** An option as the original's `if (option)` saw it: a falsy value is not given. */
function given(value: unknown): unknown {
  return value === "" || value === null || value === 0 || value === false ? undefined : value;
}

export interface AddWorkerOptions<W> {
  type: string;
  worker: W;
  workTimeout?: number;
  pollInterval?: number;
  concurrency?: number;
}

const WORKER_KEYS = new Set(["type", "worker", "workTimeout", "pollInterval", "concurrency"]);
export const DEFAULT_WORK_TIMEOUT_MS = 60_000;
export const DEFAULT_CONCURRENCY = 3;

/** Checks `addWorker`'s options; throws a `JobValidationError` naming the field at fault. */
export function validateWorkerOptions<W>(
  options: unknown,
): Required<Omit<AddWorkerOptions<W>, "pollInterval">> {
  const input = plainOptions(options, "addWorker options", WORKER_KEYS);
  if (typeof input.worker !== "function") {
    throw new JobValidationError("worker", "must be a function (job) => Promise<void>");
  }
  const workTimeout = positiveInteger(input.workTimeout ?? DEFAULT_WORK_TIMEOUT_MS, "workTimeout");
  if (workTimeout > 12 * 3600 * 1000) {
    throw new JobValidationError("workTimeout", "must be at most 12 hours (43,200,000 ms)");
  }
  if (
    input.pollInterval !== undefined &&
    (typeof input.pollInterval !== "number" || input.pollInterval < 0)
  ) {
    throw new JobValidationError(
      "pollInterval",
      "must be a non-negative number (it is accepted and ignored)",
    );
  }
  return {
    type: jobType(input.type, "type"),
    worker: input.worker as W,
    workTimeout,
    concurrency: positiveInteger(input.concurrency ?? DEFAULT_CONCURRENCY, "concurrency"),
  };
}

export interface CleanupRule {
  type: string;
  purgeAfterDays: number;
}

/** Checks a plugin's `backgroundJobs.cleanup` list. */
export function validateCleanup(cleanup: unknown, field: string): CleanupRule[] {
  if (cleanup === undefined) return [];
  if (!Array.isArray(cleanup))
    throw new JobValidationError(field, "must be an array of { type, purgeAfterDays }");
  return cleanup.map((rule, i) => {
    const entry = plainOptions(rule, `${field}[${i}]`, new Set(["type", "purgeAfterDays"]));
    return {
      type: jobType(entry.type, `${field}[${i}].type`),
      purgeAfterDays: positiveInteger(entry.purgeAfterDays, `${field}[${i}].purgeAfterDays`),
    };
  });
}

/** A `cancelJobs` filter: a type (or an id), whole `data`, and/or single `data.x.y` fields. */
export interface CancelFilter {
  type?: string;
  _id?: string;
  data?: JsonObject;
  /** `"data.shopId"` style keys: path below `data` -> value. */
  fields: Array<{ path: string[]; value: JsonValue }>;
}

/** Checks a `cancelJobs` filter. `status` is ignored, as in Reaction (it is always the cancellable set). */
export function validateCancelFilter(filter: unknown): CancelFilter {
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    throw new JobValidationError("filter", "must be an object such as { type, data }");
  }
  const result: CancelFilter = { fields: [] };
  for (const [key, value] of Object.entries(filter)) {
    if (key === "status") continue;
    if (key === "type") result.type = jobType(value, "filter.type");
    else if (key === "_id") {
      if (typeof value !== "string" || value === "")
        throw new JobValidationError("filter._id", "must be a job id");
      result._id = value;
    } else if (key === "data") result.data = jsonObject(value, "filter.data");
    else if (key.startsWith("data.") && key.length > 5) {
      const path = key.slice(5).split(".");
      if (path.some((part) => part === ""))
        throw new JobValidationError(`filter.${key}`, "is not a valid path");
      result.fields.push({ path, value: toJsonValue(value, `filter.${key}`) });
    } else {
      throw new JobValidationError(
        `filter.${key}`,
        "is not supported; filter on type, _id, data or data.<field>",
      );
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(result), "utf8");
  if (bytes > MAX_CANCEL_FILTER_BYTES) {
    throw new JobValidationError(
      "filter",
      `is ${bytes} bytes as JSON; the limit is ${MAX_CANCEL_FILTER_BYTES} (it is kept until the type index has caught up)`,
    );
  }
  if (result.type === undefined && result._id === undefined) {
    throw new JobValidationError(
      "filter.type",
      "is required (or filter._id): cancelJobs looks jobs up by type",
    );
  }
  return result;
}

export function plainOptions(
  value: unknown,
  field: string,
  allowed: Set<string>,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JobValidationError(field, "must be an object");
  }
  for (const key of Object.keys(value)) {
    if (!allowed.has(key))
      throw new JobValidationError(
        key,
        `is not an option; expected one of ${[...allowed].join(", ")}`,
      );
  }
  return value as Record<string, unknown>;
}

export function jobType(value: unknown, field: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new JobValidationError(field, 'must be a non-empty string such as "saveImage/local"');
  }
  if (value.length > MAX_TYPE_LENGTH) {
    throw new JobValidationError(
      field,
      `must be at most ${MAX_TYPE_LENGTH} characters, got ${value.length}`,
    );
  }
  return value;
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new JobValidationError(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function jobData(value: unknown): JsonObject {
  const data = jsonObject(value ?? {}, "data");
  // Up to MongoDB's 16 MiB; what does not fit the record goes to S3 (claim-check.ts).
  checkDataSize(JSON.stringify(data));
  return data;
}
