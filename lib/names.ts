/**
 * The names the CDK construct (`infra/`) and the runtime (`lib/`) must agree on: the
 * environment variables the construct sets on the functions, the CloudWatch metric and
 * dimension names the runtime emits and the alarms and dashboard read, the service name and
 * the schedule group's name. Each is written here once; both sides import it.
 */
import type { LaneName } from "./resources.ts";

/** The Powertools service name: the `service` dimension of every metric, and the logs' `service`. */
export const SERVICE_NAME = "background-jobs";

/** The CloudWatch namespace of the job metrics when none is configured. */
export const DEFAULT_METRICS_NAMESPACE = "BackgroundJobs";

/** Environment variables the construct sets on both functions. */
export const envNames = {
  /** The job table's name. */
  tableName: "JOBS_TABLE_NAME",
  /** A lane's queue URL: `JOBS_QUEUE_URL_CRITICAL`, `..._NORMAL`, `..._LOW`. */
  queueUrl: <L extends LaneName>(lane: L) =>
    `JOBS_QUEUE_URL_${lane.toUpperCase() as Uppercase<L>}` as const,
  /** A lane's dead-letter queue URL: `JOBS_DLQ_URL_CRITICAL`, `..._NORMAL`, `..._LOW`. */
  deadLetterQueueUrl: <L extends LaneName>(lane: L) =>
    `JOBS_DLQ_URL_${lane.toUpperCase() as Uppercase<L>}` as const,
  /** The EventBridge Scheduler group the job schedules are created in. */
  scheduleGroup: "JOBS_SCHEDULE_GROUP",
  /** The role EventBridge Scheduler assumes to send a schedule's message to a lane. */
  schedulerRoleArn: "JOBS_SCHEDULER_ROLE_ARN",
  /** The CloudWatch namespace of the job metrics. */
  metricsNamespace: "JOBS_METRICS_NAMESPACE",
  /**
   * The dispatcher function's timeout in milliseconds: the most time a run can have. Set on
   * both functions, since both register the workers (the reconciler never runs one).
   */
  functionTimeoutMs: "JOBS_FUNCTION_TIMEOUT_MS",
  /**
   * `run` on the deploy-time startup function only: there the plugins' startup schedules and
   * cancels jobs. Unset on the dispatcher and the reconciler, whose cold starts only register
   * workers (see lib/startup-gate.ts).
   */
  startupScheduling: "JOBS_STARTUP_SCHEDULING",
  /** Powertools' own variable for the service name. */
  powertoolsServiceName: "POWERTOOLS_SERVICE_NAME",
  /** AWS SDK v3's switch for its Node.js version warning. */
  sdkNodeVersionWarningDisabled: "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
} as const;

/**
 * Environment variables the runtime and `bgjobs` read besides the construct's: the local
 * stack's data folder, Reaction's workers switch, who acts, and what Lambda itself sets.
 * lib/environment.ts reads them all.
 */
export const hostEnvNames = {
  /** The local stack's data folder (DynamoDB Local's files, the schedules, `stack.json`). */
  dataDir: "JOBS_DATA_DIR",
  /** The older name of `JOBS_DATA_DIR`, still read when that is not set. */
  dataDirAlias: "DATA_DIR",
  /** Reaction's own switch (default true): `false` makes `addWorker` register nothing. */
  workersEnabled: "REACTION_WORKERS_ENABLED",
  /** Who acts, for the operator tools' audit trail. */
  actor: "BGJOBS_ACTOR",
  /** The region, as Lambda and the AWS SDK set and read it. */
  region: "AWS_REGION",
  /** The AWS CLI's name for it, read when `AWS_REGION` is not set. */
  defaultRegion: "AWS_DEFAULT_REGION",
  /** Set by Lambda in every function: its presence means this process runs in Lambda. */
  lambdaFunctionName: "AWS_LAMBDA_FUNCTION_NAME",
  /** The AWS SDK's endpoint for every service; `<this>_<SERVICE>` (e.g. `_SQS`) wins for one. */
  endpointUrl: "AWS_ENDPOINT_URL",
  /** The AWS SDK's switch (`true`) to ignore the configured endpoint URLs above. */
  ignoreConfiguredEndpointUrls: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
} as const;

/** The deployable stack's name when `JOBS_STACK_NAME` is not set. */
export const DEFAULT_STACK_NAME = "BackgroundJobs";

/** Environment variables `cdk synth` reads (infra/app.ts); the functions never see them. */
export const deployEnvNames = {
  /** The stack's name. Default "BackgroundJobs". */
  stackName: "JOBS_STACK_NAME",
  /** The module that exports `plugins`. Default "lambdas/plugins.ts". */
  pluginsEntry: "JOBS_PLUGINS_ENTRY",
  /** Instead: a module exporting `buildApp()`, a team's unstarted Reaction API. */
  reactionAppEntry: "JOBS_REACTION_APP_ENTRY",
} as const;

/** Count metrics (unit Count, one per event), in the order the dashboard graphs them. */
export const countMetrics = [
  "JobsScheduled",
  "JobsStarted",
  "JobsCompleted",
  "JobsRetried",
  "JobsFailed",
  "JobsCancelled",
  "RepeatsSkipped",
] as const;

/** Time metrics (unit Milliseconds). */
export const timeMetrics = ["JobDuration", "JobStartDelay"] as const;

export type CountMetricName = (typeof countMetrics)[number];
export type TimeMetricName = (typeof timeMetrics)[number];

/** Every metric name, by a name to use in code. */
export const metricNames = {
  jobsScheduled: "JobsScheduled",
  jobsStarted: "JobsStarted",
  jobsCompleted: "JobsCompleted",
  jobsRetried: "JobsRetried",
  jobsFailed: "JobsFailed",
  jobsCancelled: "JobsCancelled",
  repeatsSkipped: "RepeatsSkipped",
  jobDuration: "JobDuration",
  jobStartDelay: "JobStartDelay",
} as const satisfies Record<string, CountMetricName | TimeMetricName>;

/**
 * The metrics' dimensions: `service` (Powertools adds it, valued SERVICE_NAME) and the job
 * `type`. Each metric is published under `{service, type}` and under `{service}` alone.
 */
export const metricDimensions = { service: "service", type: "type" } as const;

/** EventBridge Scheduler caps a schedule group's name at 64 characters. */
export const SCHEDULE_GROUP_NAME_MAX_LENGTH = 64;

/** The job schedule group of a deployment (or a local stack) named `prefix`: `${prefix}-jobs`. */
export function scheduleGroupName(prefix: string): string {
  return `${prefix}-jobs`.slice(0, SCHEDULE_GROUP_NAME_MAX_LENGTH);
}

/**
 * The CloudFormation outputs the construct adds, which `bgjobs --stack NAME` reads to find a
 * deployment: the table, each lane's queue and DLQ URL, the schedule group and the role
 * EventBridge Scheduler sends with.
 */
export const stackOutputNames = {
  tableName: "JobsTableName",
  queueUrl: (lane: LaneName) => `JobsQueueUrl${lane[0]?.toUpperCase()}${lane.slice(1)}`,
  deadLetterQueueUrl: (lane: LaneName) =>
    `JobsDeadLetterQueueUrl${lane[0]?.toUpperCase()}${lane.slice(1)}`,
  scheduleGroup: "JobsScheduleGroup",
  schedulerRoleArn: "JobsSchedulerRoleArn",
} as const;
