import {
  type aws_cloudwatch as cloudwatch,
  Duration,
  type aws_dynamodb as dynamodb,
  type aws_iam as iam,
  aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  type aws_s3 as s3,
  type aws_scheduler as scheduler,
  type aws_sns as sns,
  type aws_sqs as sqs,
  type triggers,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { parseServerTypes } from "../../lib/environment.ts";
import { DEFAULT_METRICS_NAMESPACE, FILES_SERVER_TYPES } from "../../lib/names.ts";
import {
  type JobLane,
  LANES,
  type LaneName,
  lanes as laneSettings,
  RUN_TIME_RULE,
  SERVER_LANE,
} from "../../lib/resources.ts";
import type { ReactionAppProps } from "../reaction-bundle.ts";
import {
  createJobFunctions,
  MAX_FUNCTION_TIMEOUT,
  scheduleReconciler,
  subscribeDispatcher,
} from "./functions.ts";
import { grantApiServer, grantJobCalls, grantOperate, grantRead } from "./grants.ts";
import { addAlarms, addDashboard } from "./monitoring.ts";
import { addOutputs } from "./outputs.ts";
import { purgePayloadsWithRecords } from "./payload-purger.ts";
import { createJobResources, type JobResources, type ServerLane } from "./resources.ts";

export interface LaneProps {
  /** Most concurrent dispatcher invocations for this lane's event source mapping (2-1000). */
  maximumConcurrency?: number;
  /** Messages per invocation (1-10). */
  batchSize?: number;
  /** Alarm when the oldest message has waited this long. */
  maxMessageAge?: Duration;
}

export interface BackgroundJobsProps {
  /**
   * A module that exports `plugins: Plugin[]`: the same plugins the app registers locally.
   * Their startup functions register the workers in Lambda. Give this or `reactionApp`.
   */
  pluginsEntry?: string;
  /**
   * A Reaction API instead: a module that exports `buildApp()`, resolving the team's unstarted
   * `ReactionAPICore` (plugins registered, the job-queue swap-in among them; its MongoDB
   * connected, or `MONGO_URL` set in `environment`). See infra/reaction-bundle.ts.
   */
  reactionApp?: ReactionAppProps;
  /** Per-lane settings. Default concurrency weighs toward higher lanes: 20, 10, 5. */
  lanes?: Partial<Record<LaneName, LaneProps>>;
  /**
   * Job types that run on the API servers, not in Lambda (`envNames.serverTypes`): their jobs
   * travel on the server lane, a queue and DLQ this creates, which the API servers consume by
   * long polling (grant them with `grantApiServer`; give them the same types and the server
   * lane's queue URL output). Set on the functions too, so a job scheduled or retried in
   * Lambda goes there as well; no Lambda reads the lane. Default for a `reactionApp`: the files
   * plugin's `saveImage/local` and `saveImage/remote`; for a `pluginsEntry`: none.
   */
  serverTypes?: string[];
  /** The server lane's alarm: its oldest message over this age. Default 15 minutes. */
  serverLaneMaxMessageAge?: Duration;
  /** Alarms notify this topic when given. */
  alarmTopic?: sns.ITopic;
  /** What happens to the job table and the payload bucket when the stack is deleted. Default RETAIN. */
  removalPolicy?: RemovalPolicy;
  /** Lambda log retention. Default one month. */
  logRetention?: logs.RetentionDays;
  /** CloudWatch namespace of the job metrics. Default `DEFAULT_METRICS_NAMESPACE` (lib/names.ts). */
  metricsNamespace?: string;
  /** Memory (MB) of each function: the dispatcher, the reconciler and the startup. Default 512. */
  memorySize?: number;
  /**
   * The dispatcher function's timeout: no run can take longer (a worker's `workTimeout` must
   * fit in it). At most 900 s, Lambda's limit. The lanes' visibility timeout is 6 times it
   * (AWS's advice for SQS event sources), capped at SQS's 12 hours. Default 900 s.
   */
  dispatcherTimeout?: Duration;
}

/** Props a construct cannot be built with; `prop` names the one at fault. */
export class BackgroundJobsPropsError extends Error {
  override name = "BackgroundJobsPropsError";
  constructor(
    readonly prop: keyof BackgroundJobsProps,
    message: string,
  ) {
    super(message);
  }
}

/** The defaults of the props the user leaves out (the README's props table). */
const DEFAULTS = {
  concurrency: { critical: 20, normal: 10, low: 5 } satisfies Record<LaneName, number>,
  batchSize: laneSettings.batchSize,
  maxMessageAge: Duration.minutes(15),
  removalPolicy: RemovalPolicy.RETAIN,
  logRetention: logs.RetentionDays.ONE_MONTH,
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
  memorySize: 512,
  dispatcherTimeout: Duration.seconds(laneSettings.functionTimeoutSeconds),
};

/**
 * Background jobs for Reaction-style plugins: the job table, a queue and DLQ per priority lane,
 * the dispatcher Lambda on each lane, the reconciler every minute, EventBridge Scheduler for
 * repeats and long waits, and CloudWatch alarms and a dashboard. Built from
 * `lib/resources.ts`, the definition the local stack provisions too.
 *
 * Each concern is a file beside this one: resources.ts (table, lanes, schedule group and
 * role), functions.ts (the functions, their bundling and lanes, entries.ts their entries),
 * grants.ts, monitoring.ts (alarms, dashboard) and outputs.ts.
 *
 * @example new BackgroundJobs(stack, "BackgroundJobs", { pluginsEntry: "lambdas/plugins.ts" })
 */
export class BackgroundJobs extends Construct implements JobResources {
  readonly table: dynamodb.TableV2;
  readonly queues: Record<LaneName, sqs.Queue>;
  readonly deadLetterQueues: Record<LaneName, sqs.Queue>;
  /** The server lane, when there are `serverTypes`. */
  readonly serverLane?: ServerLane;
  /** The job types placed on the API servers (the server lane). */
  readonly serverTypes: readonly string[];
  readonly dispatcher: nodejs.NodejsFunction;
  readonly reconciler: nodejs.NodejsFunction;
  /**
   * Runs the plugins' startup at deploy time (see `startupTrigger`). None for a Reaction app:
   * its API server's own starts schedule, as with Reaction's job-queue.
   */
  readonly startup?: nodejs.NodejsFunction;
  readonly startupTrigger?: triggers.Trigger;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  /** `data` too large for a record (claim checks), and the function that purges it with its record. */
  readonly payloadBucket: s3.Bucket;
  readonly payloadPurger: nodejs.NodejsFunction;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BackgroundJobsProps) {
    super(scope, id);
    const dispatcherTimeout = dispatcherTimeoutOf(props);
    if ((props.pluginsEntry === undefined) === (props.reactionApp === undefined))
      throw new BackgroundJobsPropsError(
        "pluginsEntry",
        "BackgroundJobs: give exactly one of pluginsEntry and reactionApp",
      );
    const metricsNamespace = props.metricsNamespace ?? DEFAULTS.metricsNamespace;
    const lane = (name: LaneName): LaneProps => props.lanes?.[name] ?? {};
    this.serverTypes = serverTypesOf(props);

    const resources = createJobResources(this, {
      removalPolicy: props.removalPolicy ?? DEFAULTS.removalPolicy,
      dispatcherTimeout,
      serverLane: this.serverTypes.length > 0,
    });
    this.table = resources.table;
    this.queues = resources.queues;
    this.deadLetterQueues = resources.deadLetterQueues;
    if (resources.serverLane) this.serverLane = resources.serverLane;
    this.scheduleGroup = resources.scheduleGroup;
    this.schedulerRole = resources.schedulerRole;
    this.payloadBucket = resources.payloadBucket;

    const functions = createJobFunctions(this, resources, {
      code: { pluginsEntry: props.pluginsEntry, reactionApp: props.reactionApp },
      dispatcherTimeout,
      memorySize: props.memorySize ?? DEFAULTS.memorySize,
      logRetention: props.logRetention ?? DEFAULTS.logRetention,
      metricsNamespace,
      serverTypes: this.serverTypes,
    });
    this.dispatcher = functions.dispatcher;
    this.reconciler = functions.reconciler;
    this.startup = functions.startup;
    this.startupTrigger = functions.startupTrigger;
    for (const fn of [this.dispatcher, this.reconciler, this.startup])
      if (fn) grantJobCalls(fn, resources);
    subscribeDispatcher(
      this.dispatcher,
      this.queues,
      perLane((name) => ({
        batchSize: lane(name).batchSize ?? DEFAULTS.batchSize,
        maximumConcurrency: lane(name).maximumConcurrency ?? DEFAULTS.concurrency[name],
      })),
    );
    scheduleReconciler(this, this.reconciler);
    this.payloadPurger = purgePayloadsWithRecords(this, resources, {
      logRetention: props.logRetention ?? DEFAULTS.logRetention,
    });

    this.alarms.push(
      ...addAlarms(this, resources, this.dispatcher, {
        metricsNamespace,
        maxMessageAge: {
          ...perLane((name) => lane(name).maxMessageAge ?? DEFAULTS.maxMessageAge),
          [SERVER_LANE]: props.serverLaneMaxMessageAge ?? DEFAULTS.maxMessageAge,
        } satisfies Record<JobLane, Duration>,
        alarmTopic: props.alarmTopic,
      }),
    );
    this.dashboard = addDashboard(this, resources, metricsNamespace);
    addOutputs(this, resources);
  }

  /**
   * What `bgjobs` needs to look (jobs list/get/logs/watch, schedules list, lanes stats, dlq
   * list, doctor, `dashboard --read-only`): item and batch reads of the table and Query on its
   * indexes, queue attributes of the lanes and DLQs, a peek at the DLQs (receive, then make
   * visible again), the job schedule group's schedules, and this stack's outputs (`--stack`).
   *
   * @example jobs.grantRead(supportRole)
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantRead(grantee, this);
  }

  /**
   * `grantRead`, plus what operator actions write: item updates, puts (a template fired now)
   * and deletes on the table; SendMessage to the lanes (a job sent again, a redrive);
   * DeleteMessage on the DLQs (a redrive); creating, updating and deleting schedules in the job
   * schedule group (pause, resume, cancel, a chain's next link) and passing the scheduler role
   * to EventBridge Scheduler for them.
   *
   * @example jobs.grantOperate(onCallRole)
   */
  grantOperate(grantee: iam.IGrantable): iam.Grant {
    return grantOperate(grantee, this);
  }

  /**
   * What an API server's role needs: the job calls the functions make (the table's items and
   * indexes, SendMessage to every lane, the job schedules and passing their role), and
   * consuming the server lane (ReceiveMessage, DeleteMessage, ChangeMessageVisibility,
   * GetQueueAttributes on its queue only) when there is one.
   *
   * @example jobs.grantApiServer(apiTaskDefinition.taskRole)
   */
  grantApiServer(grantee: iam.IGrantable): iam.Grant {
    return grantApiServer(grantee, this);
  }
}

/** The server types from the props, checked; the files plugin's for a Reaction app by default. */
function serverTypesOf(props: BackgroundJobsProps): string[] {
  if (props.serverTypes === undefined) return props.reactionApp ? [...FILES_SERVER_TYPES] : [];
  try {
    return parseServerTypes(props.serverTypes, "serverTypes");
  } catch (error) {
    throw new BackgroundJobsPropsError(
      "serverTypes",
      `BackgroundJobs: ${(error as Error).message}`,
    );
  }
}

/** The dispatcher timeout a construct gets from its props; refuses one Lambda cannot have. */
function dispatcherTimeoutOf(props: BackgroundJobsProps): Duration {
  const timeout = props.dispatcherTimeout ?? DEFAULTS.dispatcherTimeout;
  const ms = timeout.toMilliseconds();
  // A run gets the timeout less RUN_TIME_RULE.registerMarginMs: below that no worker fits.
  const least = RUN_TIME_RULE.registerMarginMs / 1000 + 1;
  if (ms > MAX_FUNCTION_TIMEOUT.toMilliseconds() || ms < least * 1000 || ms % 1000 !== 0) {
    throw new BackgroundJobsPropsError(
      "dispatcherTimeout",
      `BackgroundJobs: dispatcherTimeout must be whole seconds from ${least} (a run gets the timeout less ${RUN_TIME_RULE.registerMarginMs / 1000} s) to ${MAX_FUNCTION_TIMEOUT.toSeconds()} (Lambda's limit); got ${timeout.toHumanString()}.`,
    );
  }
  return timeout;
}

/** A value for each lane. */
function perLane<T>(value: (lane: LaneName) => T): Record<LaneName, T> {
  return Object.fromEntries(LANES.map((lane) => [lane, value(lane)])) as Record<LaneName, T>;
}
