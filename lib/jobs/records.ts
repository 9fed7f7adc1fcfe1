import { JobValidationError } from "../errors.ts";
import type { JobDeps } from "./deps.ts";
import type {
  AttemptOutcome,
  AttemptRecord,
  AuditEntry,
  JobLogEntry,
  JobRecord,
  JobStatus,
  JsonObject,
  OperatorAct,
} from "./types.ts";
import { MAX_RESULT_BYTES, toJsonValue, type ValidJobRequest } from "./validate.ts";

/**
 * Bounds on what a worker writes, so a record stays under DynamoDB's 400 KB whatever happens:
 * `data` (256 KiB in the record, more goes to the payload bucket: `payload.ts`) + result
 * (32 KB) + failures and log (16 KB each) + attempts and audit (8 KB each).
 */
const MAX_FAILURES_KEPT = 50;
const MAX_FAILURES_BYTES = 16 * 1024;
const MAX_FAILURE_MESSAGE = 4096;
export const MAX_LOG_ENTRIES = 50;
const MAX_LOG_BYTES = 16 * 1024;
const MAX_LOG_MESSAGE = 2048;
/** An operator's timeline: the last 20 attempts (8 KB), the last 50 operator actions (8 KB). */
export const MAX_ATTEMPTS_KEPT = 20;
const MAX_ATTEMPTS_BYTES = 8 * 1024;
const MAX_ATTEMPT_ERROR = 300;
export const MAX_AUDIT_KEPT = 50;
const MAX_AUDIT_BYTES = 8 * 1024;
const MAX_AUDIT_TEXT = 200;

/** A new job's record, ready to run at `now` (or at its schedule's first instant, for a template). */
export function newRecord(id: string, request: ValidJobRequest, now: number): JobRecord {
  return {
    ...readyToRun(id, request.retry.retries, now),
    type: request.type,
    data: request.data,
    priority: request.priority,
    retryWait: request.retry.retryWait,
    retryBackoff: request.retry.retryBackoff,
    retryUntil: request.retry.retryUntil,
    repeatRetries: request.retry.retries,
    repeated: 0,
  };
}

/** The fields of a job that is new and ready now: no attempt made, no history. */
function readyToRun(id: string, retries: number, now: number) {
  return {
    _id: id,
    status: "ready" as const,
    retries,
    retried: 0,
    after: now,
    created: now,
    updated: now,
    liveSince: now,
    progress: { completed: 0, total: 1, percent: 0 },
    failures: [],
    runId: null,
    log: [],
  };
}

/** A copy of a job to run now as a new job: its own id, a full retry budget, no history. */
export function freshRun(source: JobRecord, id: string, now: number): JobRecord {
  const copy: JobRecord = { ...source, ...readyToRun(id, source.repeatRetries, now) };
  for (const key of [
    "result",
    "expiresAt",
    "leaseUntil",
    "workTimeout",
    "repeat",
    "lastFiredAt",
    "lastOccurrenceId",
    "templateId",
    "nudges",
    "dueAt",
    "attempts",
    "audit",
    "runStartedAt",
    // The copy's data is written again under its own id: each record owns its payload.
    "dataRef",
  ] as const) {
    delete copy[key];
  }
  return copy;
}

/**
 * A worker's result as stored: an object as is, anything else as `{ value }` (Reaction's
 * shape). Refused with a `JobValidationError` naming `result` when it is not JSON or too large,
 * so `done()` fails loudly instead of never being stored.
 */
export function resultValue(result: unknown): JsonObject {
  const value = toJsonValue(result instanceof Error ? result.message : (result ?? {}), "result");
  const object =
    typeof value === "object" && value !== null && !Array.isArray(value) ? value : { value };
  const bytes = Buffer.byteLength(JSON.stringify(object), "utf8");
  if (bytes > MAX_RESULT_BYTES) {
    throw new JobValidationError(
      "result",
      `is ${bytes} bytes as JSON; the limit is ${MAX_RESULT_BYTES}. Store large results elsewhere and return a reference`,
    );
  }
  return object;
}

/** A failure as stored: `{ value }` with the message (Reaction's shape), or the object given. */
export function failureValue(error: unknown): JsonObject {
  if (error === undefined) return { value: "No error information provided" };
  if (error instanceof Error) return { value: error.message.slice(0, MAX_FAILURE_MESSAGE) };
  if (typeof error === "string") return { value: error.slice(0, MAX_FAILURE_MESSAGE) };
  try {
    const value = toJsonValue(error, "error");
    const object =
      typeof value === "object" && value !== null && !Array.isArray(value) ? value : { value };
    if (JSON.stringify(object).length <= MAX_FAILURE_MESSAGE) return object;
  } catch {
    // not JSON: its text below
  }
  return { value: String(error).slice(0, MAX_FAILURE_MESSAGE) };
}

/** The failures list with `failure` appended, oldest dropped to stay within its bounds. */
export function withFailure(failures: JsonObject[] | undefined, failure: JsonObject): JsonObject[] {
  return newestWithin([...(failures ?? []), failure], MAX_FAILURES_KEPT, MAX_FAILURES_BYTES);
}

/** A run's log as stored: entries with epoch times, oldest dropped to stay within bounds. */
export function storedLog(entries: JobLogEntry[]): JobRecord["log"] {
  const stored = entries.map((entry) => ({
    ...entry,
    message: entry.message.slice(0, MAX_LOG_MESSAGE),
    time: entry.time.getTime(),
  }));
  return newestWithin(stored, MAX_LOG_ENTRIES, MAX_LOG_BYTES);
}

/**
 * An attempt that ended now, for the record's history: its run, when it started (the claim),
 * how long the job had been due then, how it ended.
 */
export function endedAttempt(
  run: { runId: string; startedAt: number; waitMs?: number },
  outcome: AttemptOutcome,
  now: number,
  error?: unknown,
): AttemptRecord {
  const attempt: AttemptRecord = {
    runId: run.runId,
    startedAt: run.startedAt,
    endedAt: now,
    outcome,
  };
  if (run.waitMs !== undefined) attempt.waitMs = Math.max(0, run.waitMs);
  if (error !== undefined) attempt.error = errorText(error).slice(0, MAX_ATTEMPT_ERROR);
  return attempt;
}

/** The attempts list with `attempt` appended, oldest dropped to stay within its bounds. */
export function withAttempt(
  attempts: AttemptRecord[] | undefined,
  attempt: AttemptRecord,
): AttemptRecord[] {
  return newestWithin([...(attempts ?? []), attempt], MAX_ATTEMPTS_KEPT, MAX_ATTEMPTS_BYTES);
}

/** The audit trail with an operator's act appended (as a move `from` -> `to`), oldest dropped. */
export function withAudit(
  audit: AuditEntry[] | undefined,
  act: OperatorAct,
  from: JobStatus,
  to: JobStatus,
  now: number,
): AuditEntry[] {
  const entry: AuditEntry = {
    at: now,
    actor: act.actor.slice(0, MAX_AUDIT_TEXT),
    action: act.action.slice(0, MAX_AUDIT_TEXT),
    from,
    to,
  };
  if (act.detail !== undefined) entry.detail = act.detail.slice(0, MAX_AUDIT_TEXT);
  return newestWithin([...(audit ?? []), entry], MAX_AUDIT_KEPT, MAX_AUDIT_BYTES);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && "value" in error)
    return String((error as { value: unknown }).value);
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

function newestWithin<T>(items: T[], count: number, bytes: number): T[] {
  const kept: T[] = [];
  let total = 0;
  for (let i = items.length - 1; i >= 0 && kept.length < count; i -= 1) {
    const size = Buffer.byteLength(JSON.stringify(items[i]), "utf8");
    if (total + size > bytes && kept.length > 0) break;
    total += size;
    kept.unshift(items[i] as T);
  }
  return kept;
}

/** TTL for a job ending now, when its type has a cleanup rule. */
export function expiryFor(deps: JobDeps, type: string, now: number): { expiresAt?: number } {
  const days = deps.cleanup.get(type);
  return days === undefined ? {} : { expiresAt: Math.floor(now / 1000) + days * 86_400 };
}

/** The fields every log line about a job carries (never its data). */
export function jobFields(
  record: Pick<JobRecord, "_id" | "type" | "runId" | "retried" | "retries">,
  runId?: string | null,
) {
  const attempts = record.retried + record.retries;
  return {
    jobId: record._id,
    type: record.type,
    runId: runId ?? record.runId,
    attempt: record.retried,
    of: attempts >= Number.MAX_SAFE_INTEGER - 1 ? "forever" : attempts,
  };
}
