/**
 * The one dependencies object every operation takes: the ports (`ports.ts`, re-exported
 * here), the clock, the settings, the runs and workers of this process. Nothing here knows an
 * AWS service. This file imports nothing of `lib/jobs/` but plain types and the ports, so no
 * import circle can form.
 */
import type { JobLogger } from "../log.ts";
import type { JobMetrics } from "../metrics.ts";
import type { FrontState } from "./front.ts";
import type { CancelRequest, JobStore, LaneQueue, ScheduleArmer } from "./ports.ts";
import type { AttemptRecord, JobDoc, JobLogEntry, JobRecord, JsonObject } from "./types.ts";

export type * from "./ports.ts";

// ---- time -----------------------------------------------------------------------------------

/** Time as the lifecycle sees it: the real clock in production, a fake one in the model check. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};

// ---- runs in this process ------------------------------------------------------------------------

/** A run of a job in this process: the fence (`runId`), the lease, and how it ends. */
export interface RunContext {
  runId: string;
  jobId: string;
  workTimeout: number;
  leaseUntil: number;
  startedAt: number;
  /** How long the job had been due when this run claimed it. */
  waitMs?: number;
  /** The record's attempt history as claimed: the settle write appends this run to it. */
  attempts: AttemptRecord[];
  log: JobLogEntry[];
  /** `done`/`fail` was written for this run. */
  settled: boolean;
  /** The run is over for this process: settled, cancelled, taken over or timed out. */
  readonly ended: Promise<void>;
  /** Aborts when the run is cancelled, taken over or past its `workTimeout`. */
  readonly controller: AbortController;
  markSettled(): void;
  /** Ends the run here without a write (someone else changed the record): aborts the signal. */
  end(reason: string): void;
}

/** What a `Job` does through the lifecycle: the narrow interface `Job` depends on. */
export interface JobActions {
  complete(job: JobLike, run: RunContext, result: unknown): Promise<boolean>;
  fail(job: JobLike, run: RunContext, error: unknown, fatal: boolean): Promise<boolean>;
  heartbeat(job: JobLike, run: RunContext, changes: Partial<JobRecord>): Promise<boolean>;
  control(job: JobLike, action: ControlAction): Promise<boolean>;
  restart(job: JobLike, retries: number): Promise<boolean>;
  rerun(job: JobLike): Promise<string | false>;
  remove(job: JobLike): Promise<boolean>;
}

export type ControlAction = "cancel" | "pause" | "resume" | "ready" | "forceReady";

/** The part of a `Job` the lifecycle reads and refreshes. */
export interface JobLike {
  readonly _id: string;
  readonly type: string;
  _doc: JobDoc;
}

/** The job a worker is handed, as an interface (the class is `Job`). */
export interface RunningJob extends JobLike {
  readonly doc: JobDoc;
  readonly data: JsonObject;
  /** Aborts when the run is cancelled, taken over, or past `workTimeout`. */
  readonly signal: AbortSignal;
  done(result?: unknown, options?: { repeatId?: boolean; delayDeps?: number }): Promise<boolean>;
  fail(error?: unknown, options?: { fatal?: boolean }): Promise<boolean>;
  log(
    message: string,
    options?: { level?: JobLogEntry["level"]; data?: JsonObject; echo?: boolean },
  ): Promise<boolean>;
  progress(completed?: number, total?: number): Promise<boolean>;
}

/**
 * A worker: `(job) => Promise<void>`. Declared as a method so a worker typed `(job: Job)`
 * (the class) is accepted too.
 */
export type WorkerFunction = {
  bivarianceHack(job: RunningJob): unknown | Promise<unknown>;
}["bivarianceHack"];

// ---- the dependencies object ---------------------------------------------------------------------

export interface JobSettings {
  /** First pause before a failed message comes back, doubling per receive. Default 10 s. */
  redeliveryDelaySeconds: number;
  /** How often a running job's record is read to notice a cancel or takeover. Default 5 s. */
  runCheckIntervalMs: number;
  /** How long the type index may lag: cancel requests are swept again after it. Default 10 s. */
  indexSettleMs: number;
  /**
   * A ready job this far behind the delivery front (see `front.ts`) is taken to have lost its
   * message. Default 60 s.
   */
  staleAfterMs: number;
  /**
   * In Lambda: the dispatcher function's timeout. `addWorker` then refuses a `workTimeout`
   * that could not finish inside one invocation (see `RUN_TIME_RULE` in lib/resources.ts).
   */
  functionTimeoutMs?: number;
  /** How often a lagging process reports its delivery front. Default 10 s. */
  frontReportMs: number;
  /** How long one reconciler pass may work; the next goes on where it stopped. Default 40 s. */
  reconcileBudgetMs: number;
  /**
   * How long a claim may use a type's cancel log as last read; `cancelJobs` waits this long
   * after recording a request, so nothing starts after it resolved. Default 1 s.
   */
  cancelCacheMs: number;
}

export const DEFAULT_SETTINGS: JobSettings = {
  redeliveryDelaySeconds: 10,
  runCheckIntervalMs: 5000,
  indexSettleMs: 10_000,
  staleAfterMs: 60_000,
  frontReportMs: 10_000,
  reconcileBudgetMs: 40_000,
  cancelCacheMs: 1000,
};

/** Everything an operation may use. Built once per app; operations are plain functions over it. */
export interface JobDeps {
  store: JobStore;
  lanes: LaneQueue;
  /** EventBridge Scheduler: repeating jobs and waits past 900 s. Without it, long waits hop. */
  schedules?: ScheduleArmer;
  clock: Clock;
  logger: JobLogger;
  metrics: JobMetrics;
  /** purgeAfterDays by job type, from the plugins' `backgroundJobs.cleanup`. */
  cleanup: ReadonlyMap<string, number>;
  /** Tenant key path by job type (`"data.accountId"`), from `backgroundJobs.tenants`; default `data.shopId`. */
  tenants: ReadonlyMap<string, string>;
  /**
   * Job types that run on the API servers (`JOBS_SERVER_TYPES`): their messages travel on the
   * server lane (lib/jobs/placement.ts). None when omitted.
   */
  serverTypes?: ReadonlySet<string>;
  settings: JobSettings;
  /** The worker types registered in this process. */
  workers: WorkerSlotsRegistry;
  /** Runs in progress in this process, by runId: a cancel here ends them at once. */
  runs: Map<string, RunContext>;
  /** When this process last called `cancelJobs` for each type (see `liveFrom`). */
  cancelledAt: Map<string, number>;
  /** Each type's cancel log as last read, and when that read began (see `cancelledByLog`). */
  cancelLogs: Map<string, { readAt: number; requests: Promise<CancelRequest[]> }>;
  /** The messages this process holds and the oldest it received lately (`front.ts`). */
  front: FrontState;
  /** Builds the `Job` objects handed out (so operations need not import the class). */
  jobs: {
    of(doc: JobDoc): JobLike;
    running(doc: JobDoc, run: RunContext): RunningJob;
  };
}

/** A registered worker type's function and slots, as operations see it. */
export interface WorkerSlotsView {
  readonly type: string;
  readonly worker: WorkerFunction;
  readonly workTimeout: number;
  readonly paused: boolean;
  /** Resolves once a slot is held; the caller must `release()` it. */
  acquire(): Promise<void>;
  /** Takes a slot now if one is free (and nothing waits for one); the caller must `release()` it. */
  tryAcquire(): boolean;
  release(): void;
}

export interface WorkerSlotsRegistry {
  get(type: string): WorkerSlotsView | undefined;
}
