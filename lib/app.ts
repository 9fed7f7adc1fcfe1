import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { RedriveReport } from "./aws/redrive.ts";
import type { BackendOptions } from "./backend/options.ts";
import { type JobBackend, startJobBackend } from "./backend.ts";
import { JobValidationError } from "./errors.ts";
import type { BackgroundJobs } from "./jobs/api.ts";
import type { JobDeps } from "./jobs/deps.ts";
import type { Job } from "./jobs/job.ts";
import type { ReconcileOptions, ReconcileReport } from "./jobs/reconcile.ts";
import type { TenantRule } from "./jobs/tenant.ts";
import type { CleanupRule } from "./jobs/validate.ts";
import { PluginRules } from "./plugin-rules.ts";
import { probePlugin } from "./probe-plugin.ts";
import type { LocalStackInfo } from "./stack.ts";
import {
  StartupGate,
  type StartupScheduling,
  startupSchedulingFromEnvironment,
} from "./startup-gate.ts";

export type { AwsBackendOptions, LocalBackendOptions } from "./backend/options.ts";
/** The deployment's resources from the environment the CDK construct sets (the name this package has always exported). */
export { resourcesFromEnvironment as awsOptionsFromEnvironment } from "./environment.ts";

/** The context handed to plugin startup/shutdown functions (Reaction's `context`, minimal). */
export interface AppContext {
  backgroundJobs: BackgroundJobs;
  app: App;
}

type PluginFunction = (context: AppContext) => unknown | Promise<unknown>;

/** Reaction's plugin shape, as far as background jobs go. */
export interface Plugin {
  name: string;
  backgroundJobs?: { cleanup?: CleanupRule[]; tenants?: TenantRule[] };
  functionsByType?: { startup?: PluginFunction[]; shutdown?: PluginFunction[] };
}

export interface AppOptions extends BackendOptions {
  /**
   * Whether the plugins' startup may schedule and cancel jobs. Default: `"run"`, except in a
   * Lambda function (`"skip"`: a cold start only registers workers; the deploy-time startup
   * function, with `JOBS_STARTUP_SCHEDULING=run`, schedules). See lib/startup-gate.ts.
   */
  startupScheduling?: StartupScheduling;
}

/**
 * A minimal host with Reaction's plugin shape.
 *
 * @example
 * const app = createApp({ backgroundJobs: { local: { dataDir: ".data" } } });
 * app.registerPlugin({ name: "files", functionsByType: { startup: [async (context) => {
 *   await context.backgroundJobs.addWorker({ type: "saveImage/local", async worker(job) { await job.done(); } });
 * }] } });
 * await app.start();
 * await app.context.backgroundJobs.scheduleJob({ type: "saveImage/local", data: {} });
 */
export function createApp(options: AppOptions = {}): App {
  return new App(options);
}

export class App {
  readonly context: AppContext;
  private readonly plugins: Plugin[] = [];
  private readonly rules = new PluginRules();
  private backend?: JobBackend;
  private ready!: Promise<JobBackend>;
  private markReady!: (backend: JobBackend) => void;
  private state: "new" | "starting" | "started" | "stopped" = "new";
  private gate?: StartupGate;

  constructor(private readonly options: AppOptions) {
    this.resetReady();
    const jobs = async () => (await this.ready).system.backgroundJobs;
    const skips = (call: "scheduleJob" | "cancelJobs") => this.gate?.skips(call) ?? false;
    const backgroundJobs: BackgroundJobs = {
      addWorker: async (o) => (await jobs()).addWorker(o),
      // A skipped call resolves `undefined`, as Reaction's addWorker does with workers disabled.
      scheduleJob: async (o) =>
        skips("scheduleJob") ? (undefined as unknown as Job) : (await jobs()).scheduleJob(o),
      cancelJobs: async (f) => (skips("cancelJobs") ? undefined : (await jobs()).cancelJobs(f)),
      getJob: async (id) => (await jobs()).getJob(id),
    };
    this.context = { backgroundJobs, app: this };
    // The built-in probe (`bgjobs doctor --probe`) runs wherever jobs run: see lib/probe-plugin.ts.
    this.registerPlugin(probePlugin);
  }

  /** Registers a plugin; its cleanup and tenant rules are validated now (see `PluginRules`). */
  registerPlugin(plugin: Plugin): void {
    if (typeof plugin !== "object" || plugin === null)
      throw new JobValidationError("plugin", "must be an object");
    if (typeof plugin.name !== "string" || plugin.name === "") {
      throw new JobValidationError("plugin.name", "must be a non-empty string");
    }
    this.rules.add(plugin.name, plugin.backgroundJobs);
    this.plugins.push(plugin);
  }

  /**
   * Starts the backend (the local stack, or AWS clients), then the plugins' startup functions
   * in order, then (locally) the poller and the reconciler timer.
   */
  async start(): Promise<void> {
    if (this.state === "starting" || this.state === "started")
      throw new Error("app already started");
    this.state = "starting";
    try {
      this.backend = await startJobBackend({
        ...this.options,
        cleanup: this.rules.cleanup,
        tenants: this.rules.tenants,
      });
      const backend = this.backend;
      this.markReady(backend);
      this.gate = new StartupGate(
        this.options.startupScheduling ?? startupSchedulingFromEnvironment(),
        backend.logger,
      );
      await this.gate.booting(async () => {
        for (const plugin of this.plugins) {
          for (const startup of plugin.functionsByType?.startup ?? []) await startup(this.context);
        }
      });
      backend.consume();
    } catch (error) {
      // A server or a plugin's startup failed: leave nothing running behind.
      await this.teardown();
      this.state = "new";
      throw error;
    }
    this.state = "started";
  }

  /** Runs the plugins' shutdown functions, then stops every server and timer this app started. */
  async stop(): Promise<void> {
    if (this.state !== "started") return;
    this.state = "stopped";
    for (const plugin of this.plugins) {
      for (const shutdown of plugin.functionsByType?.shutdown ?? []) await shutdown(this.context);
    }
    await this.teardown();
  }

  private async teardown(): Promise<void> {
    await this.backend?.stop();
    this.backend = undefined;
    this.resetReady();
  }

  /** The local stack's endpoints, table and queue URLs (local backend only, once started). */
  get local(): LocalStackInfo {
    if (!this.backend)
      throw new Error("app.local exists only for a started app with the local backend");
    return this.backend.local;
  }

  /**
   * The running job system's dependencies, for operator tools in this same process (the
   * dashboard `npm start` serves): a cancel from there ends a run here at once.
   */
  get jobDeps(): JobDeps {
    if (!this.backend) throw new Error("app.jobDeps exists only for a started app");
    return this.backend.system.deps;
  }

  /** The local stack's schedule group and scheduler role (local backend only, once started). */
  get localScheduling(): { scheduleGroup: string; schedulerRoleArn: string } {
    if (!this.backend) throw new Error("app.localScheduling exists only for a started local app");
    return this.backend.localScheduling;
  }

  /** The dispatcher: what the Lambda SQS handler and the local poller call. */
  async handleSqsEvent(
    event: SQSEvent,
    context?: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<SQSBatchResponse> {
    return (await this.ready).handleSqsEvent(event, context);
  }

  /** One reconciler pass (the scheduled Lambda calls it; locally a timer does). */
  async reconcile(options?: ReconcileOptions): Promise<ReconcileReport> {
    return (await this.ready).reconcile(options);
  }

  /**
   * Empties the lanes' dead-letter queues: live jobs go back on their lanes, poison and
   * finished jobs are dropped; the report says which.
   */
  async redriveDeadLetters(): Promise<RedriveReport> {
    return (await this.ready).redriveDeadLetters();
  }

  private resetReady(): void {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }
}
