import { JobValidationError } from "../errors.ts";
import type { JobLogger } from "../log.ts";
import { type JobMetrics, noMetrics } from "../metrics.ts";
import { RUN_TIME_RULE } from "../resources.ts";
import { cancelJobs } from "./cancel.ts";
import { control, remove, rerun, restart } from "./control.ts";
import {
  type Clock,
  DEFAULT_SETTINGS,
  type JobActions,
  type JobDeps,
  type JobSettings,
  type JobStore,
  type LaneQueue,
  type ScheduleArmer,
  systemClock,
  type WorkerFunction,
} from "./deps.ts";
import { requeueType } from "./enqueue.ts";
import { newFrontState } from "./front.ts";
import { Job } from "./job.ts";
import { runsOnServer } from "./placement.ts";
import { completeRun } from "./run/complete.ts";
import { failRun } from "./run/fail.ts";
import { heartbeat } from "./run/heartbeat.ts";
import { scheduleJob } from "./schedule-job.ts";
import { toDoc } from "./types.ts";
import {
  type AddWorkerOptions,
  type ScheduleJobOptions,
  validateWorkerOptions,
} from "./validate.ts";
import { WorkerRegistry } from "./workers.ts";

/** The handle `addWorker` resolves: Reaction's JobQueue controls that matter here. */
export interface WorkerHandle {
  readonly type: string;
  /** This process starts no more jobs of the type; they stay `ready`. */
  pause(): void;
  /** Starts jobs of the type again, re-enqueueing its ready jobs so they start promptly. */
  resume(): Promise<void>;
  /** Stops starting jobs of the type and resolves when the running ones have finished. */
  shutdown(): Promise<void>;
}

/** A worker as plugins write it: handed the `Job` of its run. */
export type Worker = (job: Job) => unknown | Promise<unknown>;

/** `context.backgroundJobs`. */
export interface BackgroundJobs {
  addWorker(options: AddWorkerOptions<Worker>): Promise<WorkerHandle>;
  scheduleJob(options: ScheduleJobOptions): Promise<Job>;
  cancelJobs(filter: Record<string, unknown>): Promise<void>;
  getJob(id: string): Promise<Job | null>;
}

export interface JobSystemOptions {
  store: JobStore;
  lanes: LaneQueue;
  schedules?: ScheduleArmer;
  logger: JobLogger;
  metrics?: JobMetrics;
  cleanup: ReadonlyMap<string, number>;
  /** Tenant key path by job type (from `backgroundJobs.tenants`); others use `data.shopId`. */
  tenants?: ReadonlyMap<string, string>;
  /** Job types that run on the API servers, on the server lane (`JOBS_SERVER_TYPES`). */
  serverTypes?: ReadonlySet<string>;
  clock?: Clock;
  settings?: Partial<JobSettings>;
}

/** One app's job system: the dependencies every operation takes, and the public API over them. */
export interface JobSystem {
  deps: JobDeps;
  workers: WorkerRegistry;
  backgroundJobs: BackgroundJobs;
}

/**
 * Builds the job system over its ports: the same for Lambda, the local stack and the model
 * check (in-memory ports, fake clock).
 *
 * @example
 * const { backgroundJobs } = createJobSystem({ store, lanes, logger, cleanup: new Map() });
 * await backgroundJobs.scheduleJob({ type: "hello", data: {} });
 */
export function createJobSystem(options: JobSystemOptions): JobSystem {
  const workers = new WorkerRegistry();
  const actions: JobActions = {
    complete: (job, run, result) => completeRun(deps, job, run, result),
    fail: (job, run, error, fatal) => failRun(deps, job, run, error, fatal),
    heartbeat: (job, run, changes) => heartbeat(deps, job, run, changes),
    control: (job, action) => control(deps, job, action),
    restart: (job, retries) => restart(deps, job, retries),
    rerun: (job) => rerun(deps, job),
    remove: (job) => remove(deps, job),
  };
  const deps: JobDeps = {
    store: options.store,
    lanes: options.lanes,
    ...(options.schedules ? { schedules: options.schedules } : {}),
    clock: options.clock ?? systemClock,
    logger: options.logger,
    metrics: options.metrics ?? noMetrics,
    cleanup: options.cleanup,
    tenants: options.tenants ?? new Map(),
    ...(options.serverTypes ? { serverTypes: options.serverTypes } : {}),
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    workers,
    runs: new Map(),
    cancelledAt: new Map(),
    cancelLogs: new Map(),
    front: newFrontState((options.clock ?? systemClock).now()),
    jobs: {
      of: (doc) => new Job(actions, doc),
      running: (doc, run) => new Job(actions, doc, run),
    },
  };
  const backgroundJobs: BackgroundJobs = {
    addWorker: async (o) => addWorker(deps, workers, o),
    scheduleJob: async (o) => (await scheduleJob(deps, o)) as Job,
    cancelJobs: (filter) => cancelJobs(deps, filter),
    getJob: async (id) => {
      if (typeof id !== "string" || id === "")
        throw new JobValidationError("id", "must be a job id string");
      const record = await deps.store.getJob(id);
      return record ? new Job(actions, toDoc(record)) : null;
    },
  };
  return { deps, workers, backgroundJobs };
}

function addWorker(
  deps: JobDeps,
  workers: WorkerRegistry,
  options: AddWorkerOptions<Worker>,
): WorkerHandle {
  const valid = validateWorkerOptions<WorkerFunction>(options);
  const { functionTimeoutMs } = deps.settings;
  // A server type never runs in Lambda (its messages never reach the dispatcher there).
  if (functionTimeoutMs !== undefined && !runsOnServer(deps, valid.type)) {
    const most = functionTimeoutMs - RUN_TIME_RULE.registerMarginMs;
    if (valid.workTimeout > most) {
      throw new JobValidationError(
        "workTimeout",
        `${valid.workTimeout} ms for "${valid.type}" is longer than a run can take in this Lambda function: its timeout (${functionTimeoutMs} ms) less ${RUN_TIME_RULE.registerMarginMs} ms for claiming and settling, at most ${most} ms. Raise the construct's dispatcherTimeout (up to 900 s) or split the work into shorter jobs`,
      );
    }
  }
  if (workers.has(valid.type)) {
    throw new JobValidationError("type", `"${valid.type}" already has a worker in this app`);
  }
  const slots = workers.add(valid.type, valid.worker, valid.workTimeout, valid.concurrency);
  return {
    type: valid.type,
    pause: () => {
      slots.paused = true;
      workers.notify();
    },
    resume: async () => {
      slots.paused = false;
      workers.notify();
      await requeueType(deps, valid.type);
    },
    shutdown: async () => {
      slots.paused = true;
      workers.notify();
      await slots.idle();
    },
  };
}
