/**
 * The shapes the operations module takes and returns: what `bgjobs --json` prints and what
 * the dashboard's API answers, one definition for both. Times are ISO 8601 strings (UTC),
 * durations milliseconds.
 */
import type { JobFilter } from "../jobs/list/filter.ts";
import type { AttemptOutcome, JobStatus, JsonObject, JsonValue } from "../jobs/types.ts";
import type { LaneName } from "../resources.ts";

/** Which jobs: every field narrows; none given lists every known type (`lib/jobs/list/filter.ts`). */
export type { JobFilter };

export interface ListOptions {
  /** Page size, 1 to 100 (default 20). */
  limit?: number;
  /** From the previous page's `cursor`. */
  cursor?: string;
  /** Stop after reading this many index entries and records (default 5,000). */
  maxRead?: number;
}

/** A job as lists show it. */
export interface JobSummary {
  id: string;
  type: string;
  tenant?: string;
  status: JobStatus;
  lane: LaneName;
  priority: number;
  created: string;
  updated: string;
  /** When it is due (waiting), or was due. */
  after: string;
  /** Attempts made, and left. */
  attempts: number;
  attemptsLeft: number | "forever";
  /** The last failure's message. */
  lastError?: string;
  progress: number;
  /** A repeating job's template: its later.js text. */
  schedule?: string;
  /** An occurrence: its template's id. */
  templateId?: string;
}

export interface JobPage {
  jobs: JobSummary[];
  /** Present while more may follow. */
  cursor?: string;
  /** Index entries and records read for this page. */
  read: number;
  /** False when the page stopped at `maxRead` before it was full (more may match). */
  complete: boolean;
}

/** One attempt on a job's timeline (the running one has no end). */
export interface AttemptView {
  runId: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  waitMs?: number;
  outcome: AttemptOutcome | "running";
  error?: string;
}

export interface AuditView {
  at: string;
  actor: string;
  action: string;
  from: JobStatus;
  to: JobStatus;
  detail?: string;
}

export interface JobDetail extends JobSummary {
  /** The job's data, with secrets redacted (see `redactData`). */
  data: JsonObject;
  result?: JsonObject;
  progressDetail: { completed: number; total: number; percent: number };
  failures: JsonObject[];
  log: Array<{
    time: string;
    level: string;
    message: string;
    runId: string | null;
    data?: JsonObject;
  }>;
  attemptHistory: AttemptView[];
  audit: AuditView[];
  retry: { wait: number; backoff: string; until: string };
  runId: string | null;
  leaseUntil?: string;
  workTimeout?: number;
  repeat?: { schedule: string; form: string; expression?: string };
  lastOccurrenceId?: string;
  /** When DynamoDB's TTL purges it. */
  expiresAt?: string;
}

/** What an operator can do to jobs. */
export type JobAction =
  | "retry"
  | "cancel"
  | "pause"
  | "resume"
  | "promote"
  | "reschedule"
  | "delete";

export const JOB_ACTIONS: readonly JobAction[] = [
  "retry",
  "cancel",
  "pause",
  "resume",
  "promote",
  "reschedule",
  "delete",
];

/** `reschedule`'s changes; `retry`'s `retries` is how many more attempts (default 1). */
export interface ActionParams {
  /** New due time (ISO 8601 or epoch ms). */
  after?: string | number;
  /** A priority name or an integer. */
  priority?: string | number;
  /** Attempts: more attempts for `retry`, attempts left for `reschedule`. */
  retries?: number;
}

/** Which jobs an action is for: some ids, or every job matching a filter. */
export type ActionTarget = { ids: string[] } | { filter: JobFilter };

export interface ActionRequest {
  action: JobAction;
  target: ActionTarget;
  params?: ActionParams;
  /** Act on running jobs too (cancel, delete); they are skipped otherwise. */
  includeRunning?: boolean;
  /** Say what would change, change nothing. */
  dryRun?: boolean;
}

/** What became of one job. */
export interface ActionOutcome {
  id: string;
  outcome: "changed" | "skipped" | "failed";
  from?: JobStatus;
  to?: JobStatus | "deleted";
  reason?: string;
}

/** A bulk action's running count (progress) and its final report. */
export interface ActionReport {
  action: JobAction;
  dryRun: boolean;
  /** Jobs looked at (matching the target). */
  matched: number;
  changed: number;
  skipped: number;
  failed: number;
  /** Index entries and records read to find them. */
  read: number;
  /** Ids changed (the first 10,000). */
  changedIds: string[];
  /** Why jobs were skipped, with how many each. */
  skippedBecause: Record<string, number>;
  /** Jobs whose action failed, and the error (the first 100). */
  failures: Array<{ id: string; error: string }>;
  /** Stopped before the end (Ctrl-C, or the dashboard's stop). */
  interrupted: boolean;
  ms: number;
}

/** `countMatching`: how many jobs an action would look at, before it is confirmed. */
export interface MatchCount {
  matched: number;
  /** How many of them the action would change (the rest it skips, and why). */
  wouldChange: number;
  skippedBecause: Record<string, number>;
  read: number;
  /** Counting stopped at `maxCount`: at least this many match. */
  capped: boolean;
}

/** A repeating job's template as the schedules page shows it. */
export interface ScheduleView {
  id: string;
  type: string;
  tenant?: string;
  data: JsonObject;
  status: JobStatus;
  lane: LaneName;
  /** The later.js text, as given to `scheduleJob`. */
  text: string;
  /** The EventBridge expression armed for it, or `"chained"`. */
  eventBridge: string;
  chainedBecause?: string;
  /** The schedule in EventBridge Scheduler: its state, or missing (chains have no standing one). */
  scheduler?: { name: string; state: "ENABLED" | "DISABLED" | "missing" };
  warnings: string[];
  /** later.js's next 5 fire times (UTC). */
  next: string[];
  lastFiredAt?: string;
  lastOccurrence?: { id: string; status: JobStatus | "purged"; error?: string };
}

export interface ScheduleList {
  schedules: ScheduleView[];
  /** Scheduler entries in the job group whose template is gone or finished. */
  orphans: string[];
  /** Schedules later.js found no occurrence in: `scheduleJob` resolved and saved nothing. */
  refused: RefusedScheduleView[];
  read: number;
}

/**
 * A repeating job that was never saved because later.js found no occurrence in its schedule
 * (one per type and data; a later valid schedule for them clears it).
 */
export interface RefusedScheduleView {
  status: "refused";
  /** The refusal's key: the type and a hash of the data. */
  key: string;
  type: string;
  tenant?: string;
  /** The job's data (redacted), when it was small enough to keep. */
  data?: JsonObject;
  /** The later.js text, as given (its latest, if refused several times). */
  text: string;
  error: string;
  /** How often it was refused (each restart, settings update or deployment tries again). */
  count: number;
  firstAt: string;
  lastAt: string;
}

/** `describeSchedule` for a text, as `bgjobs schedules next` prints it. */
export interface ScheduleNext {
  text: string;
  eventBridge: string;
  chainedBecause?: string;
  next: string[];
  warnings: string[];
}

export interface LaneStats {
  lane: LaneName;
  /** Messages waiting to be received, received and not yet deleted, and delayed. */
  visible: number;
  inFlight: number;
  delayed: number;
  deadLetters: number;
  /** How long the longest-waiting due job of the lane has waited to start (from the records). */
  oldestWaitingMs: number | null;
  /** Messages wait and nothing receives them: no dispatcher, poller or event source runs. */
  noWorkers: boolean;
}

export interface DeadLetterView {
  lane: LaneName;
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt?: string;
  jobId?: string;
  type?: string;
  /** What a redrive would do with it, and why. */
  redrive: "redrive" | "drop";
  reason?: string;
  jobStatus?: JobStatus;
}

/** Per type and per lane over the last hour, from the records created in it. */
export interface MetricsRow {
  key: string;
  completed: number;
  failed: number;
  /** Failed attempts over ended attempts. */
  failureRate: number;
  /** Completions per minute over the window. */
  throughputPerMinute: number;
  waitP50?: number;
  waitP95?: number;
  runP50?: number;
  runP95?: number;
}

export interface TypeCounts {
  type: string;
  /** Unfinished jobs: exact, from the open index (keys only). */
  open: number;
  /** Status of the newest open jobs (all of them up to 500). */
  openByStatus: Partial<Record<JobStatus, number>>;
  openSampled: number;
  /** Jobs created in the window, by status now. */
  recentByStatus: Partial<Record<JobStatus, number>>;
  /** The window's jobs were read only up to the cap: more exist. */
  recentCapped: boolean;
}

export interface Overview {
  at: string;
  windowMinutes: number;
  types: TypeCounts[];
  byType: MetricsRow[];
  byLane: MetricsRow[];
  /** Completions and failures per minute over the window, oldest first (for the charts). */
  series: { minutes: number[]; completed: number[]; failed: number[] };
  lanes: LaneStats[];
  read: number;
}

export interface DoctorCheck {
  name: string;
  /** `fail` is a problem (`bgjobs doctor` exits 1); `warn` is worth knowing. */
  level: "ok" | "warn" | "fail";
  detail: string;
}

/** A JSON value an operator may type as a `data` filter's value. */
export type FilterValue = JsonValue;
