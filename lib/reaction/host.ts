import type { BackendOptions } from "../backend/options.ts";
import { type JobBackend, startJobBackend } from "../backend.ts";
import { workersEnabledFromEnvironment } from "../environment.ts";
import type { WorkerHandle } from "../jobs/api.ts";
import type { Job } from "../jobs/job.ts";
import type { JobLogger } from "../log.ts";
import type { JobMetrics } from "../metrics.ts";
import { PluginRules } from "../plugin-rules.ts";
import { probeRegistration, registerProbeWorker } from "../probe-plugin.ts";
import {
  StartupGate,
  type StartupScheduling,
  startupSchedulingFromEnvironment,
} from "../startup-gate.ts";
import { backendFromEnvironment } from "./environment.ts";
import { type JobsSource, storeSource } from "./jobs-source.ts";

/** `context.backgroundJobs` as Reaction plugins see it. */
export interface ReactionBackgroundJobs {
  /** Resolves `undefined` and registers nothing when `REACTION_WORKERS_ENABLED=false`. */
  addWorker(options: Parameters<BackendJobs["addWorker"]>[0]): Promise<WorkerHandle | undefined>;
  /** Resolves `undefined` when skipped: called by a Lambda cold start's startup. */
  scheduleJob(options: Parameters<BackendJobs["scheduleJob"]>[0]): Promise<Job | undefined>;
  cancelJobs(filter: Record<string, unknown>): Promise<void>;
  getJob(id: string): Promise<Job | null>;
}

type BackendJobs = JobBackend["system"]["backgroundJobs"];

export interface JobQueueOptions {
  /**
   * The backend: `{ local: {...} }` or `{ aws: {...} }`. Default: the deployment's `JOBS_*`
   * environment when `JOBS_TABLE_NAME` is set, else the local stack in `JOBS_DATA_DIR`
   * (default `.data`).
   */
  backgroundJobs?: BackendOptions["backgroundJobs"];
  /** Default `REACTION_WORKERS_ENABLED` (true unless it says false). */
  workersEnabled?: boolean;
  /** Default: `"run"`, except in a Lambda function (see lib/startup-gate.ts). */
  startupScheduling?: StartupScheduling;
  logger?: JobLogger;
  metrics?: JobMetrics;
}

/** The Reaction plugin registration fields this plugin reads from every plugin. */
export interface PluginRegistration {
  name?: unknown;
  backgroundJobs?: unknown;
}

/**
 * What the `job-queue` plugin runs on: one job backend (the same `startJobBackend` the own
 * host uses), started by the plugin's `preStartup` and stopped by its `shutdown`. Calls made
 * before it has started wait for it, as with Reaction's original; a start that fails rejects
 * them with its error.
 */
export class JobQueueHost {
  readonly gate: StartupGate;
  readonly backgroundJobs: ReactionBackgroundJobs;
  private readonly rules = new PluginRules();
  private readonly workersEnabled: boolean;
  private backend?: JobBackend;
  private ready!: Promise<JobBackend>;
  private settle!: { resolve(backend: JobBackend): void; reject(error: unknown): void };
  private state: "new" | "starting" | "started" | "stopped" = "new";

  constructor(private readonly options: JobQueueOptions = {}) {
    this.workersEnabled = options.workersEnabled ?? workersEnabledFromEnvironment();
    this.resetReady();
    // The gate's one line goes to the backend's logger, which exists once the boot it reports on
    // has started the backend.
    this.gate = new StartupGate(
      options.startupScheduling ?? startupSchedulingFromEnvironment(),
      forwardingLogger(() => this.backend?.logger),
    );
    const jobs = async () => (await this.ready).system.backgroundJobs;
    this.backgroundJobs = {
      addWorker: async (o) => (this.workersEnabled ? (await jobs()).addWorker(o) : undefined),
      scheduleJob: async (o) =>
        this.gate.skips("scheduleJob") ? undefined : (await jobs()).scheduleJob(o),
      cancelJobs: async (f) =>
        this.gate.skips("cancelJobs") ? undefined : (await jobs()).cancelJobs(f),
      getJob: async (id) => (await jobs()).getJob(id),
    };
    // The built-in probe (`bgjobs doctor --probe`) runs wherever jobs run: see lib/probe-plugin.ts.
    this.registerPlugin(probeRegistration);
  }

  /**
   * Reads one plugin's `backgroundJobs` registration (Reaction's `registerPluginHandler` calls
   * this for every registered plugin, before any startup). Bad rules throw, naming the plugin
   * and the field.
   */
  registerPlugin(plugin: PluginRegistration): void {
    const name = typeof plugin.name === "string" ? plugin.name : "(unnamed plugin)";
    this.rules.add(name, plugin.backgroundJobs);
  }

  /** Starts the backend and releases the calls waiting for it. */
  async start(): Promise<void> {
    if (this.state === "starting" || this.state === "started")
      throw new Error("the job-queue plugin's backend is already started");
    this.state = "starting";
    try {
      this.backend = await startJobBackend({
        backgroundJobs: this.options.backgroundJobs ?? backendFromEnvironment(),
        cleanup: this.rules.cleanup,
        tenants: this.rules.tenants,
        ...(this.options.logger ? { logger: this.options.logger } : {}),
        ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
      });
    } catch (error) {
      this.state = "new";
      this.settle.reject(error);
      this.resetReady();
      throw error;
    }
    this.state = "started";
    this.settle.resolve(this.backend);
    await registerProbeWorker(this.backgroundJobs);
  }

  /**
   * Starts consuming: locally the poller and the reconciler timer; nothing on AWS. Not with
   * workers disabled: this process then runs no job (its jobs stay ready, as with Reaction's
   * original), where consuming would claim each one and fail it for want of a worker.
   */
  consume(): void {
    if (this.workersEnabled) this.backend?.consume();
  }

  /** Stops what `start` started. Calls made afterwards wait for a new start. */
  async stop(): Promise<void> {
    if (this.state !== "started") return;
    this.state = "stopped";
    const backend = this.backend;
    this.backend = undefined;
    this.resetReady();
    await backend?.stop();
  }

  /** The started backend (waits for the start). */
  started(): Promise<JobBackend> {
    return this.ready;
  }

  /** The job table as the `Jobs` view reads it (waits for the start). */
  async source(): Promise<JobsSource> {
    const { deps } = (await this.ready).system;
    return storeSource(deps.store, deps.tenants);
  }

  private resetReady(): void {
    this.ready = new Promise<JobBackend>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Nobody may be waiting when a start fails; the error is thrown by `start` itself.
    this.ready.catch(() => undefined);
  }
}

/** A logger that writes to whatever `current()` returns at the time of each line. */
function forwardingLogger(current: () => JobLogger | undefined): JobLogger {
  return {
    info: (message, fields) => current()?.info(message, fields),
    warn: (message, fields) => current()?.warn(message, fields),
    error: (message, fields) => current()?.error(message, fields),
    debug: (message, fields) => current()?.debug?.(message, fields),
  };
}
