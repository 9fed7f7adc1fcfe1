import { setMaxListeners } from "node:events";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
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
import { createJobSystem, type JobSystem } from "./jobs/api.ts";
import { dispatch } from "./jobs/deliver.ts";
import { holdMessage, keepReporting } from "./jobs/front.ts";
import { messageAt } from "./jobs/message.ts";
import {
  type ReconcileOptions,
  type ReconcileReport,
  reconcile,
  requeueAll,
} from "./jobs/reconcile.ts";
import type { LocalPoller } from "./local/poller.ts";
import type { LocalStack, LocalStackInfo } from "./local/stack.ts";
import { type JobLogger, jsonLogger, silentLogger, terminalLogger } from "./log.ts";
import { DEFAULT_METRICS_NAMESPACE, envNames } from "./names.ts";
import {
  type JobMetrics,
  noMetrics,
  powertoolsLogger,
  powertoolsMetrics,
} from "./observability.ts";
import { removeStackFile, writeStackFile } from "./ops/stack-file.ts";
import { LANES, type LaneName } from "./resources.ts";

export interface LocalBackendOptions {
  /** Where DynamoDB Local keeps its data (persists across restarts). In memory when omitted. */
  dataDir?: string;
  /** No terminal output. */
  quiet?: boolean;
  /**
   * Use a DynamoDB already running there (one DynamoDB Local shared by many apps, as the test
   * suite does) instead of starting DynamoDB Local. The app keeps its own table on it: see
   * `resourcePrefix`. SQS and the Scheduler stay the app's own, in process.
   */
  dynamodbEndpoint?: string;
  /**
   * The table is `${resourcePrefix}-jobs` (default `local`), and is kept on stop. With
   * `dynamodbEndpoint` and no prefix, the app takes a unique one and deletes its table on stop.
   */
  resourcePrefix?: string;
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

export interface BackendOptions {
  /** `{ local: {...} }` runs the embedded local stack; `{ aws: {...} }` talks to AWS. Omitted: AWS, from the environment the CDK construct sets. */
  backgroundJobs?: { local?: LocalBackendOptions; aws?: AwsBackendOptions };
  /** Job metrics; in Lambda, CloudWatch EMF through Powertools (namespace `JOBS_METRICS_NAMESPACE`). */
  metrics?: JobMetrics;
  logger?: JobLogger;
  /** Purge-after days by job type (the plugins' cleanup rules). */
  cleanup?: ReadonlyMap<string, number>;
  /** Tenant key path by job type (the plugins' tenant rules); others use `data.shopId`. */
  tenants?: ReadonlyMap<string, string>;
}

/** True inside a Lambda function that was not told to use the local stack. */
export function runsInLambda(options: BackendOptions = {}): boolean {
  return process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && !options.backgroundJobs?.local;
}

/**
 * What a host (the own `App`, or the Reaction plugin) runs jobs on: the job system over the
 * local stack or AWS, the SQS dispatcher, the reconciler, and locally the poller that feeds
 * the dispatcher. Started in two steps so the host can register workers in between:
 * `startJobBackend` (servers, clients, the system), then `consume()` (the local poller and
 * reconciler timer; nothing on AWS, where Lambda's event source mapping and schedule do it).
 *
 * @example
 * const backend = await startJobBackend({ backgroundJobs: { local: {} } });
 * await backend.system.backgroundJobs.addWorker({ type: "hello", async worker(job) { await job.done(); } });
 * backend.consume();
 */
export async function startJobBackend(options: BackendOptions = {}): Promise<JobBackend> {
  const backend = new JobBackend(options);
  try {
    await backend.open();
  } catch (error) {
    await backend.stop();
    throw error;
  }
  return backend;
}

export class JobBackend {
  readonly logger: JobLogger;
  private stack?: LocalStack;
  private clients?: AwsClients;
  private poller?: LocalPoller;
  private Poller?: typeof LocalPoller;
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling?: Promise<unknown>;
  private readonly dispatchAbort = new AbortController();
  private deadLetterQueueUrls?: Record<LaneName, string>;
  private jobSystem?: JobSystem;
  private sqsHandler?: SqsBatchHandler;
  private stopped = false;

  constructor(private readonly options: BackendOptions) {
    const { local } = options.backgroundJobs ?? {};
    this.logger =
      options.logger ??
      (local
        ? local.quiet
          ? silentLogger
          : terminalLogger()
        : runsInLambda(options)
          ? powertoolsLogger()
          : jsonLogger());
  }

  /** The job system (`backgroundJobs`, its deps and workers). */
  get system(): JobSystem {
    if (!this.jobSystem) throw new Error("the job backend is not started");
    return this.jobSystem;
  }

  /** @internal Starts the servers or clients and builds the system. */
  async open(): Promise<void> {
    const { options, logger } = this;
    const { local } = options.backgroundJobs ?? {};
    const metrics =
      options.metrics ??
      (runsInLambda(options)
        ? powertoolsMetrics(process.env[envNames.metricsNamespace] ?? DEFAULT_METRICS_NAMESPACE)
        : noMetrics);
    let tableName: string;
    let queueUrls: Record<LaneName, string>;
    let scheduling: { groupName: string; roleArn: string } | undefined;
    if (local) {
      // Loaded only for a local backend: the Lambda bundles leave the emulators out.
      const [{ startLocalStack }, { LocalPoller }] = await Promise.all([
        import("./local/stack.ts"),
        import("./local/poller.ts"),
      ]);
      this.Poller = LocalPoller;
      this.stack = await startLocalStack({
        logger,
        ...(local.dataDir ? { dataDir: local.dataDir } : {}),
        ...(local.dynamodbEndpoint ? { dynamodbEndpoint: local.dynamodbEndpoint } : {}),
        ...(local.resourcePrefix ? { resourcePrefix: local.resourcePrefix } : {}),
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
      const aws = options.backgroundJobs?.aws ?? awsOptionsFromEnvironment();
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
      cleanup: new Map(options.cleanup ?? []),
      tenants: new Map(options.tenants ?? []),
      settings: {
        ...(local?.redeliveryDelaySeconds !== undefined
          ? { redeliveryDelaySeconds: local.redeliveryDelaySeconds }
          : {}),
        ...(local?.runCheckIntervalMs !== undefined
          ? { runCheckIntervalMs: local.runCheckIntervalMs }
          : {}),
        ...local?.reconcile,
        ...functionTimeoutFromEnvironment(options),
      },
    });
    const stopping = this.dispatchAbort.signal;
    // Every run and the delivery front's reporting loop listen on it: no leak warning past 10.
    setMaxListeners(0, stopping);
    this.sqsHandler = sqsBatchHandler(this.clients.sqs, queueUrls, (deliveries, budget) =>
      dispatch(system.deps, deliveries, stopping, budget),
    );
    this.jobSystem = system;
    if (this.stack && local?.dataDir) {
      // While this stack runs, `bgjobs` finds it here (removed by stop()).
      writeStackFile(local.dataDir, {
        pid: process.pid,
        region: this.stack.region,
        endpoints: this.stack.endpoints,
        tableName,
        queueUrls,
        deadLetterQueueUrls: this.stack.deadLetterQueueUrls,
        scheduleGroup: this.stack.scheduleGroup,
        schedulerRoleArn: this.stack.schedulerRoleArn,
        cleanup: Object.fromEntries(options.cleanup ?? []),
        tenants: Object.fromEntries(options.tenants ?? []),
      });
    }
    if (this.stack) {
      // fauxqs keeps no messages across restarts: put every open job's message back.
      const requeued = await requeueAll(system.deps);
      if (requeued > 0)
        logger.info("requeued", { jobs: requeued, note: "open jobs from the data folder" });
    }
  }

  /**
   * Starts consuming: locally the poller and the reconciler timer; on AWS nothing (Lambda's
   * event source mapping calls `handleSqsEvent`, a schedule calls `reconcile`).
   */
  consume(): void {
    const { local } = this.options.backgroundJobs ?? {};
    if (!local || !this.stack || !this.clients || !this.Poller || this.poller || this.stopped)
      return;
    const system = this.system;
    this.poller = new this.Poller({
      sqs: this.clients.sqs,
      queueUrls: this.stack.queues.queueUrls,
      queueArns: this.stack.queues.queueArns,
      region: this.stack.region,
      handler: this.sqsHandler as SqsBatchHandler,
      freeFor: (type) => system.workers.freeFor(type),
      capacityChanged: (ms) => system.workers.nextChange(ms),
      hold: (messageId, message) => {
        holdMessage(system.deps, messageId, messageAt(message));
        keepReporting(system.deps, this.dispatchAbort.signal);
      },
      logger: this.logger,
    });
    this.poller.start();
    const interval = local.reconcileIntervalMs ?? 5000;
    this.reconcileTimer = setInterval(() => {
      if (this.reconciling) return;
      this.reconciling = reconcile(system.deps)
        .catch((error: unknown) =>
          this.logger.error("reconcile failed", { error: (error as Error).message }),
        )
        .finally(() => {
          this.reconciling = undefined;
        });
    }, interval);
  }

  /** Ends the poller, the timers, the waits on runs, the clients and the local servers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.reconcileTimer);
    await this.poller?.stop();
    this.dispatchAbort.abort();
    await this.reconciling;
    const { local } = this.options.backgroundJobs ?? {};
    if (local?.dataDir) removeStackFile(local.dataDir);
    if (this.stack) await this.stack.stop();
    else {
      this.clients?.dynamodb.destroy();
      this.clients?.sqs.destroy();
      this.clients?.scheduler.destroy();
    }
  }

  /** The local stack's schedule group and scheduler role (local backend only). */
  get localScheduling(): { scheduleGroup: string; schedulerRoleArn: string } {
    if (!this.stack) throw new Error("the local stack exists only for a local backend");
    return {
      scheduleGroup: this.stack.scheduleGroup,
      schedulerRoleArn: this.stack.schedulerRoleArn,
    };
  }

  /** The local stack's endpoints, table and queue URLs (local backend only). */
  get local(): LocalStackInfo {
    if (!this.stack) throw new Error("the local stack exists only for a local backend");
    const { endpoints, tableName, queueUrls, deadLetterQueueUrls, region } = this.stack;
    const { scheduleGroup, schedulerRoleArn } = this.stack;
    return {
      endpoints,
      tableName,
      queueUrls,
      deadLetterQueueUrls,
      region,
      scheduleGroup,
      schedulerRoleArn,
    };
  }

  /**
   * The dispatcher: what the Lambda SQS handler and the local poller call. Lambda passes its
   * context, so no run starts that the invocation's remaining time cannot hold.
   */
  handleSqsEvent(
    event: SQSEvent,
    context?: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<SQSBatchResponse> {
    if (!this.sqsHandler) throw new Error("the job backend is not started");
    return this.sqsHandler(event, context);
  }

  /** One reconciler pass (the scheduled Lambda calls it; locally a timer does). */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport> {
    return reconcile(this.system.deps, options);
  }

  /**
   * Empties the lanes' dead-letter queues: live jobs go back on their lanes, poison and
   * finished jobs are dropped; the report says which.
   */
  redriveDeadLetters(): Promise<RedriveReport> {
    const { deps } = this.system;
    if (!this.clients || !this.deadLetterQueueUrls) {
      throw new JobValidationError(
        "deadLetterQueueUrls",
        "are not known to this app (set JOBS_DLQ_URL_<LANE>)",
      );
    }
    return redriveDeadLetterQueues({
      sqs: this.clients.sqs,
      deadLetterQueueUrls: this.deadLetterQueueUrls,
      store: deps.store,
      lanes: deps.lanes,
    });
  }
}

/** In Lambda, the dispatcher's timeout the construct sets, which bounds every worker's run. */
function functionTimeoutFromEnvironment(options: BackendOptions): { functionTimeoutMs?: number } {
  const value = Number(process.env[envNames.functionTimeoutMs]);
  return runsInLambda(options) && Number.isFinite(value) && value > 0
    ? { functionTimeoutMs: value }
    : {};
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
