import type { LaneName } from "../resources.ts";
import type { JobRecord, JobStatus } from "./types.ts";

/**
 * What the job lifecycle needs from a job table. Every method is one conditional write or one
 * read; the DynamoDB adapter (`lib/aws/job-table.ts`) implements it.
 */
export interface JobStore {
  /** Writes a new job; fails if the id exists. */
  insertJob(record: JobRecord): Promise<void>;
  /** Strongly consistent read; `null` for an unknown id or a record past its TTL. */
  getJob(id: string): Promise<JobRecord | null>;
  /**
   * Claims a due job for a run: `ready`/`waiting` with `after <= now` becomes `running` with
   * a fresh `runId` and a lease, one attempt spent. On a lost race, returns the record as it is.
   */
  claimJob(
    id: string,
    claim: RunClaim,
  ): Promise<{ claimed: JobRecord } | { current: JobRecord | null }>;
  /** Ends or reschedules a run, only if `runId` still holds it (fencing). `null` when it did not. */
  settleRun(id: string, runId: string, changes: JobChanges): Promise<JobRecord | null>;
  /** Ends a run whose lease expired (its process died), only if it is still that run and expired. */
  expireRun(id: string, runId: string, now: number, changes: JobChanges): Promise<JobRecord | null>;
  /**
   * Records a repeating job's firing for `firedAt` on its template, only if the template is
   * still waiting (or paused) and has not fired for that instant or a later one.
   */
  recordFiring(id: string, firedAt: number, changes: JobChanges): Promise<JobRecord | null>;
  /** Extends a run's lease (and saves its progress/log), only if `runId` still holds it. */
  heartbeat(
    id: string,
    runId: string,
    leaseUntil: number,
    changes: Partial<JobRecord>,
  ): Promise<boolean>;
  /** Moves a job between statuses (cancel, pause, resume, restart...) only from `from`. */
  transition(
    id: string,
    from: readonly JobStatus[],
    changes: JobChanges,
  ): Promise<JobRecord | null>;
  /** Deletes a job only if its status is one of `from`. */
  removeJob(id: string, from: readonly JobStatus[]): Promise<boolean>;
  /** Ids of a type's unfinished jobs (from the sparse, eventually consistent index). */
  openJobsOfType(type: string): Promise<Array<{ _id: string; created: number }>>;
  /** Ids of jobs due at or before `before` (by `after`; running jobs included, whatever their lease). */
  dueJobs(before: number): Promise<string[]>;
  /** Appends a cancel request to its type's tombstone record, read at claim time. */
  recordCancel(type: string, request: CancelRecord): Promise<void>;
  /** The cancel requests recorded for a type (strongly consistent). */
  cancelsFor(type: string): Promise<CancelRecord[]>;
  /** Drops a type's tombstone once its requests are older than the index lag. */
  clearCancels(type: string, upTo: number): Promise<void>;
}

export interface RunClaim {
  runId: string;
  now: number;
  workTimeout: number;
}

/**
 * New field values for a job. The adapter keeps the sparse index keys in step with `status`
 * (open jobs by type, due jobs by time) and writes `expiresAt` only when given.
 */
export type JobChanges = Partial<JobRecord> & { status: JobStatus };

export interface CancelRecord {
  /** The filter as validated, JSON. */
  filter: string;
  /** When `cancelJobs` was called (epoch ms): only jobs created before it are cancelled. */
  at: number;
}

/** A message on a lane: it carries the job id (and type, for slot accounting), never the data. */
export interface JobMessage {
  id: string;
  type: string;
  /**
   * On a repeating job's firing: the instant it fires for (ISO 8601), or EventBridge's
   * `<aws.scheduler.scheduled-time>` placeholder, which the scheduler fills in.
   */
  firedAt?: string;
}

/** What the lifecycle needs from the lanes. The SQS adapter is `lib/aws/lanes.ts`. */
export interface LaneQueue {
  /** Sends one message to a lane, delayed by up to 900 s. */
  enqueue(lane: LaneName, message: JobMessage, delaySeconds: number): Promise<void>;
  /** Sends many messages to a lane (batches of 10). */
  enqueueMany(lane: LaneName, messages: JobMessage[], delaySeconds: number): Promise<void>;
  /**
   * Holds a received message back for `seconds` before SQS redelivers it (a failed message
   * backs off instead of returning at once or after the full visibility timeout).
   */
  delayRedelivery(queueArn: string, receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * What the lifecycle needs from EventBridge Scheduler: schedules whose target is a lane.
 * The adapter is `lib/aws/schedules.ts`.
 */
export interface ScheduleArmer {
  /** A recurring `cron()`/`rate()` schedule that sends `message` (with the fire time) to `lane`. */
  armRecurring(
    name: string,
    expression: string,
    startDate: Date | undefined,
    lane: LaneName,
    message: JobMessage,
  ): Promise<void>;
  /** A one-time `at()` schedule, deleted after it fires. Arming the same name again is a no-op. */
  armOnce(name: string, at: Date, lane: LaneName, message: JobMessage): Promise<void>;
  /** Deletes a schedule; a missing one is fine. */
  remove(name: string): Promise<void>;
}
