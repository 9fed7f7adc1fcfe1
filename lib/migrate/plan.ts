/**
 * What becomes of one job-collection document here: a job as it stood (waiting and ready ones
 * keep their times; finished ones their result and failures), a repeating job's template, a
 * run left by a dead server failed as the original's promoter fails it, or nothing (a finished
 * job its cleanup rule has already purged). Pure: no reads, no writes.
 */
import { JobValidationError } from "../errors.ts";
import { occurrenceIdFor } from "../jobs/keys.ts";
import { freshRun } from "../jobs/records.ts";
import { FOREVER, FOREVER_DATE } from "../jobs/retry.ts";
import { tenantOf } from "../jobs/tenant.ts";
import { type JobLogEntry, type JobRecord, type JobStatus, TERMINAL } from "../jobs/types.ts";
import { laterObjectText } from "../schedule/later-object.ts";
import { firstFireAfter, type LaterSchedule, parseScheduleText } from "../schedule/later-text.ts";
import { type ScheduleForm, toScheduleForm } from "../schedule/translate.ts";
import * as read from "./job-document.ts";

/** What a plan needs to know of this system: the time, and the plugins' tenant and cleanup rules. */
export interface PlanContext {
  now: number;
  tenants: ReadonlyMap<string, string>;
  cleanup: ReadonlyMap<string, number>;
}

/** A one-off job: its record, and whether it is due now, later, or never (finished, paused). */
export interface JobPlan {
  kind: "job";
  id: string;
  type: string;
  /** The status in MongoDB. */
  status: JobStatus;
  record: JobRecord;
}

/** A repeating job: its template, armed as `form`; a run it left unfinished, as an occurrence. */
export interface RepeatPlan {
  kind: "repeat";
  id: string;
  type: string;
  status: JobStatus;
  template: JobRecord;
  form: ScheduleForm;
  /** Its next occurrence was due already: fire it once now. */
  due: boolean;
  occurrence?: JobRecord;
}

/** A finished job whose cleanup rule would already have purged it: not imported. */
export interface ExpiredPlan {
  kind: "expired";
  id: string;
  type: string;
  status: JobStatus;
}

export type ImportPlan = JobPlan | RepeatPlan | ExpiredPlan;

/** The failure job-collection's promoter gives a run whose `expiresAfter` has passed. */
export const PROMOTER_FAILURE = "Failed for exceeding worker set workTimeout";
const IMPORTED = "Moved over from MongoDB (job-collection)";

/**
 * The plan for one document. A field the original would not have stored throws a
 * `JobValidationError` naming it; the caller reports that document and goes on.
 *
 * @example planDocument(doc, { now: Date.now(), tenants: new Map(), cleanup: new Map() })
 */
export function planDocument(doc: read.JobCollectionDocument, context: PlanContext): ImportPlan {
  const id = read.documentId(doc);
  const type = read.documentType(doc);
  const status = read.documentStatus(doc);
  const schedule = read.documentRepeat(doc);
  const record = baseRecord(doc, id, type, context);
  if (schedule && !TERMINAL.includes(status))
    return planRepeat(doc, record, status, schedule, context);
  // A finished occurrence of a repeating job is a finished job like any other.
  if (TERMINAL.includes(status)) return finished(record, status, context);
  if (status === "running") return afterDeadRun(doc, record, context);
  if (status === "paused") return { kind: "job", id, type, status, record: { ...record, status } };
  // Waiting or ready: due now (the promoter would make it ready) or waiting for its time.
  const due = record.after <= context.now;
  return {
    kind: "job",
    id,
    type,
    status,
    record: { ...record, status: due ? "ready" : "waiting" },
  };
}

/** The fields every imported job keeps as the original stored them. */
function baseRecord(
  doc: read.JobCollectionDocument,
  id: string,
  type: string,
  context: PlanContext,
): JobRecord {
  const data = read.documentData(doc);
  const created = read.time(doc, "created", context.now);
  const retries = read.count(doc, "retries", 1);
  const retried = read.count(doc, "retried", 0);
  const record: JobRecord = {
    _id: id,
    type,
    data,
    status: "waiting",
    priority: read.documentPriority(doc),
    retries,
    retried,
    retryWait: read.documentRetryWait(doc),
    retryBackoff: read.documentBackoff(doc),
    retryUntil: read.time(doc, "retryUntil", FOREVER_DATE),
    repeatRetries: read.count(doc, "repeatRetries", Math.min(FOREVER, retries + retried)),
    after: read.time(doc, "after", created),
    created,
    updated: read.time(doc, "updated", created),
    // Runnable since the move: a cancelJobs made before it does not reach it.
    liveSince: context.now,
    progress: read.documentProgress(doc),
    failures: read.documentFailures(doc),
    runId: null,
    repeated: read.count(doc, "repeated", 0),
    log: read.documentLog(doc, [logEntry(context.now, null, "info", IMPORTED)]),
  };
  const result = read.documentResult(doc);
  if (result !== undefined) record.result = result;
  const tenant = tenantOf(context.tenants, type, data);
  if (tenant !== undefined) record.tenant = tenant;
  return record;
}

/** Completed, failed, cancelled: kept as they are, with the TTL their cleanup rule gives. */
function finished(record: JobRecord, status: JobStatus, context: PlanContext): ImportPlan {
  const { liveSince: _, ...kept } = record;
  const days = context.cleanup.get(record.type);
  if (days === undefined)
    return { kind: "job", id: record._id, type: record.type, status, record: { ...kept, status } };
  const expiresAt = Math.floor(record.updated / 1000) + days * 86_400;
  if (expiresAt * 1000 <= context.now)
    return { kind: "expired", id: record._id, type: record.type, status };
  return {
    kind: "job",
    id: record._id,
    type: record.type,
    status,
    record: { ...kept, status, expiresAt },
  };
}

/**
 * A run whose server died (the old workers are stopped before the move): failed as
 * job-collection's promoter fails a running job past its `expiresAfter` (`src/server.coffee`
 * `_promote_jobs`, then `_DDPMethod_jobFail` in `src/shared.coffee`), at that instant or now if
 * later: non-fatal, so it waits `retryWait` (doubled per attempt made when exponential) and
 * runs again while attempts remain and `retryUntil` allows, else it ends `failed`.
 */
function afterDeadRun(
  doc: read.JobCollectionDocument,
  record: JobRecord,
  context: PlanContext,
): ImportPlan {
  const failed = deadRunOutcome(doc, record, context.now);
  const status: JobStatus = failed.retry ? "waiting" : "failed";
  const ended: JobRecord = {
    ...record,
    status,
    after: failed.after,
    updated: failed.at,
    failures: read.documentFailures({ failures: [...record.failures, failed.failure] }),
    log: read.documentLog({ log: [] }, [...record.log.map(asEntry), failed.log]),
  };
  if (status === "waiting")
    return { kind: "job", id: record._id, type: record.type, status: "running", record: ended };
  const plan = finished(ended, "failed", context);
  return { ...plan, status: "running" };
}

function deadRunOutcome(doc: read.JobCollectionDocument, record: JobRecord, now: number) {
  const runId = typeof doc.runId === "string" ? doc.runId : null;
  const at = Math.max(now, read.time(doc, "expiresAfter", now));
  const wait =
    record.retryBackoff === "exponential"
      ? record.retryWait * 2 ** Math.max(0, record.retried - 1)
      : record.retryWait;
  const after = Math.min(at + wait, Number.MAX_SAFE_INTEGER);
  const retry = record.retries > 0 && record.retryUntil >= after;
  return {
    at,
    after,
    retry,
    failure: { value: PROMOTER_FAILURE, runId },
    log: logEntry(
      at,
      runId,
      retry ? "warning" : "danger",
      `Job Failed with Error: ${PROMOTER_FAILURE}.`,
    ),
  };
}

/**
 * A repeating job (waiting, ready, paused, or running an occurrence): a template under the
 * document's id, armed on later's schedule from the document's next time. A running
 * occurrence is failed as the promoter would (see `afterDeadRun`) and kept as the occurrence
 * of the instant it ran for, so it retries as any occurrence does while the schedule goes on.
 */
function planRepeat(
  doc: read.JobCollectionDocument,
  record: JobRecord,
  status: JobStatus,
  schedule: LaterSchedule,
  context: PlanContext,
): RepeatPlan {
  const text = laterObjectText(schedule);
  // Refuses, naming the field, a schedule with no occurrence to come.
  let parsed: ReturnType<typeof parseScheduleText>;
  try {
    parsed = parseScheduleText(text, new Date(context.now));
  } catch (error) {
    throw new JobValidationError("repeatWait", (error as Error).message);
  }
  const form = toScheduleForm(parsed.schedule);
  const template: JobRecord = {
    ...record,
    status: status === "paused" ? "paused" : "waiting",
    retries: record.repeatRetries,
    retried: 0,
    failures: [],
    repeat: {
      schedule: text,
      form: form.kind,
      ...(form.kind === "chain" ? {} : { expression: form.expression }),
    },
  };
  delete template.result;
  const plan: RepeatPlan = {
    kind: "repeat",
    id: record._id,
    type: record.type,
    status,
    template,
    form,
    due: false,
  };
  if (status !== "running") {
    plan.due = template.status === "waiting" && template.after <= context.now;
    return plan;
  }
  // The run was for the instant the document was due at: that occurrence, failed as the promoter would.
  const occurrenceId = occurrenceIdFor(record._id, record.after);
  const failed = deadRunOutcome(doc, record, context.now);
  const occurrence: JobRecord = {
    ...freshRun(record, occurrenceId, context.now),
    status: failed.retry ? "waiting" : "failed",
    retries: record.retries,
    retried: record.retried,
    after: failed.after,
    updated: failed.at,
    created: record.after,
    failures: read.documentFailures({ failures: [...record.failures, failed.failure] }),
    log: read.documentLog({ log: [] }, [...record.log.map(asEntry), failed.log]),
    templateId: record._id,
  };
  if (!failed.retry) delete occurrence.liveSince;
  const days = context.cleanup.get(record.type);
  if (!failed.retry && days !== undefined)
    occurrence.expiresAt = Math.floor(failed.at / 1000) + days * 86_400;
  plan.occurrence = occurrence;
  plan.template = {
    ...template,
    after: firstFireAfter(parsed.schedule, new Date(context.now))?.getTime() ?? template.after,
    lastFiredAt: record.after,
    lastOccurrenceId: occurrenceId,
  };
  return plan;
}

function logEntry(
  at: number,
  runId: string | null,
  level: JobLogEntry["level"],
  message: string,
): JobLogEntry {
  return { time: new Date(at), runId, level, message };
}

function asEntry(entry: JobRecord["log"][number]): JobLogEntry {
  return { ...entry, time: new Date(entry.time) };
}
