import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  Duration,
  aws_dynamodb as dynamodb,
  aws_lambda_event_sources as eventSources,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  aws_scheduler as scheduler,
  aws_scheduler_targets as schedulerTargets,
  type aws_sns as sns,
  aws_sqs as sqs,
  triggers,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { LOCAL_ONLY_MODULES } from "../lib/backend/local-only.ts";
import {
  countMetrics,
  DEFAULT_METRICS_NAMESPACE,
  envNames,
  metricDimensions,
  metricNames,
  SERVICE_NAME,
  scheduleGroupName,
  stackOutputNames,
} from "../lib/names.ts";
import {
  JOB_TABLE_INDEXES,
  jobTable,
  LANES,
  type LaneName,
  lanes as laneSettings,
  RUN_TIME_RULE,
} from "../lib/resources.ts";
import { bundleReactionApp, REACTION_HANDLERS, type ReactionAppProps } from "./reaction-bundle.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

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
  /** Alarms notify this topic when given. */
  alarmTopic?: sns.ITopic;
  /** What happens to the job table when the stack is deleted. Default RETAIN. */
  removalPolicy?: RemovalPolicy;
  /** Lambda log retention. Default one month. */
  logRetention?: logs.RetentionDays;
  /** CloudWatch namespace of the job metrics. Default `DEFAULT_METRICS_NAMESPACE` (lib/names.ts). */
  metricsNamespace?: string;
  /** Dispatcher memory (MB). Default 512. */
  memorySize?: number;
  /**
   * The dispatcher function's timeout: no run can take longer (a worker's `workTimeout` must
   * fit in it). At most 900 s, Lambda's limit. The lanes' visibility timeout is 6 times it
   * (AWS's advice for SQS event sources), capped at SQS's 12 hours. Default 900 s.
   */
  dispatcherTimeout?: Duration;
}

const DEFAULT_CONCURRENCY: Record<LaneName, number> = { critical: 20, normal: 10, low: 5 };

/** The deploy-time startup's time limit (the Trigger waits for it). */
const STARTUP_TIMEOUT = Duration.minutes(5);

/** Lambda's longest function timeout. */
export const MAX_FUNCTION_TIMEOUT = Duration.seconds(900);

/** SQS's longest visibility timeout. */
const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);

/**
 * A lane's visibility timeout for a dispatcher timeout: 6 times it, AWS's advice for a queue
 * an SQS event source reads (a batch the function throttles or retries is not re-delivered
 * while it may still run), capped at SQS's 12 hours.
 */
export function laneVisibilityTimeout(dispatcherTimeout: Duration): Duration {
  return Duration.seconds(
    Math.min(6 * dispatcherTimeout.toSeconds(), MAX_VISIBILITY_TIMEOUT.toSeconds()),
  );
}

/** The dispatcher timeout a construct gets from its props; refuses one Lambda cannot have. */
function dispatcherTimeoutOf(props: BackgroundJobsProps): Duration {
  const timeout = props.dispatcherTimeout ?? Duration.seconds(laneSettings.functionTimeoutSeconds);
  const ms = timeout.toMilliseconds();
  // A run gets the timeout less RUN_TIME_RULE.registerMarginMs: below that no worker fits.
  const least = RUN_TIME_RULE.registerMarginMs / 1000 + 1;
  if (ms > MAX_FUNCTION_TIMEOUT.toMilliseconds() || ms < least * 1000 || ms % 1000 !== 0) {
    throw new Error(
      `BackgroundJobs: dispatcherTimeout must be whole seconds from ${least} (a run gets the timeout less ${RUN_TIME_RULE.registerMarginMs / 1000} s) to ${MAX_FUNCTION_TIMEOUT.toSeconds()} (Lambda's limit); got ${timeout.toHumanString()}.`,
    );
  }
  return timeout;
}

/**
 * Background jobs for Reaction-style plugins: the job table, a queue and DLQ per priority lane,
 * the dispatcher Lambda on each lane, the reconciler every minute, EventBridge Scheduler for
 * repeats and long waits, and CloudWatch alarms and a dashboard. Built from
 * `lib/resources.ts`, the definition the local stack provisions too.
 */
export class BackgroundJobs extends Construct {
  readonly table: dynamodb.TableV2;
  readonly queues: Record<LaneName, sqs.Queue>;
  readonly deadLetterQueues: Record<LaneName, sqs.Queue>;
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
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BackgroundJobsProps) {
    super(scope, id);
    const dispatcherTimeout = dispatcherTimeoutOf(props);
    if ((props.pluginsEntry === undefined) === (props.reactionApp === undefined))
      throw new Error("BackgroundJobs: give exactly one of pluginsEntry and reactionApp");
    const namespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;

    this.table = new dynamodb.TableV2(this, "Jobs", {
      partitionKey: { name: jobTable.partitionKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: jobTable.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      globalSecondaryIndexes: JOB_TABLE_INDEXES.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.NUMBER },
        ...(index.projection.type === "INCLUDE"
          ? {
              projectionType: dynamodb.ProjectionType.INCLUDE,
              nonKeyAttributes: [...index.projection.attributes],
            }
          : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
      })),
    });

    const queues = {} as Record<LaneName, sqs.Queue>;
    const deadLetterQueues = {} as Record<LaneName, sqs.Queue>;
    for (const lane of LANES) {
      const dlq = new sqs.Queue(this, `${title(lane)}DeadLetters`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.seconds(laneSettings.dlqRetentionSeconds),
      });
      queues[lane] = new sqs.Queue(this, `${title(lane)}Lane`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: laneVisibilityTimeout(dispatcherTimeout),
        deadLetterQueue: { queue: dlq, maxReceiveCount: laneSettings.maxReceiveCount },
      });
      deadLetterQueues[lane] = dlq;
    }
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;

    this.scheduleGroup = new scheduler.ScheduleGroup(this, "Schedules", {
      scheduleGroupName: scheduleGroupName(Stack.of(this).stackName),
    });
    // Confused-deputy guard: Scheduler may assume the role only for this account's job
    // schedule group. Scheduler's aws:SourceArn is the schedule GROUP's ARN, not a schedule's
    // (AWS: "Do not scope the aws:SourceArn statement to a specific schedule or a schedule
    // name prefix"); a schedule/<group>/* pattern would never match and every firing would fail.
    this.schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: {
          StringEquals: {
            "aws:SourceAccount": Stack.of(this).account,
            "aws:SourceArn": this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
      description: "EventBridge Scheduler puts due job messages on the lanes; nothing else",
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ["sqs:SendMessage"],
        resources: LANES.map((lane) => queues[lane].queueArn),
      }),
    );

    const environment: Record<string, string> = {
      [envNames.tableName]: this.table.tableName,
      [envNames.scheduleGroup]: this.scheduleGroup.scheduleGroupName,
      [envNames.schedulerRoleArn]: this.schedulerRole.roleArn,
      [envNames.metricsNamespace]: namespace,
      // The dispatcher's timeout on both functions: both register the workers.
      [envNames.functionTimeoutMs]: String(dispatcherTimeout.toMilliseconds()),
      [envNames.powertoolsServiceName]: SERVICE_NAME,
      [envNames.sdkNodeVersionWarningDisabled]: "true",
      ...props.reactionApp?.environment,
    };
    for (const lane of LANES) {
      environment[envNames.queueUrl(lane)] = queues[lane].queueUrl;
      // For redriveDeadLetters() (npm run redrive reads the same variables).
      environment[envNames.deadLetterQueueUrl(lane)] = deadLetterQueues[lane].queueUrl;
    }

    const entries: { dispatcher: string; reconciler: string; startup?: string } = props.reactionApp
      ? bundleReactionApp(writeEntries(props.reactionApp.entry, REACTION_HANDLERS, "reaction-"))
      : writeEntries(props.pluginsEntry as string);
    const functionProps = (name: string, timeout: Duration): nodejs.NodejsFunctionProps => ({
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      environment,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
      logGroup: new logs.LogGroup(this, `${name}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
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
        ...(props.reactionApp ? { keepNames: true, logLevel: nodejs.LogLevel.ERROR } : {}),
      },
    });
    this.dispatcher = new nodejs.NodejsFunction(this, "Dispatcher", {
      ...functionProps("Dispatcher", dispatcherTimeout),
      entry: entries.dispatcher,
      description: "Claims and runs background jobs from the priority lanes",
    });
    this.reconciler = new nodejs.NodejsFunction(this, "Reconciler", {
      ...functionProps("Reconciler", Duration.seconds(60)),
      entry: entries.reconciler,
      description: "Re-sends lost job messages, ends dead runs, re-arms repeats, re-sweeps cancels",
    });

    // A deployment is the server start: the plugins' startup schedules and cancels jobs here,
    // once per deployment whose bundle (so whose plugins) changed, before the stack completes.
    if (entries.startup) {
      this.startup = new nodejs.NodejsFunction(this, "Startup", {
        ...functionProps("Startup", STARTUP_TIMEOUT),
        environment: { ...environment, [envNames.startupScheduling]: "run" },
        entry: entries.startup,
        description: "Runs the plugins' startup once per deployment: their repeating jobs",
      });
      this.startupTrigger = new triggers.Trigger(this, "RunStartup", {
        handler: this.startup,
        executeOnHandlerChange: true,
        timeout: STARTUP_TIMEOUT,
        // After the resources it writes, and after this deployment's dispatcher (with its lane
        // mappings) and reconciler: a job of a type the plugins just gained, scheduled by the new
        // startup, must not reach the old dispatcher, which has no worker for it and fails it.
        executeAfter: [
          this.table,
          this.scheduleGroup,
          this.schedulerRole,
          ...Object.values(queues),
          this.dispatcher,
          this.reconciler,
        ],
      });
    }

    for (const fn of [this.dispatcher, this.reconciler, this.startup]) if (fn) this.grantJobs(fn);
    for (const lane of LANES) {
      const settings = props.lanes?.[lane] ?? {};
      this.dispatcher.addEventSource(
        new eventSources.SqsEventSource(queues[lane], {
          batchSize: settings.batchSize ?? laneSettings.batchSize,
          reportBatchItemFailures: true,
          maxConcurrency: settings.maximumConcurrency ?? DEFAULT_CONCURRENCY[lane],
        }),
      );
    }

    new scheduler.Schedule(this, "ReconcileEveryMinute", {
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      target: new schedulerTargets.LambdaInvoke(this.reconciler, { retryAttempts: 0 }),
      description: "Runs the background-jobs reconciler",
    });

    this.addAlarms(namespace, props);
    this.dashboard = this.addDashboard(namespace);
    this.addOutputs();
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
    const stack = Stack.of(this);
    const all = LANES.flatMap((lane) => [this.queues[lane], this.deadLetterQueues[lane]]);
    const dlqs = LANES.map((lane) => this.deadLetterQueues[lane].queueArn);
    const grants = [
      ["dynamodb:GetItem", "dynamodb:BatchGetItem"],
      ["dynamodb:Query"],
      ["sqs:GetQueueAttributes"],
      ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"],
      ["scheduler:GetSchedule"],
      ["scheduler:ListSchedules"],
      ["cloudformation:DescribeStacks"],
    ] as const;
    const resources: string[][] = [
      [this.table.tableArn],
      JOB_TABLE_INDEXES.map((index) => `${this.table.tableArn}/index/${index.name}`),
      all.map((queue) => queue.queueArn),
      dlqs,
      [this.schedulesArn()],
      // ListSchedules has no resource type: it cannot be scoped (the group is a request parameter).
      ["*"],
      [stack.stackId],
    ];
    return grants
      .map((actions, i) =>
        iam.Grant.addToPrincipal({
          grantee,
          actions: [...actions],
          resourceArns: resources[i] as string[],
        }),
      )
      .reduce((combined, grant) => combined.combine(grant));
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
    const writes = [
      iam.Grant.addToPrincipal({
        grantee,
        actions: ["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        resourceArns: [this.table.tableArn],
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ["sqs:SendMessage"],
        resourceArns: LANES.map((lane) => this.queues[lane].queueArn),
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ["sqs:DeleteMessage"],
        resourceArns: LANES.map((lane) => this.deadLetterQueues[lane].queueArn),
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: [
          "scheduler:CreateSchedule",
          "scheduler:UpdateSchedule",
          "scheduler:DeleteSchedule",
        ],
        resourceArns: [this.schedulesArn()],
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ["iam:PassRole"],
        resourceArns: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      }),
    ];
    return writes.reduce((combined, grant) => combined.combine(grant), this.grantRead(grantee));
  }

  /** The schedules of the job schedule group. */
  private schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: "scheduler",
      resource: "schedule",
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
  }

  /** The outputs `bgjobs --stack NAME` reads (names in lib/names.ts). */
  private addOutputs(): void {
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    output(stackOutputNames.tableName, this.table.tableName, "The job table");
    for (const lane of LANES) {
      output(
        stackOutputNames.queueUrl(lane),
        this.queues[lane].queueUrl,
        `The ${lane} lane's queue`,
      );
      output(
        stackOutputNames.deadLetterQueueUrl(lane),
        this.deadLetterQueues[lane].queueUrl,
        `The ${lane} lane's dead-letter queue`,
      );
    }
    output(
      stackOutputNames.scheduleGroup,
      this.scheduleGroup.scheduleGroupName,
      "The job schedule group",
    );
    output(
      stackOutputNames.schedulerRoleArn,
      this.schedulerRole.roleArn,
      "The role EventBridge Scheduler sends job messages with",
    );
  }

  /**
   * Least privilege, exactly what lib/aws calls: items of the table (Get/BatchGet/Put/Update/Delete),
   * Query on the indexes (never the table), SendMessage (and SendMessageBatch) to the
   * lanes, Create/Update/DeleteSchedule in the job schedule group, and passing the scheduler
   * role to Scheduler. The SQS event sources add the dispatcher's consume grant
   * (ReceiveMessage, DeleteMessage, ChangeMessageVisibility, ...) on the lanes.
   */
  private grantJobs(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          "dynamodb:GetItem",
          "dynamodb:BatchGetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
        ],
        resources: [this.table.tableArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:Query"],
        resources: JOB_TABLE_INDEXES.map((index) => `${this.table.tableArn}/index/${index.name}`),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["sqs:SendMessage"],
        resources: LANES.map((lane) => this.queues[lane].queueArn),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          "scheduler:CreateSchedule",
          "scheduler:UpdateSchedule",
          "scheduler:DeleteSchedule",
        ],
        resources: [this.schedulesArn()],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      }),
    );
  }

  private addAlarms(namespace: string, props: BackgroundJobsProps): void {
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
    ) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (props.alarmTopic)
        created.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      this.alarms.push(created);
    };
    for (const lane of LANES) {
      alarm(
        `${title(lane)}DeadLettersNotEmpty`,
        this.deadLetterQueues[lane].metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: "Maximum",
        }),
        1,
        `Messages in the ${lane} lane's DLQ: poison messages or a dispatcher that keeps crashing. Inspect, then redrive.`,
      );
      const maxAge = props.lanes?.[lane]?.maxMessageAge ?? Duration.minutes(15);
      alarm(
        `${title(lane)}OldestMessage`,
        this.queues[lane].metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: "Maximum",
        }),
        maxAge.toSeconds(),
        `A ${lane} job has waited over ${maxAge.toHumanString()} to start: the lane is backed up.`,
      );
    }
    alarm(
      "DispatcherErrors",
      this.dispatcher.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
      1,
      "The dispatcher Lambda failed (a whole batch comes back).",
    );
    alarm(
      "DispatcherThrottles",
      this.dispatcher.metricThrottles({ period: Duration.minutes(5), statistic: "Sum" }),
      1,
      "The dispatcher Lambda was throttled.",
    );
    alarm(
      metricNames.jobsFailed,
      jobMetric(namespace, metricNames.jobsFailed, "Sum", Duration.minutes(5)),
      1,
      "Jobs ended failed (retries used up, or a fatal failure).",
    );
  }

  private addDashboard(namespace: string): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, "Dashboard", {});
    const period = Duration.minutes(5);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Jobs by outcome",
        left: countMetrics.map((name) => jobMetric(namespace, name, "Sum", period, name)),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Jobs by type (completed, failed)",
        left: [metricNames.jobsCompleted, metricNames.jobsFailed].map(
          (name) =>
            new cloudwatch.MathExpression({
              expression: `SEARCH('{${namespace},${metricDimensions.service},${metricDimensions.type}} MetricName="${name}"', 'Sum', 300)`,
              label: name,
              period,
            }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Start delay (ms after due)",
        left: ["p50", "p95", "Maximum"].map((stat) =>
          jobMetric(namespace, metricNames.jobStartDelay, stat, period, stat),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Duration (ms)",
        left: ["p50", "p95", "Maximum"].map((stat) =>
          jobMetric(namespace, metricNames.jobDuration, stat, period, stat),
        ),
        width: 12,
      }),
    );
    const depth = (title: string, queues: Record<LaneName, sqs.Queue>) =>
      new cloudwatch.GraphWidget({
        title,
        left: LANES.map((lane) =>
          queues[lane].metricApproximateNumberOfMessagesVisible({
            period,
            statistic: "Maximum",
            label: lane,
          }),
        ),
        width: 12,
      });
    dashboard.addWidgets(
      depth("Queue depth per lane", this.queues),
      depth("DLQ depth per lane", this.deadLetterQueues),
    );
    return dashboard;
  }
}

/** A job metric over every type (the `{service}` dimension set); labelled for graphs. */
function jobMetric(
  namespace: string,
  name: string,
  statistic: string,
  period: Duration,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName: name,
    dimensionsMap: { [metricDimensions.service]: SERVICE_NAME },
    statistic,
    period,
    ...(label ? { label } : {}),
  });
}

function title(lane: LaneName): string {
  return lane[0]?.toUpperCase() + lane.slice(1);
}

/** What the functions' generated entries import: a handlers module and its two factories. */
interface EntryHandlers {
  /** The handlers module under `lambdas/`. */
  file: string;
  dispatcher: string;
  reconciler: string;
  /** The deploy-time startup's factory; none for a Reaction app, whose API server schedules. */
  startup?: string;
  /** The name the entries import from the user's module and hand the factories. */
  imported: string;
}

const PLUGIN_HANDLERS: EntryHandlers = {
  file: "handlers.ts",
  dispatcher: "dispatcherHandler",
  reconciler: "reconcilerHandler",
  startup: "startupHandler",
  imported: "plugins",
};

/**
 * The Lambda entry files for a user's module (a plugins module, or a Reaction app module):
 * each imports what the module exports and wraps it in the shared handler. Written under this
 * checkout's own `.cache/` (generated, never committed), not under node_modules: a
 * node_modules shared by several checkouts (a symlink) would make esbuild resolve the entries'
 * relative imports, and so bundle the handlers, from whichever checkout owns it.
 */
function writeEntries(
  userModule: string,
  handlers: EntryHandlers = PLUGIN_HANDLERS,
  prefix = "",
): { dispatcher: string; reconciler: string; startup?: string } {
  const dir = join(REPO_ROOT, ".cache", "background-jobs-entries");
  mkdirSync(dir, { recursive: true });
  const importPath = (target: string) => {
    const path = relative(dir, target).split("\\").join("/");
    return path.startsWith(".") ? path : `./${path}`;
  };
  const write = (name: string, factory: string) => {
    const file = join(dir, `${prefix}${name}.ts`);
    writeFileSync(
      file,
      [
        `import { ${factory} } from "${importPath(join(REPO_ROOT, "lambdas", handlers.file))}";`,
        `import { ${handlers.imported} } from "${importPath(resolve(userModule))}";`,
        `export const handler = ${factory}(${handlers.imported});`,
        "",
      ].join("\n"),
    );
    return file;
  };
  return {
    dispatcher: write("dispatcher", handlers.dispatcher),
    reconciler: write("reconciler", handlers.reconciler),
    ...(handlers.startup ? { startup: write("startup", handlers.startup) } : {}),
  };
}
