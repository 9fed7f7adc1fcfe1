import { setMaxListeners } from "node:events";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  type AwsClients,
  createClients,
  type FaultInjector,
  type RequestCounter,
} from "./aws/clients.ts";
import { DynamoJobStore } from "./aws/job-table.ts";
import { SqsLanes } from "./aws/lanes.ts";
import { type RedriveReport, redriveDeadLetterQueues } from "./aws/redrive.ts";
import { EventBridgeSchedules } from "./aws/schedules.ts";
import { type SqsBatchHandler, sqsBatchHandler } from "./aws/sqs-batch.ts";
import { JobValidationError } from "./errors.ts";
import { type BackgroundJobs, createJobSystem, type JobSystem } from "./jobs/api.ts";
import { dispatch } from "./jobs/deliver.ts";
import { holdMessage, keepReporting } from "./jobs/front.ts";
import { messageAt } from "./jobs/message.ts";
import {
  type ReconcileOptions,
  type ReconcileReport,
  reconcile,
  requeueAll,
} from "./jobs/reconcile.ts";
import {
  type CleanupRule,
  type TenantRule,
  validateCleanup,
  validateTenants,
} from "./jobs/validate.ts";
import { LocalPoller } from "./local/poller.ts";
import { type LocalStack, type LocalStackInfo, startLocalStack } from "./local/stack.ts";
import { type JobLogger, jsonLogger, silentLogger, terminalLogger } from "./log.ts";
import { envNames } from "./names.ts";
import {
  type JobMetrics,
  noMetrics,
  powertoolsLogger,
  powertoolsMetrics,
} from "./observability.ts";
import { LANES, type LaneName } from "./resources.ts";

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

export interface LocalBackendOptions {
  /** Where DynamoDB Local keeps its data (persists across restarts). In memory when omitted. */
  dataDir?: string;
  /** No terminal output. */
  quiet?: boolean;
  /** Reconciler period locally (on AWS a scheduled Lambda runs every minute). Default 5 s. */
  reconcileIntervalMs?: number;
  /** Reconciler settings (how long before a due job counts as lost, index settle time). */
  reconcile?: ReconcileOptions;
  /** How often a running job's record is read to notice a cancel elsewhere. Default 5 s. */
  runCheckIntervalMs?: number;
  /** Test hook: make the type index lag this many ms, as a GSI on AWS may. */
  simulateIndexLagMs?: number;
  /** Counts every AWS request by operation (the bench uses it). */
  requestCounter?: RequestCounter;
  /** First delay before a failed message comes back (doubling per receive). Default 10 s. */
  redeliveryDelaySeconds?: number;
  /** The lanes' visibility timeout locally (default: as on AWS, 6 x the function timeout). */
  visibilityTimeoutSeconds?: number;
  /** Test hook: fail chosen AWS calls (`"SQS.SendMessage"`...) by returning an error. */
  injectFault?: FaultInjector;
}

export interface AwsBackendOptions {
  region?: string;
  tableName: string;
  queueUrls: Record<LaneName, string>;
  /** The lanes' dead-letter queues (for `redriveDeadLetters`). */
  deadLetterQueueUrls?: Record<LaneName, string>;
  /** EventBridge Scheduler group and the role it sends to the lanes with (repeating jobs, long waits). */
  scheduleGroup?: string;
  schedulerRoleArn?: string;
  /** Only to point the same code at other servers (tests); AWS needs none. */
  endpoints?: { dynamodb?: string; sqs?: string; scheduler?: string };
  credentials?: { accessKeyId: string; secretAccessKey: string };
  requestCounter?: RequestCounter;
}

export interface AppOptions {
  /** Job metrics; in Lambda, CloudWatch EMF through Powertools (namespace `JOBS_METRICS_NAMESPACE`). */
  metrics?: JobMetrics;
  /** `{ local: {...} }` runs the embedded local stack; `{ aws: {...} }` talks to AWS. Omitted: AWS, from the environment the CDK construct sets. */
  backgroundJobs?: { local?: LocalBackendOptions; aws?: AwsBackendOptions };
  logger?: JobLogger;
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
  private readonly cleanup = new Map<string, number>();
  private readonly tenants = new Map<string, string>();
  private stack?: LocalStack;
  private clients?: AwsClients;
  private poller?: LocalPoller;
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling?: Promise<unknown>;
  private dispatchAbort?: AbortController;
  private deadLetterQueueUrls?: Record<LaneName, string>;
  private ready!: Promise<JobSystem>;
  private markReady!: (system: JobSystem) => void;
  private sqsHandler?: SqsBatchHandler;
  private state: "new" | "starting" | "started" | "stopped" = "new";

  constructor(private readonly options: AppOptions) {
    this.resetReady();
    const jobs = async () => this.ready;
    const backgroundJobs: BackgroundJobs = {
      addWorker: async (o) => (await jobs()).backgroundJobs.addWorker(o),
      scheduleJob: async (o) => (await jobs()).backgroundJobs.scheduleJob(o),
      cancelJobs: async (f) => (await jobs()).backgroundJobs.cancelJobs(f),
      getJob: async (id) => (await jobs()).backgroundJobs.getJob(id),
    };
    this.context = { backgroundJobs, app: this };
  }

  /** Registers a plugin; its cleanup and tenant rules are validated now. */
  registerPlugin(plugin: Plugin): void {
    if (typeof plugin !== "object" || plugin === null)
      throw new JobValidationError("plugin", "must be an object");
    if (typeof plugin.name !== "string" || plugin.name === "") {
      throw new JobValidationError("plugin.name", "must be a non-empty string");
    }
    const rules = validateCleanup(
      plugin.backgroundJobs?.cleanup,
      `${plugin.name}.backgroundJobs.cleanup`,
    );
    const field = `${plugin.name}.backgroundJobs.tenants`;
    const tenants = validateTenants(plugin.backgroundJobs?.tenants, field);
    for (const [i, { type, key }] of tenants.entries()) {
      const known = this.tenants.get(type);
      if (known !== undefined && known !== key)
        throw new JobValidationError(
          `${field}[${i}]`,
          `"${type}" already has tenant key "${known}"`,
        );
    }
    for (const rule of rules) this.cleanup.set(rule.type, rule.purgeAfterDays);
    for (const { type, key } of tenants) this.tenants.set(type, key);
    this.plugins.push(plugin);
  }

  /** Starts the backend (the local stack, or AWS clients), then the plugins' startup functions in order. */
  async start(): Promise<void> {
    if (this.state === "starting" || this.state === "started")
      throw new Error("app already started");
    this.state = "starting";
    try {
      await this.startBackend();
    } catch (error) {
      // A server or a plugin's startup failed: leave nothing running behind.
      await this.teardown();
      this.state = "new";
      throw error;
    }
    this.state = "started";
  }

  private async startBackend(): Promise<void> {
    const { local } = this.options.backgroundJobs ?? {};
    const inLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && !local;
    const logger =
      this.options.logger ??
      (local
        ? local.quiet
          ? silentLogger
          : terminalLogger()
        : inLambda
          ? powertoolsLogger()
          : jsonLogger());
    const metrics =
      this.options.metrics ??
      (inLambda
        ? powertoolsMetrics(process.env.JOBS_METRICS_NAMESPACE ?? "BackgroundJobs")
        : noMetrics);
    let tableName: string;
    let queueUrls: Record<LaneName, string>;
    let scheduling: { groupName: string; roleArn: string } | undefined;
    if (local) {
      this.stack = await startLocalStack({
        logger,
        ...(local.dataDir ? { dataDir: local.dataDir } : {}),
        ...(local.requestCounter ? { requestCounter: local.requestCounter } : {}),
        ...(local.injectFault ? { injectFault: local.injectFault } : {}),
        ...(local.visibilityTimeoutSeconds !== undefined
          ? { visibilityTimeoutSeconds: local.visibilityTimeoutSeconds }
          : {}),
      });
      this.clients = this.stack.clients;
      tableName = this.stack.tableName;
      queueUrls = this.stack.queueUrls;
      scheduling = { groupName: this.stack.scheduleGroup, roleArn: this.stack.schedulerRoleArn };
      this.deadLetterQueueUrls = this.stack.deadLetterQueueUrls;
    } else {
      const aws = this.options.backgroundJobs?.aws ?? awsOptionsFromEnvironment();
      this.clients = createClients({
        region: aws.region ?? process.env.AWS_REGION ?? "us-east-1",
        ...(aws.endpoints ? { endpoints: aws.endpoints } : {}),
        ...(aws.credentials ? { credentials: aws.credentials } : {}),
        ...(aws.requestCounter ? { requestCounter: aws.requestCounter } : {}),
      });
      tableName = aws.tableName;
      queueUrls = aws.queueUrls;
      if (aws.deadLetterQueueUrls) this.deadLetterQueueUrls = aws.deadLetterQueueUrls;
      if (aws.scheduleGroup && aws.schedulerRoleArn) {
        scheduling = { groupName: aws.scheduleGroup, roleArn: aws.schedulerRoleArn };
      }
    }
    const system = createJobSystem({
      store: new DynamoJobStore(this.clients.documents, {
        tableName,
        ...(local?.simulateIndexLagMs ? { simulateIndexLagMs: local.simulateIndexLagMs } : {}),
      }),
      lanes: new SqsLanes(this.clients.sqs, queueUrls),
      ...(scheduling
        ? {
            schedules: new EventBridgeSchedules(this.clients.scheduler, {
              ...scheduling,
              queueUrls,
            }),
          }
        : {}),
      logger,
      metrics,
      cleanup: this.cleanup,
      tenants: this.tenants,
      settings: {
        ...(local?.redeliveryDelaySeconds !== undefined
          ? { redeliveryDelaySeconds: local.redeliveryDelaySeconds }
          : {}),
        ...(local?.runCheckIntervalMs !== undefined
          ? { runCheckIntervalMs: local.runCheckIntervalMs }
          : {}),
        ...local?.reconcile,
      },
    });
    this.dispatchAbort = new AbortController();
    const stopping = this.dispatchAbort.signal;
    // Every run and the delivery front's reporting loop listen on it: no leak warning past 10.
    setMaxListeners(0, stopping);
    this.sqsHandler = sqsBatchHandler(this.clients.sqs, queueUrls, (deliveries) =>
      dispatch(system.deps, deliveries, stopping),
    );
    this.markReady(system);
    if (local && this.stack) {
      // fauxqs keeps no messages across restarts: put every open job's message back.
      const requeued = await requeueAll(system.deps);
      if (requeued > 0)
        logger.info("requeued", { jobs: requeued, note: "open jobs from the data folder" });
    }
    for (const plugin of this.plugins) {
      for (const startup of plugin.functionsByType?.startup ?? []) await startup(this.context);
    }
    if (local && this.stack) {
      this.poller = new LocalPoller({
        sqs: this.clients.sqs,
        queueUrls: this.stack.queues.queueUrls,
        queueArns: this.stack.queues.queueArns,
        region: this.stack.region,
        handler: this.sqsHandler,
        freeFor: (type) => system.workers.freeFor(type),
        capacityChanged: (ms) => system.workers.nextChange(ms),
        hold: (messageId, message) => {
          holdMessage(system.deps, messageId, messageAt(message));
          keepReporting(system.deps, stopping);
        },
        logger,
      });
      this.poller.start();
      const interval = local.reconcileIntervalMs ?? 5000;
      this.reconcileTimer = setInterval(() => {
        if (this.reconciling) return;
        this.reconciling = reconcile(system.deps)
          .catch((error: unknown) =>
            logger.error("reconcile failed", { error: (error as Error).message }),
          )
          .finally(() => {
            this.reconciling = undefined;
          });
      }, interval);
    }
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

  /** Ends the poller, the timers, the waits on runs, the clients and the local servers. */
  private async teardown(): Promise<void> {
    clearInterval(this.reconcileTimer);
    await this.poller?.stop();
    this.dispatchAbort?.abort();
    await this.reconciling;
    if (this.stack) await this.stack.stop();
    else {
      this.clients?.dynamodb.destroy();
      this.clients?.sqs.destroy();
      this.clients?.scheduler.destroy();
    }
    this.poller = undefined;
    this.stack = undefined;
    this.resetReady();
  }

  /** The local stack's endpoints, table and queue URLs (local backend only, once started). */
  get local(): LocalStackInfo {
    if (!this.stack)
      throw new Error("app.local exists only for a started app with the local backend");
    const { endpoints, tableName, queueUrls, deadLetterQueueUrls, region } = this.stack;
    return { endpoints, tableName, queueUrls, deadLetterQueueUrls, region };
  }

  /** The dispatcher: what the Lambda SQS handler and the local poller call. */
  async handleSqsEvent(event: SQSEvent): Promise<SQSBatchResponse> {
    await this.ready;
    return (this.sqsHandler as SqsBatchHandler)(event);
  }

  /** One reconciler pass (the scheduled Lambda calls it; locally a timer does). */
  async reconcile(options?: ReconcileOptions): Promise<ReconcileReport> {
    return reconcile((await this.ready).deps, options);
  }

  /**
   * Empties the lanes' dead-letter queues: live jobs go back on their lanes, poison and
   * finished jobs are dropped; the report says which.
   */
  async redriveDeadLetters(): Promise<RedriveReport> {
    const system = await this.ready;
    if (!this.clients || !this.deadLetterQueueUrls) {
      throw new JobValidationError(
        "deadLetterQueueUrls",
        "are not known to this app (set JOBS_DLQ_URL_<LANE>)",
      );
    }
    return redriveDeadLetterQueues({
      sqs: this.clients.sqs,
      deadLetterQueueUrls: this.deadLetterQueueUrls,
      store: system.deps.store,
      lanes: system.deps.lanes,
    });
  }

  private resetReady(): void {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }
}

/** Resource names from the environment the CDK construct sets on the functions. */
export function awsOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env): AwsBackendOptions {
  const tableName = env[envNames.tableName];
  const queueUrls = Object.fromEntries(LANES.map((lane) => [lane, env[envNames.queueUrl(lane)]]));
  const deadLetters = LANES.map((lane) => [lane, env[envNames.deadLetterQueueUrl(lane)]] as const);
  const missing = [
    ...(tableName ? [] : [envNames.tableName]),
    ...LANES.filter((lane) => !queueUrls[lane]).map((lane) => envNames.queueUrl(lane)),
  ];
  if (missing.length > 0 || !tableName) {
    throw new JobValidationError(
      "backgroundJobs",
      `no backend chosen: pass { local: {} } or { aws: {...} }, or set ${missing.join(", ")} (the CDK construct does)`,
    );
  }
  const scheduleGroup = env[envNames.scheduleGroup];
  const schedulerRoleArn = env[envNames.schedulerRoleArn];
  return {
    tableName,
    queueUrls: queueUrls as Record<LaneName, string>,
    ...(deadLetters.every(([, url]) => url)
      ? { deadLetterQueueUrls: Object.fromEntries(deadLetters) as Record<LaneName, string> }
      : {}),
    ...(scheduleGroup ? { scheduleGroup } : {}),
    ...(schedulerRoleArn ? { schedulerRoleArn } : {}),
  };
}
