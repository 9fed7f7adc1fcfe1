import type { PayloadRef } from "./payload.ts";

/** Reaction's seven job statuses. */
export type JobStatus =
  | "waiting"
  | "paused"
  | "ready"
  | "running"
  | "failed"
  | "cancelled"
  | "completed";

/** Every status, in Reaction's order of a job's life. */
export const JOB_STATUSES: readonly JobStatus[] = [
  "waiting",
  "paused",
  "ready",
  "running",
  "failed",
  "cancelled",
  "completed",
];

export const CANCELLABLE: readonly JobStatus[] = ["running", "ready", "waiting", "paused"];
export const PAUSABLE: readonly JobStatus[] = ["ready", "waiting"];
export const REMOVABLE: readonly JobStatus[] = ["cancelled", "completed", "failed"];
export const RESTARTABLE: readonly JobStatus[] = ["cancelled", "failed"];
export const TERMINAL: readonly JobStatus[] = ["cancelled", "completed", "failed"];

export type Backoff = "constant" | "exponential";

export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export interface JobProgress {
  completed: number;
  total: number;
  percent: number;
}

export interface JobLogEntry {
  time: Date;
  runId: string | null;
  level: "info" | "success" | "warning" | "danger";
  message: string;
  data?: JsonObject;
}

/** The job document, with Reaction's field names, as `job._doc` exposes it. */
export interface JobDoc {
  _id: string;
  type: string;
  data: JsonObject;
  status: JobStatus;
  priority: number;
  /** Attempts left (Reaction counts attempts: `retry: { retries: 5 }` stores 6). */
  retries: number;
  /** Attempts made so far. */
  retried: number;
  retryWait: number;
  retryBackoff: Backoff;
  retryUntil: Date;
  /** The retry budget each occurrence of a repeating job starts with. */
  repeatRetries: number;
  after: Date;
  created: Date;
  updated: Date;
  progress: JobProgress;
  result?: JsonObject;
  failures: JsonObject[];
  runId: string | null;
  repeated: number;
  workTimeout?: number;
  /** While running: when the lease ends unless the worker heartbeats (`log`, `progress`). */
  expiresAfter?: Date;
}

/** The record as stored in DynamoDB: the document with times as epoch ms, plus bookkeeping. */
export interface JobRecord {
  _id: string;
  type: string;
  data: JsonObject;
  /**
   * Set when `data` was too large for the record (see `lib/jobs/payload.ts`): it is kept in the
   * payload bucket, and the store wrapper (`claim-check.ts`) reads it back into `data`.
   */
  dataRef?: PayloadRef;
  status: JobStatus;
  priority: number;
  retries: number;
  retried: number;
  retryWait: number;
  retryBackoff: Backoff;
  retryUntil: number;
  repeatRetries: number;
  after: number;
  created: number;
  updated: number;
  /**
   * When the job last became runnable by an explicit act (scheduled, restarted): a
   * `cancelJobs` request older than this does not touch it.
   */
  liveSince?: number;
  progress: JobProgress;
  result?: JsonObject;
  failures: JsonObject[];
  runId: string | null;
  repeated: number;
  log: Array<Omit<JobLogEntry, "time"> & { time: number }>;
  /** The last attempts that ended, oldest first (bounded: see `withAttempt`). */
  attempts?: AttemptRecord[];
  /** What operators did to this job, oldest first (bounded: see `withAudit`). */
  audit?: AuditEntry[];
  /** While running (and kept after): when the current or last run was claimed. */
  runStartedAt?: number;
  /**
   * The job's tenant (Reaction's shop), set once at insert: the value at its type's tenant key
   * (`data.shopId` unless a plugin names another) when that is a non-empty string.
   */
  tenant?: string;
  workTimeout?: number;
  leaseUntil?: number;
  /**
   * Index keys (see `lib/resources.ts`): `typeKey` and `openKey` are written once, at insert;
   * `dueAt` is present while the job is open.
   */
  typeKey?: string;
  openKey?: string;
  dueAt?: number;
  /** How often the reconciler re-sent this job's message since it was last due. */
  nudges?: number;
  /** TTL, epoch seconds. */
  expiresAt?: number;
  /** A repeating job's template: its later.js text and how it is armed. */
  repeat?: RepeatRule;
  /** Template: the last instant it fired for, and the occurrence that firing created. */
  lastFiredAt?: number;
  lastOccurrenceId?: string;
  /** Occurrence: the template it was created from. */
  templateId?: string;
}

/** One ended attempt of a job: what an operator's timeline shows. */
export interface AttemptRecord {
  runId: string;
  /** When the run was claimed (epoch ms). */
  startedAt: number;
  endedAt: number;
  /** How long the job had been due when this attempt started. */
  waitMs?: number;
  outcome: AttemptOutcome;
  /** The failure's message, shortened. */
  error?: string;
}

export type AttemptOutcome = "completed" | "retrying" | "failed" | "timed out" | "cancelled";

/** One operator action on a job, as its audit trail keeps it. */
export interface AuditEntry {
  /** Epoch ms. */
  at: number;
  /** Who: the operator's name as the CLI or the dashboard gives it (`--actor`, user@host). */
  actor: string;
  /** What: `retry`, `cancel`, `pause`, `resume`, `promote`, `reschedule`, `trigger`... */
  action: string;
  from: JobStatus;
  to: JobStatus;
  /** What else changed (`priority 0 -> -10`), when anything did. */
  detail?: string;
}

/** An operator's act, before the write that makes it an `AuditEntry`. */
export interface OperatorAct {
  actor: string;
  action: string;
  detail?: string;
}

export interface RepeatRule {
  /** The later.js text, as given to `scheduleJob`. */
  schedule: string;
  /** `cron`/`rate`: one recurring EventBridge schedule; `chain`: each firing arms the next. */
  form: "cron" | "rate" | "chain";
  expression?: string;
}

/** The document a user sees for a stored record. */
export function toDoc(record: JobRecord): JobDoc {
  const doc: JobDoc = {
    _id: record._id,
    type: record.type,
    data: record.data,
    status: record.status,
    priority: record.priority,
    retries: record.retries,
    retried: record.retried,
    retryWait: record.retryWait,
    retryBackoff: record.retryBackoff,
    retryUntil: new Date(record.retryUntil),
    repeatRetries: record.repeatRetries,
    after: new Date(record.after),
    created: new Date(record.created),
    updated: new Date(record.updated),
    progress: record.progress,
    failures: record.failures ?? [],
    runId: record.runId ?? null,
    repeated: record.repeated ?? 0,
  };
  if (record.result !== undefined) doc.result = record.result;
  if (record.status === "running") {
    if (record.workTimeout !== undefined) doc.workTimeout = record.workTimeout;
    if (record.leaseUntil !== undefined) doc.expiresAfter = new Date(record.leaseUntil);
  }
  return doc;
}

/** What one refusal of a schedule records (the store keeps the count and the first time). */
export interface ScheduleRefusalNote {
  type: string;
  /** The later.js text as given. */
  text: string;
  /** Why it was refused (later.js's parse position, or no occurrence). */
  error: string;
  /** The job's data when small (a few KB at most), else left out. */
  data?: JsonObject;
  tenant?: string;
  /** When it was refused (epoch ms). */
  at: number;
}

/** A recorded schedule refusal, as operators see it. */
export interface ScheduleRefusal extends ScheduleRefusalNote {
  key: string;
  /** How often it was refused (a restart, a settings update, each Lambda deployment...). */
  count: number;
  /** When it was first refused (epoch ms). */
  firstAt: number;
}
