/**
 * What the operations module needs besides the job lifecycle's own ports: queue depths and a
 * peek at the dead letters (SQS), the job schedule group's schedules (EventBridge Scheduler),
 * and the DLQ redrive. The adapters are in `lib/ops/aws/`; nothing here knows an AWS service.
 */
import type { RedriveReport } from "../aws/redrive.ts";
import type { JobDeps } from "../jobs/deps.ts";
import type { JsonObject } from "../jobs/types.ts";
import type { LaneName } from "../resources.ts";

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
  deadLetters: number;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  /** Epoch ms. */
  sentAt?: number;
}

export interface QueueInspector {
  /** A lane's approximate message counts, and its DLQ's. */
  depth(lane: LaneName): Promise<QueueDepth>;
  /** Up to `limit` messages of a lane's DLQ, left there (received, then made visible again). */
  peekDeadLetters(lane: LaneName, limit: number): Promise<DeadLetter[]>;
}

export interface StandingSchedule {
  name: string;
  state: "ENABLED" | "DISABLED";
}

/** The job schedule group, as operators see it. */
export interface ScheduleAdmin {
  /** Every schedule in the group (recurring `job-*` and one-time `at-*`). */
  list(): Promise<StandingSchedule[]>;
  /** The group itself (`GetScheduleGroup`): throws `ResourceNotFoundException` when it does not exist. */
  group(): Promise<{ name: string; state?: string }>;
  /**
   * Enables or disables a schedule without deleting it; `missing` when there is none. A
   * `rate()` schedule counts from its start date, which EventBridge refuses in the past on an
   * update: `startDate` (the next instant on its grid) replaces a past one.
   */
  setState(
    name: string,
    state: "ENABLED" | "DISABLED",
    startDate?: Date,
  ): Promise<"updated" | "missing">;
}

/** Redrives the lanes' DLQs (all, or some), reporting each message as it goes. */
export type Redrive = (options: {
  lanes?: readonly LaneName[];
  onMessage?: (done: number) => void;
}) => Promise<RedriveReport>;

/** Replaces secrets in a job's data before an operator sees it. */
export type Redact = (data: JsonObject, job: { id: string; type: string }) => JsonObject;

/** Everything the operations take. Built by `lib/ops/connect.ts`, or from a running app. */
export interface OpsDeps {
  /** The job lifecycle's dependencies: every write goes through its conditional operations. */
  jobs: JobDeps;
  queues: QueueInspector;
  schedules: ScheduleAdmin;
  redrive: Redrive;
  /** Who acts, for the audit trail (`user@host`, or `--actor`). */
  actor: string;
  redact: Redact;
}
