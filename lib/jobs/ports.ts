/**
 * The ports: what the lifecycle needs from a job table, lanes and a scheduler, and the
 * neutral shape of what a lane delivers. No AWS detail: the adapters are in `lib/aws/`, the
 * in-memory ones in `lib/memory/` (the test backend and the model check). Imports nothing of `lib/jobs/` but plain types.
 */
import type { JobLane } from "../resources.ts";
import type { JobRecord, JobStatus, ScheduleRefusal, ScheduleRefusalNote } from "./types.ts";

export type { Delivery, DeliveryOutcome } from "./delivery.ts";
export type { JobListPage, JobListQuery } from "./list/query.ts";
export type { ScheduleRefusal, ScheduleRefusalNote } from "./types.ts";

// ---- the job table --------------------------------------------------------------------------

/**
 * What the lifecycle needs from a job table. Every method is one conditional write or one
 * read; the DynamoDB adapter is `lib/aws/dynamo/job-store.ts`. Conditions that fail are results
 * (`null`, `false`, `"exists"`), never the store's own error names. The rules a store applies
 * are in `lib/jobs`: index keys (`index-keys.ts`), the cancel log's size and lifetime
 * (`cancel-log.ts`), reserved ids (`keys.ts`).
 */
export interface JobStore {
  /** Writes a new job, unless a job with its id exists. */
  insertJob(record: JobRecord): Promise<"inserted" | "exists">;
  /** Strongly consistent read; `null` for an unknown id or a record past its TTL. */
  getJob(id: string): Promise<JobRecord | null>;
  /**
   * Claims a due job of `claim.type` for a run: `ready`/`waiting` with `after <= now` (and not
   * a repeating job's template) becomes `running` with a fresh `runId` and a lease, one attempt
   * spent. On a lost race, or a job of another type, returns the record as it is.
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
   * still as read: its status `status` (a pause or resume in between wins) and its last firing
   * `previous` (`null`: none), which is earlier than `firedAt`. Two firings that read the same
   * template cannot both record.
   */
  recordFiring(
    id: string,
    firing: { firedAt: number; status: JobStatus; previous: number | null },
    changes: JobChanges,
  ): Promise<JobRecord | null>;
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
  /** Several jobs at once (`BatchGetItem`, strongly consistent); unknown and expired ids left out. */
  getJobs(ids: readonly string[]): Promise<JobRecord[]>;
  /**
   * Ids of a type's unfinished jobs, from the sparse, eventually consistent `open` index: all
   * of its shards, or a tenant's only (then only that tenant's jobs).
   */
  openJobsOfType(type: string, tenant?: string): Promise<Array<{ _id: string; created: number }>>;
  /**
   * A page of one `open` partition (`openKeysToRead` in `keys.ts`): ids due at or before
   * `before`, oldest first (running jobs too, whatever their lease); `next` continues it.
   */
  dueIn(openKey: string, before: number, next?: string): Promise<{ ids: string[]; next?: string }>;
  /**
   * Appends a cancel request to its type's log, which claims read, only while the log holds at
   * most `space.room` bytes; the log then counts `space.bytes` more. `"full"` when it holds more
   * (the caller then waits out the index lag instead). How big a log may grow is the caller's
   * rule (`cancelLogRoom` in `cancel-log.ts`), not the store's.
   */
  recordCancel(
    type: string,
    request: CancelRequest,
    space: CancelLogSpace,
  ): Promise<"recorded" | "full">;
  /** The cancel requests recorded for a type (strongly consistent). */
  cancelsFor(type: string): Promise<CancelRequest[]>;
  /** Drops these requests from the type's log (they have been applied); others stay. */
  dropCancels(type: string, applied: readonly CancelRequest[]): Promise<void>;
  /** Types whose cancel log holds a request made at or before `before`. */
  typesWithCancels(before: number): Promise<string[]>;
  /**
   * Saves this process's delivery front: the oldest `at` among the messages it holds or
   * received lately (see `front.ts`), as of `at`.
   */
  reportFront(processId: string, front: number, at: number): Promise<void>;
  /** The fronts processes reported (stale ones included), and where the last pass stopped. */
  reconcilerState(): Promise<ReconcilerState>;
  /** Where the next reconciler pass starts (`null`: from the beginning). */
  saveReconcilerPosition(position: string | null): Promise<void>;
  /** Forgets the fronts of these processes (reported long ago: gone). */
  forgetFronts(processIds: readonly string[]): Promise<void>;
  /**
   * One read of one `byType` listing shard, newest first (`created` descending), from its
   * `startKey` on: the raw read the listing engine (`lib/jobs/list/`) merges into pages.
   */
  readShard(read: ShardRead): Promise<ShardPage>;
  /** Every job type ever inserted (the types registry), sorted. */
  knownTypes(): Promise<string[]>;
  /**
   * Records a refused schedule under `key` (`refusalKeyFor`): the latest note, a count, the
   * first time. `null` forgets it (a valid schedule superseded it); an unknown key is a no-op.
   */
  noteScheduleRefusal(key: string, refusal: ScheduleRefusalNote | null): Promise<void>;
  /** Every recorded schedule refusal (one read), by key. */
  scheduleRefusals(): Promise<ScheduleRefusal[]>;
}

export interface ReconcilerState {
  fronts: Array<{ processId: string; front: number; at: number }>;
  position?: string;
}

/** An entry of the `byType` listing index: the keys and the projected tenant. */
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

export interface RunClaim {
  runId: string;
  /** The type whose worker slot the run takes: a job of another type is not claimed. */
  type: string;
  now: number;
  workTimeout: number;
}

/**
 * New field values for a job. The adapter keeps its index keys in step with `status` (open
 * jobs by type, due jobs by time) and writes `expiresAt` only when given.
 */
export type JobChanges = Partial<JobRecord> & { status: JobStatus };

/** A cancel request's share of its log (`bytes`), and the most the log may hold before it (`room`). */
export interface CancelLogSpace {
  bytes: number;
  room: number;
}

export interface CancelRequest {
  /** The filter as validated, JSON. */
  filter: string;
  /** When `cancelJobs` was called (epoch ms): only jobs live since before it are cancelled. */
  at: number;
}

// ---- lanes and schedules ----------------------------------------------------------------------

/** A message on a lane: the job id and type (for slot accounting), never the data. */
export interface JobMessage {
  id: string;
  type: string;
  /** On a repeating job's firing: the instant it fires for (ISO 8601). */
  firedAt?: string;
  /**
   * The fairness group: the job's tenant (as an SQS `MessageGroupId`: up to 128 printable
   * ASCII characters, else a hash of it), or `type:<type>` for a job without one. SQS fair
   * queues read the `MessageGroupId`; the local poller reads this.
   */
  group?: string;
  /** When the message became receivable (epoch ms): what the delivery front is made of. */
  at?: number;
  /**
   * Set on a message moved off a lane its type does not run on (lib/jobs/placement.ts). One
   * that arrives on the wrong lane again is not bounced back: the API servers and the
   * functions disagree about `JOBS_SERVER_TYPES`.
   */
  moved?: true;
}

/** What the lifecycle needs from the lanes. The SQS adapter is `lib/aws/lanes.ts`. */
export interface LaneQueue {
  /** Sends one message to a lane, delayed by up to 900 s (rounded up to whole seconds). */
  send(lane: JobLane, message: JobMessage, delaySeconds: number): Promise<void>;
  /** Sends many messages to a lane. */
  sendMany(lane: JobLane, messages: JobMessage[], delaySeconds: number): Promise<void>;
}

/**
 * What the lifecycle needs from EventBridge Scheduler: schedules whose target is a lane.
 * The adapter is `lib/aws/schedules.ts`.
 */
export interface ScheduleArmer {
  /**
   * A recurring `cron()`/`rate()` schedule; each firing sends `message` to `lane` with
   * `firedAt` set to the instant it fires for.
   */
  armRecurring(
    name: string,
    expression: string,
    startDate: Date | undefined,
    lane: JobLane,
    message: JobMessage,
  ): Promise<void>;
  /** A one-time `at()` schedule, deleted after it fires. Arming the same name again is a no-op. */
  armOnce(name: string, at: Date, lane: JobLane, message: JobMessage): Promise<void>;
  /** Deletes a schedule; a missing one is fine. */
  remove(name: string): Promise<void>;
}
