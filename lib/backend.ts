import { setMaxListeners } from "node:events";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { RedriveReport } from "./aws/redrive.ts";
import { type SqsBatchHandler, sqsBatchHandler } from "./aws/sqs-batch.ts";
import { adaptersFor, redriveDeadLetters, type StackAdapters } from "./backend/adapters.ts";
import { awsDeployment } from "./backend/aws.ts";
import type { Deployment, MemoryBackendInfo } from "./backend/deployment.ts";
import type { BackendOptions, MemoryBackendOptions } from "./backend/options.ts";
import { ServerLaneConsumer } from "./backend/server-lane.ts";
import {
  checkMemoryBackendAllowed,
  functionTimeoutMsFromEnvironment,
  inLambdaEnvironment,
  memoryBackendFromEnvironment,
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
import { type JobLogger, jsonLogger, silentLogger, terminalLogger, warningsOnly } from "./log.ts";
import { envNames } from "./names.ts";
import { noMetrics, powertoolsLogger, powertoolsMetrics } from "./observability.ts";
import { DEFAULT_REGION, type LocalStackInfo } from "./stack.ts";

export type { MemoryBackendInfo } from "./backend/deployment.ts";
export type {
  AwsBackendOptions,
  BackendOptions,
  LocalBackendOptions,
  MemoryBackendOptions,
} from "./backend/options.ts";

/** True inside a Lambda function that was not told to use the local stack. */
export function runsInLambda(options: BackendOptions = {}): boolean {
  return inLambdaEnvironment() && !options.backgroundJobs?.local;
}

/**
 * The memory backend's options when this host runs on it: `backgroundJobs.memory`, or
 * `JOBS_BACKEND=memory` when no backend is passed. Either is refused where it would be
 * silently wrong (in Lambda, beside a deployment's variables), naming the variable.
 */
function memoryOptions(options: BackendOptions): MemoryBackendOptions | undefined {
  const { local, aws, memory } = options.backgroundJobs ?? {};
  if (memory && (local || aws))
    throw new JobValidationError(
      "backgroundJobs",
      `takes one backend: memory, or ${local ? "local" : "aws"}, not both`,
    );
  const chosen = memory ?? (!local && !aws && memoryBackendFromEnvironment() ? {} : undefined);
  if (chosen) checkMemoryBackendAllowed();
  return chosen;
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

  /** The memory backend's options, when this host runs on it (checked at construction). */
  private readonly memoryBackend?: MemoryBackendOptions;

  constructor(private readonly options: BackendOptions) {
    const { local } = options.backgroundJobs ?? {};
    const memory = memoryOptions(options);
    this.memoryBackend = memory;
    this.logger =
      options.logger ??
      (local
        ? local.quiet
          ? silentLogger
          : terminalLogger()
        : memory
          ? memory.quiet
            ? silentLogger
            : warningsOnly(terminalLogger())
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
    // The memory backend has one in-process consumer for every lane: nothing goes to servers.
    const serverTypes = resources
      ? serverTypesOf(options, resources.queueUrls.server !== undefined)
      : new Set<string>();
    // The local stack's clock (real, or moved by a test) is the lifecycle's and the table's too.
    const clock = deployment.clock ?? systemClock;
    const adapters = deployment.adapters ?? awsAdapters(deployment, clock.now);
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
    if (clients && resources) {
      this.sqsHandler = sqsBatchHandler(clients.sqs, resources.queueUrls, (deliveries, budget) =>
        dispatch(system.deps, deliveries, stopping, budget),
      );
    }
    this.jobSystem = system;
    await deployment.started(system, rules);
  }

  private async openDeployment(inLambda: boolean): Promise<Deployment> {
    const { local, aws } = this.options.backgroundJobs ?? {};
    const memory = this.memoryBackend;
    if (memory) {
      // Loaded only for the memory backend: the Lambda bundles leave it out (LOCAL_ONLY_MODULES).
      const { startMemoryDeployment } = await import("./backend/memory.ts");
      return startMemoryDeployment(memory, this.logger);
    }
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
    if (!this.deployment || !this.jobSystem || this.consuming || this.stopped) return;
    this.consuming = true;
    this.deployment.consume({
      system: this.system,
      // The memory backend has no SQS handler (its consumer calls the dispatcher itself).
      handler: this.sqsHandler ?? ((event, context) => this.handleSqsEvent(event, context)),
      stopping: this.dispatchAbort.signal,
      logger: this.logger,
    });
    if (this.sqsHandler) this.consumeServerLane(this.deployment, this.sqsHandler);
  }

  private consumeServerLane(deployment: Deployment, handler: SqsBatchHandler): void {
    const { serverTypes = new Set<string>() } = this.system.deps;
    const { clients, resources } = deployment;
    const queueUrl = resources?.queueUrls.server;
    if (serverTypes.size === 0 || !queueUrl || !clients || runsInLambda(this.options)) return;
    const { workers } = this.system;
    this.serverLane = new ServerLaneConsumer({
      sqs: clients.sqs,
      queueUrl,
      region: resources.region ?? DEFAULT_REGION,
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

  /** The memory backend's clock and idle wait (memory backend only). */
  get memory(): MemoryBackendInfo {
    const memory = this.deployment?.memory;
    if (!memory) throw new Error("app.memory exists only for the memory backend");
    return memory;
  }

  /**
   * The dispatcher: what the Lambda SQS handler and the local poller call. Lambda passes its
   * context, so no run starts that the invocation's remaining time cannot hold.
   */
  handleSqsEvent(
    event: SQSEvent,
    context?: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<SQSBatchResponse> {
    if (this.deployment?.memory) throw noSqsError("handleSqsEvent");
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
    const { clients, resources } = this.deployment as Deployment;
    if (!clients || !resources) throw noSqsError("redriveDeadLetters");
    return redriveDeadLetters(clients, resources, deps);
  }
}

/** A deployment's table, lanes and schedules over its AWS clients (AWS and the local stack). */
function awsAdapters(deployment: Deployment, now: () => number): StackAdapters {
  const { clients, resources, simulateIndexLagMs } = deployment;
  if (!clients || !resources) throw new Error("a deployment needs adapters or AWS clients");
  return adaptersFor(clients, resources, {
    now,
    ...(simulateIndexLagMs ? { simulateIndexLagMs } : {}),
  });
}

/** What the memory backend cannot do: it has no SQS queues, its consumer is in process. */
function noSqsError(call: string): JobValidationError {
  return new JobValidationError(
    "backgroundJobs.memory",
    `has no SQS queues for ${call}: its lanes are in memory and consumed in this process`,
  );
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
