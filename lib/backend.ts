import { setMaxListeners } from "node:events";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { RedriveReport } from "./aws/redrive.ts";
import { type SqsBatchHandler, sqsBatchHandler } from "./aws/sqs-batch.ts";
import { adaptersFor, redriveDeadLetters } from "./backend/adapters.ts";
import { awsDeployment } from "./backend/aws.ts";
import type { Deployment } from "./backend/deployment.ts";
import type { BackendOptions } from "./backend/options.ts";
import { ServerLaneConsumer } from "./backend/server-lane.ts";
import {
  functionTimeoutMsFromEnvironment,
  inLambdaEnvironment,
  metricsNamespaceFromEnvironment,
  parseServerTypes,
  resourcesFromEnvironment,
  serverTypesFromEnvironment,
} from "./environment.ts";
import { JobValidationError } from "./errors.ts";
import { createJobSystem, type JobSystem } from "./jobs/api.ts";
import { dispatch } from "./jobs/deliver.ts";
import { systemClock } from "./jobs/deps.ts";
import { type ReconcileOptions, type ReconcileReport, reconcile } from "./jobs/reconcile.ts";
import { type JobLogger, jsonLogger, silentLogger, terminalLogger } from "./log.ts";
import { envNames } from "./names.ts";
import { noMetrics, powertoolsLogger, powertoolsMetrics } from "./observability.ts";
import { DEFAULT_REGION, type LocalStackInfo } from "./stack.ts";

export type {
  AwsBackendOptions,
  BackendOptions,
  LocalBackendOptions,
} from "./backend/options.ts";

/** True inside a Lambda function that was not told to use the local stack. */
export function runsInLambda(options: BackendOptions = {}): boolean {
  return inLambdaEnvironment() && !options.backgroundJobs?.local;
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
  private deployment?: Deployment;
  private readonly dispatchAbort = new AbortController();
  private jobSystem?: JobSystem;
  private sqsHandler?: SqsBatchHandler;
  private serverLane?: ServerLaneConsumer;
  private consuming = false;
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
    const inLambda = runsInLambda(options);
    const deployment = await this.openDeployment(inLambda);
    this.deployment = deployment;
    const { clients, resources } = deployment;
    const rules = {
      cleanup: new Map(options.cleanup ?? []),
      tenants: new Map(options.tenants ?? []),
    };
    const serverTypes = serverTypesOf(options, resources.queueUrls.server !== undefined);
    // The local stack's clock (real, or moved by a test) is the lifecycle's and the table's too.
    const clock = deployment.clock ?? systemClock;
    const adapters = adaptersFor(clients, resources, {
      now: clock.now,
      ...(deployment.simulateIndexLagMs
        ? { simulateIndexLagMs: deployment.simulateIndexLagMs }
        : {}),
    });
    const system = createJobSystem({
      ...adapters,
      lanes: deployment.lanesOnClock?.(adapters.lanes) ?? adapters.lanes,
      clock,
      logger,
      metrics:
        options.metrics ??
        (inLambda ? powertoolsMetrics(metricsNamespaceFromEnvironment()) : noMetrics),
      ...rules,
      serverTypes,
      settings: deployment.settings,
    });
    const stopping = this.dispatchAbort.signal;
    // Every run and the delivery front's reporting loop listen on it: no leak warning past 10.
    setMaxListeners(0, stopping);
    this.sqsHandler = sqsBatchHandler(clients.sqs, resources.queueUrls, (deliveries, budget) =>
      dispatch(system.deps, deliveries, stopping, budget),
    );
    this.jobSystem = system;
    await deployment.started(system, rules);
  }

  private async openDeployment(inLambda: boolean): Promise<Deployment> {
    const { local, aws } = this.options.backgroundJobs ?? {};
    if (local) {
      // Loaded only for a local backend: the Lambda bundles leave it out (LOCAL_ONLY_MODULES).
      const { startLocalDeployment } = await import("./backend/local.ts");
      return startLocalDeployment(local, this.logger);
    }
    const functionTimeoutMs = inLambda ? functionTimeoutMsFromEnvironment() : undefined;
    return awsDeployment(aws ?? resourcesFromEnvironment(), {
      ...(functionTimeoutMs !== undefined ? { functionTimeoutMs } : {}),
    });
  }

  /**
   * Starts consuming: locally the poller and the reconciler timer; on AWS nothing (Lambda's
   * event source mapping calls `handleSqsEvent`, a schedule calls `reconcile`). With server
   * types, and not in Lambda, also the server lane's long-polling consumer (see
   * lib/backend/server-lane.ts), on AWS and locally alike.
   */
  consume(): void {
    if (!this.deployment || !this.sqsHandler || this.consuming || this.stopped) return;
    this.consuming = true;
    this.deployment.consume({
      system: this.system,
      handler: this.sqsHandler,
      stopping: this.dispatchAbort.signal,
      logger: this.logger,
    });
    this.consumeServerLane(this.deployment, this.sqsHandler);
  }

  private consumeServerLane(deployment: Deployment, handler: SqsBatchHandler): void {
    const { serverTypes = new Set<string>() } = this.system.deps;
    const queueUrl = deployment.resources.queueUrls.server;
    if (serverTypes.size === 0 || !queueUrl || runsInLambda(this.options)) return;
    const { workers } = this.system;
    this.serverLane = new ServerLaneConsumer({
      sqs: deployment.clients.sqs,
      queueUrl,
      region: deployment.resources.region ?? DEFAULT_REGION,
      handler,
      capacity: () => [...serverTypes].reduce((sum, t) => sum + (workers.get(t)?.free ?? 0), 0),
      capacityChanged: (ms) => workers.nextChange(ms),
      logger: this.logger,
      ...(this.options.serverLaneWaitSeconds !== undefined
        ? { waitSeconds: this.options.serverLaneWaitSeconds }
        : {}),
    });
    this.serverLane.start();
    this.logger.info("consuming the server lane", { types: [...serverTypes] });
  }

  /** Ends the poller, the timers, the waits on runs, the clients and the local servers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.deployment?.stopConsuming(), this.serverLane?.stop()]);
    this.dispatchAbort.abort();
    await this.deployment?.stop();
  }

  /** The local stack's schedule group and scheduler role (local backend only). */
  get localScheduling(): { scheduleGroup: string; schedulerRoleArn: string } {
    const { scheduleGroup, schedulerRoleArn } = this.local;
    return { scheduleGroup, schedulerRoleArn };
  }

  /** The local stack's endpoints, table and queue URLs (local backend only). */
  get local(): LocalStackInfo {
    const local = this.deployment?.local;
    if (!local) throw new Error("the local stack exists only for a local backend");
    return local;
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
  async redriveDeadLetters(): Promise<RedriveReport> {
    const { deps } = this.system;
    const deployment = this.deployment as Deployment;
    return redriveDeadLetters(deployment.clients, deployment.resources, deps);
  }
}

/**
 * The server types a backend places on the server lane: the options', else
 * `JOBS_SERVER_TYPES`, else none. Refused, naming the variable, when there are some and the
 * deployment has no server lane to send them to.
 */
function serverTypesOf(options: BackendOptions, hasServerLane: boolean): Set<string> {
  const types = options.serverTypes
    ? parseServerTypes(options.serverTypes, "serverTypes")
    : (serverTypesFromEnvironment() ?? []);
  if (types.length > 0 && !hasServerLane) {
    throw new JobValidationError(
      envNames.queueUrl("server"),
      `is not set, and ${types.join(", ")} run on the API servers (${envNames.serverTypes}): their jobs travel on the server lane. Give the construct serverTypes (it creates the lane; its JobsQueueUrlServer output is the URL)`,
    );
  }
  return new Set(types);
}
