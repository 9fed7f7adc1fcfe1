import { join } from "node:path";
import {
  Duration,
  aws_lambda_event_sources as eventSources,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  aws_scheduler as scheduler,
  aws_scheduler_targets as schedulerTargets,
  triggers,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import { LOCAL_ONLY_MODULES } from "../../lib/backend/local-only.ts";
import { envNames, SERVICE_NAME } from "../../lib/names.ts";
import { LANES, type LaneName } from "../../lib/resources.ts";
import type { ReactionAppProps } from "../reaction-bundle.ts";
import { functionEntries, REPO_ROOT } from "./entries.ts";
import { type JobResources, laneQueues } from "./resources.ts";

/** Lambda's longest function timeout. */
export const MAX_FUNCTION_TIMEOUT = Duration.seconds(900);

/** The deploy-time startup's time limit (the Trigger waits for it). */
const STARTUP_TIMEOUT = Duration.minutes(5);

/** The reconciler's timeout: it runs every minute. */
const RECONCILER_TIMEOUT = Duration.seconds(60);

/** The settings the functions take from the construct's props (defaults already applied). */
export interface JobFunctionSettings {
  /** The user's code: exactly one of a plugins module and a Reaction app. */
  code: { pluginsEntry?: string; reactionApp?: ReactionAppProps };
  dispatcherTimeout: Duration;
  memorySize: number;
  logRetention: logs.RetentionDays;
  metricsNamespace: string;
  /** The job types placed on the API servers (`envNames.serverTypes` on the functions). */
  serverTypes: readonly string[];
}

/** The construct's functions; the startup and its Trigger only for a plugins module. */
export interface JobFunctions {
  dispatcher: nodejs.NodejsFunction;
  reconciler: nodejs.NodejsFunction;
  startup?: nodejs.NodejsFunction;
  startupTrigger?: triggers.Trigger;
}

/** A lane's event source settings (defaults already applied). */
export interface LaneSubscription {
  batchSize: number;
  maximumConcurrency: number;
}

/**
 * The dispatcher, the reconciler and (for a plugins module) the deploy-time startup with the
 * Trigger that runs it: bundled from generated entries around the user's code, each with the
 * resources' names in its environment. Grants and the dispatcher's lanes come separately.
 *
 * @example const functions = createJobFunctions(this, resources, settings);
 */
export function createJobFunctions(
  scope: Construct,
  resources: JobResources,
  settings: JobFunctionSettings,
): JobFunctions {
  const environment = functionEnvironment(resources, settings);
  const reactionApp = settings.code.reactionApp;
  const entries = functionEntries(settings.code);
  const functionProps = (name: string, timeout: Duration): nodejs.NodejsFunctionProps => ({
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: settings.memorySize,
    timeout,
    environment,
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
    logGroup: new logs.LogGroup(scope, `${name}Logs`, {
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
    bundling: {
      forceDockerBundling: false,
      format: nodejs.OutputFormat.ESM,
      target: "node22",
      minify: true,
      sourceMap: true,
      // The runtime has the AWS SDK; the local stack (the emulators, their launchers and the
      // poller, imported only for a local backend) never runs in Lambda.
      externalModules: ["@aws-sdk/*", "fauxqs", ...LOCAL_ONLY_MODULES],
      banner:
        "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      // A Reaction app: graphql tells classes apart by name outside production (minified
      // names collide), and Reaction's dependencies' bundling warnings are not the user's.
      ...(reactionApp ? { keepNames: true, logLevel: nodejs.LogLevel.ERROR } : {}),
    },
  });
  const dispatcher = new nodejs.NodejsFunction(scope, "Dispatcher", {
    ...functionProps("Dispatcher", settings.dispatcherTimeout),
    entry: entries.dispatcher,
    description: "Claims and runs background jobs from the priority lanes",
  });
  const reconciler = new nodejs.NodejsFunction(scope, "Reconciler", {
    ...functionProps("Reconciler", RECONCILER_TIMEOUT),
    entry: entries.reconciler,
    description: "Re-sends lost job messages, ends dead runs, re-arms repeats, re-sweeps cancels",
  });
  if (!entries.startup) return { dispatcher, reconciler };

  // A deployment is the server start: the plugins' startup schedules and cancels jobs here,
  // once per deployment whose bundle (so whose plugins) changed, before the stack completes.
  const startup = new nodejs.NodejsFunction(scope, "Startup", {
    ...functionProps("Startup", STARTUP_TIMEOUT),
    environment: { ...environment, [envNames.startupScheduling]: "run" },
    entry: entries.startup,
    description: "Runs the plugins' startup once per deployment: their repeating jobs",
  });
  const startupTrigger = new triggers.Trigger(scope, "RunStartup", {
    handler: startup,
    executeOnHandlerChange: true,
    timeout: STARTUP_TIMEOUT,
    // After the resources it writes, and after this deployment's dispatcher (with its lane
    // mappings) and reconciler: a job of a type the plugins just gained, scheduled by the new
    // startup, must not reach the old dispatcher, which has no worker for it and fails it.
    executeAfter: [
      resources.table,
      resources.scheduleGroup,
      resources.schedulerRole,
      ...Object.values(resources.queues),
      dispatcher,
      reconciler,
    ],
  });
  return { dispatcher, reconciler, startup, startupTrigger };
}

/** What every function finds in its environment (names in lib/names.ts). */
function functionEnvironment(
  resources: JobResources,
  settings: JobFunctionSettings,
): Record<string, string> {
  const environment: Record<string, string> = {
    [envNames.tableName]: resources.table.tableName,
    [envNames.scheduleGroup]: resources.scheduleGroup.scheduleGroupName,
    [envNames.schedulerRoleArn]: resources.schedulerRole.roleArn,
    [envNames.payloadBucket]: resources.payloadBucket.bucketName,
    [envNames.metricsNamespace]: settings.metricsNamespace,
    // The dispatcher's timeout on both functions: both register the workers.
    [envNames.functionTimeoutMs]: String(settings.dispatcherTimeout.toMilliseconds()),
    [envNames.powertoolsServiceName]: SERVICE_NAME,
    [envNames.sdkNodeVersionWarningDisabled]: "true",
    ...settings.code.reactionApp?.environment,
  };
  for (const { lane, queue, deadLetterQueue } of laneQueues(resources)) {
    environment[envNames.queueUrl(lane)] = queue.queueUrl;
    // For redriveDeadLetters() (npm run redrive reads the same variables).
    environment[envNames.deadLetterQueueUrl(lane)] = deadLetterQueue.queueUrl;
  }
  // The same placement as the API servers', so a job scheduled or retried here goes to the
  // server lane too. Set when empty for a Reaction app: its swap-in's default is not wanted then.
  if (settings.serverTypes.length > 0 || settings.code.reactionApp)
    environment[envNames.serverTypes] = settings.serverTypes.join(",");
  return environment;
}

/**
 * The dispatcher on each lane: an SQS event source per lane with partial batch responses and
 * the lane's concurrency (the source also grants the dispatcher the lane's consume calls).
 *
 * @example subscribeDispatcher(functions.dispatcher, resources.queues, laneSubscriptions);
 */
export function subscribeDispatcher(
  dispatcher: lambda.Function,
  queues: JobResources["queues"],
  lanes: Record<LaneName, LaneSubscription>,
): void {
  for (const lane of LANES) {
    dispatcher.addEventSource(
      new eventSources.SqsEventSource(queues[lane], {
        batchSize: lanes[lane].batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: lanes[lane].maximumConcurrency,
      }),
    );
  }
}

/**
 * Runs the reconciler every minute from EventBridge Scheduler (no retry: the next minute is).
 *
 * @example scheduleReconciler(this, functions.reconciler);
 */
export function scheduleReconciler(scope: Construct, reconciler: lambda.IFunction): void {
  new scheduler.Schedule(scope, "ReconcileEveryMinute", {
    schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
    target: new schedulerTargets.LambdaInvoke(reconciler, { retryAttempts: 0 }),
    description: "Runs the background-jobs reconciler",
  });
}
