import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, Duration, Stack, aws_sqs as sqs, Validations } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import recommendedFlags from "aws-cdk-lib/recommended-feature-flags.json" with { type: "json" };
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app.ts";
import { BackgroundJobs, type BackgroundJobsProps } from "../../infra/background-jobs/construct.ts";
import { laneVisibilityTimeout } from "../../infra/background-jobs/resources.ts";
import { awsOptionsFromEnvironment } from "../../lib/app.ts";
import { DEFAULT_METRICS_NAMESPACE, envNames, metricNames, SERVICE_NAME } from "../../lib/names.ts";
import { jobTable, LANES, lanes } from "../../lib/resources.ts";

/** A fresh cloud assembly directory: node_modules may be shared with other checkouts. */
const outdirs: string[] = [];
const outdir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  outdirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** cdk.json's context: `cdk synth` passes it to the app, so the tests' apps get it too. */
const cdkJsonContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL("../../cdk.json", import.meta.url), "utf8"),
).context;

/** The app as `cdk synth` builds it (cdk.json's feature flags, cdk-nag), into a temp dir. */
const cdkApp = (name: string) => new App({ outdir: outdir(name), context: cdkJsonContext });

/** A construct's CloudFormation logical ID in the built stack. */
const logicalId = (construct: IConstruct) =>
  built.stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** What a role's inline policies allow: action → its resources (JSON, sorted). */
function grantsOf(role: IConstruct): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  const id = logicalId(role);
  for (const policy of Object.values(template.findResources("AWS::IAM::Policy"))) {
    if (!policy.Properties.Roles.some((r: { Ref: string }) => r.Ref === id)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      expect(statement.Effect).toBe("Allow");
      for (const action of [statement.Action].flat()) {
        const resources = [statement.Resource].flat().map((r: unknown) => JSON.stringify(r));
        grants[action] = [...(grants[action] ?? []), ...resources].sort();
      }
    }
  }
  return grants;
}

let built: ReturnType<typeof buildApp>;
let template: Template;
beforeAll(() => {
  built = buildApp(cdkApp("cdk-test-out"));
  template = Template.fromStack(built.stack);
}, 120_000);

describe("feature flags", () => {
  it("cdk.json carries exactly the recommended flags of the installed aws-cdk-lib (what cdk init writes)", () => {
    expect(cdkJsonContext).toEqual(recommendedFlags);
  });

  it("leaves no flag needing attention, so cdk synth prints no flag warning; and no warning annotations", () => {
    // The CLI's rule (`cdk flags`): a flag needs attention when it is not configured and its
    // unconfigured behaviour differs from the recommended value.
    const assembly = built.app.synth();
    const report = Object.values(assembly.manifest.artifacts ?? {}).find(
      (artifact) => artifact.type === "cdk:feature-flag-report",
    );
    const flags = (report?.properties as { flags?: Record<string, FlagReport> } | undefined)?.flags;
    expect(flags).toBeDefined();
    const needAttention = Object.entries(flags ?? {})
      .filter(([, flag]) => flag.userValue === undefined)
      .filter(([, flag]) => (flag.unconfiguredBehavesLike?.v2 ?? false) !== flag.recommendedValue)
      .map(([name]) => name);
    expect(needAttention).toEqual([]);
    expect(Annotations.fromStack(built.stack).findWarning("*", Match.anyValue())).toEqual([]);
  });
});

interface FlagReport {
  userValue?: unknown;
  recommendedValue?: unknown;
  unconfiguredBehavesLike?: { v2?: unknown };
}

describe("the BackgroundJobs construct", () => {
  it("creates the job table from lib/resources.ts: on demand, TTL, PITR, retained, its indexes", () => {
    template.hasResource("AWS::DynamoDB::GlobalTable", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "_id", KeyType: "HASH" }],
        TimeToLiveSpecification: { AttributeName: jobTable.ttlAttribute, Enabled: true },
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: "open",
            KeySchema: [
              { AttributeName: "openKey", KeyType: "HASH" },
              { AttributeName: "dueAt", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["tenant", "created"] },
          }),
          Match.objectLike({
            IndexName: "byType",
            KeySchema: [
              { AttributeName: "typeKey", KeyType: "HASH" },
              { AttributeName: "created", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["tenant"] },
          }),
        ],
      }),
    });
  });

  it("creates a lane and a DLQ per priority: SSE, TLS only, redrive, visibility 6x the function timeout", () => {
    const queues = template.findResources("AWS::SQS::Queue");
    expect(Object.keys(queues)).toHaveLength(6);
    const lanesWithRedrive = Object.values(queues).filter((q) => q.Properties.RedrivePolicy);
    expect(lanesWithRedrive).toHaveLength(3);
    for (const lane of lanesWithRedrive) {
      expect(lane.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 6 * lanes.functionTimeoutSeconds,
        RedrivePolicy: { maxReceiveCount: lanes.maxReceiveCount },
      });
    }
    for (const queue of Object.values(queues))
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = template.findResources("AWS::SQS::QueuePolicy");
    expect(Object.keys(policies)).toHaveLength(6);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain(
        '"aws:SecureTransport":"false"',
      );
    }
  });

  it("maps each lane to the dispatcher with partial batch responses and weighted concurrency", () => {
    // The lanes' mappings (the payload purger reads the table's stream: its own test below).
    const mappings = Object.values(
      template.findResources("AWS::Lambda::EventSourceMapping", {
        Properties: { FunctionName: { Ref: logicalId(built.stack.jobs.dispatcher) } },
      }),
    );
    expect(mappings).toHaveLength(3);
    const concurrency = mappings
      .map((m) => m.Properties.ScalingConfig.MaximumConcurrency)
      .sort((a, b) => b - a);
    expect(concurrency).toEqual([20, 10, 5]);
    for (const mapping of mappings) {
      expect(mapping.Properties).toMatchObject({
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        BatchSize: 10,
      });
    }
  });

  it("runs its three functions on nodejs22.x with exactly the environment lib/names.ts names", () => {
    const functions = Object.values(template.findResources("AWS::Lambda::Function"));
    const ours = functions.filter((f) => f.Properties.Environment?.Variables?.[envNames.tableName]);
    expect(ours).toHaveLength(3);
    const expected = [
      envNames.tableName,
      ...LANES.map((lane) => envNames.queueUrl(lane)),
      ...LANES.map((lane) => envNames.deadLetterQueueUrl(lane)),
      envNames.scheduleGroup,
      envNames.schedulerRoleArn,
      envNames.payloadBucket,
      envNames.metricsNamespace,
      envNames.functionTimeoutMs,
      envNames.powertoolsServiceName,
      envNames.sdkNodeVersionWarningDisabled,
    ];
    const startup = ours.filter(
      (f) => f.Properties.Environment.Variables[envNames.startupScheduling],
    );
    // Only the deploy-time startup schedules from the plugins' startup.
    expect(startup).toHaveLength(1);
    expect(startup[0]?.Properties.Environment.Variables[envNames.startupScheduling]).toBe("run");
    for (const fn of ours) {
      expect(fn.Properties.Runtime).toBe("nodejs22.x");
      const variables = fn.Properties.Environment.Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [...expected, ...(startup.includes(fn) ? [envNames.startupScheduling] : [])].sort(),
      );
      expect(variables[envNames.metricsNamespace]).toBe(DEFAULT_METRICS_NAMESPACE);
      expect(variables[envNames.powertoolsServiceName]).toBe(SERVICE_NAME);
      expect(variables[envNames.functionTimeoutMs]).toBe(
        String(lanes.functionTimeoutSeconds * 1000),
      );
    }
    const dispatcher = ours.find((f) => f.Properties.Timeout === lanes.functionTimeoutSeconds);
    expect(dispatcher).toBeDefined();
  });

  it("gives the functions each lane's queue and DLQ URL, and the runtime finds all it needs there", () => {
    const { stack } = built;
    const ref = (queue: sqs.Queue) => ({
      Ref: stack.getLogicalId(queue.node.defaultChild as sqs.CfnQueue),
    });
    const functions = Object.values(template.findResources("AWS::Lambda::Function")).filter(
      (f) => f.Properties.Environment?.Variables?.[envNames.tableName],
    );
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
      for (const lane of LANES) {
        expect(variables[envNames.queueUrl(lane)]).toEqual(ref(stack.jobs.queues[lane]));
        expect(variables[envNames.deadLetterQueueUrl(lane)]).toEqual(
          ref(stack.jobs.deadLetterQueues[lane]),
        );
      }
      // What awsOptionsFromEnvironment makes of these variables (values stand in for tokens).
      const env = Object.fromEntries(Object.keys(variables).map((name) => [name, `<${name}>`]));
      const options = awsOptionsFromEnvironment(env);
      expect(Object.keys(options.deadLetterQueueUrls ?? {})).toEqual([...LANES]);
      expect(options.scheduleGroup).toBeDefined();
      expect(options.schedulerRoleArn).toBeDefined();
    }
  });

  it("grants least privilege: no wildcard actions; the scheduler role may only send to the lanes", () => {
    const policies = Object.values(template.findResources("AWS::IAM::Policy"));
    for (const policy of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        for (const action of actions) expect(action).not.toMatch(/\*/);
      }
    }
    const roles = template.findResources("AWS::IAM::Role", {
      Properties: {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: "scheduler.amazonaws.com" } })],
        }),
      },
    });
    const schedulerRoleIds = Object.keys(roles);
    const schedulerPolicies = policies.filter((p) =>
      p.Properties.Roles.some((r: { Ref: string }) => schedulerRoleIds.includes(r.Ref)),
    );
    const schedulerActions = schedulerPolicies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) =>
        [s.Action].flat(),
      ),
    );
    expect(new Set(schedulerActions)).toEqual(
      new Set(["sqs:SendMessage", "lambda:InvokeFunction"]),
    );
  });

  it("grants the functions exactly the calls lib/aws makes, on exactly their resources", () => {
    const { stack } = built;
    const { jobs } = stack;
    const json = (...tokens: unknown[]) =>
      tokens.map((t) => JSON.stringify(stack.resolve(t))).sort();
    const table = json(jobs.table.tableArn);
    const indexes = json(
      ...Object.values(jobTable.indexes).map(
        (index) => `${jobs.table.tableArn}/index/${index.name}`,
      ),
    );
    const laneArns = json(...LANES.map((lane) => jobs.queues[lane].queueArn));
    const payloads = json(jobs.payloadBucket.arnForObjects("data/*"));
    const schedules = json(
      stack.formatArn({
        service: "scheduler",
        resource: "schedule",
        resourceName: `${jobs.scheduleGroup.scheduleGroupName}/*`,
      }),
    );
    const common = {
      "dynamodb:GetItem": table,
      "dynamodb:BatchGetItem": table,
      "dynamodb:PutItem": table,
      "dynamodb:UpdateItem": table,
      "dynamodb:DeleteItem": table,
      "dynamodb:Query": indexes,
      "sqs:SendMessage": laneArns,
      "scheduler:CreateSchedule": schedules,
      "scheduler:UpdateSchedule": schedules,
      "scheduler:DeleteSchedule": schedules,
      "iam:PassRole": json(jobs.schedulerRole.roleArn),
      "s3:GetObject": payloads,
      "s3:PutObject": payloads,
      "s3:AbortMultipartUpload": payloads,
      "s3:DeleteObject": payloads,
    };
    expect(grantsOf(jobs.reconciler.role!)).toEqual(common);
    expect(grantsOf(jobs.startup!.role!)).toEqual(common);
    // The dispatcher also consumes the lanes (the SQS event sources' grant).
    expect(grantsOf(jobs.dispatcher.role!)).toEqual({
      ...common,
      "sqs:ReceiveMessage": laneArns,
      "sqs:DeleteMessage": laneArns,
      "sqs:ChangeMessageVisibility": laneArns,
      "sqs:GetQueueAttributes": laneArns,
      "sqs:GetQueueUrl": laneArns,
    });
    expect(JSON.stringify(template.toJSON())).not.toContain("scheduler:GetSchedule");
    // PassRole only towards EventBridge Scheduler.
    template.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: logicalId(jobs.dispatcher.role!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "iam:PassRole",
            Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
          }),
        ]),
      },
    });
  });

  it("runs the plugins' startup at deploy time: a Trigger on the startup function, after the resources it writes, again whenever its bundle changes", () => {
    const { stack } = built;
    const { jobs } = stack;
    const triggers = Object.entries(template.findResources("Custom::Trigger"));
    expect(triggers).toHaveLength(1);
    const [triggerId, trigger] = triggers[0] as [
      string,
      { Properties: Record<string, unknown>; DependsOn?: string[] },
    ];
    // The handler is a version of the function: a new bundle is a new version, so it runs again.
    const versionId = (trigger.Properties.HandlerArn as { Ref: string }).Ref;
    const version = template.toJSON().Resources[versionId];
    expect(version.Type).toBe("AWS::Lambda::Version");
    expect(version.Properties.FunctionName).toEqual({ Ref: logicalId(jobs.startup!) });
    expect(trigger.Properties.InvocationType).toBe("RequestResponse");
    const after = trigger.DependsOn ?? [];
    for (const construct of [jobs.table, jobs.scheduleGroup, ...LANES.map((l) => jobs.queues[l])])
      expect(after).toContain(logicalId(construct));
    expect(triggerId).toBeDefined();
    const startupFn = template.toJSON().Resources[logicalId(jobs.startup!)];
    expect(startupFn.Properties.Timeout).toBe(300);
  });

  it("runs the startup only once the dispatcher and the reconciler of the same deployment are in place", () => {
    // Otherwise the new startup can schedule a job of a type the plugins just gained while the
    // old dispatcher, which has no worker for it, still takes the lanes: it fails the job.
    const { jobs } = built.stack;
    const triggers = Object.values(template.findResources("Custom::Trigger")) as Array<{
      DependsOn?: string[];
    }>;
    expect(triggers).toHaveLength(1);
    const after = triggers[0]?.DependsOn ?? [];
    for (const fn of [jobs.dispatcher, jobs.reconciler]) expect(after).toContain(logicalId(fn));
    const mappings = Object.keys(
      template.findResources("AWS::Lambda::EventSourceMapping", {
        Properties: { FunctionName: { Ref: logicalId(jobs.dispatcher) } },
      }),
    );
    expect(mappings).toHaveLength(LANES.length);
    for (const mapping of mappings) expect(after).toContain(mapping);
  });

  it("lets EventBridge Scheduler assume its roles only for this account and its own schedule group", () => {
    const { stack } = built;
    const account = { Ref: "AWS::AccountId" };
    const jobGroupArn = { "Fn::GetAtt": [logicalId(stack.jobs.scheduleGroup), "Arn"] };
    const jobRole = template.findResources("AWS::IAM::Role")[logicalId(stack.jobs.schedulerRole)];
    expect(jobRole?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Condition: {
          StringEquals: { "aws:SourceAccount": account, "aws:SourceArn": jobGroupArn },
        },
      },
    ]);
    // Every role Scheduler may assume (the reconcile schedule's, in the default group, too)
    // names the account and a schedule GROUP: Scheduler's aws:SourceArn is never a schedule's.
    const schedulerRoles = Object.values(
      template.findResources("AWS::IAM::Role", {
        Properties: {
          AssumeRolePolicyDocument: Match.objectLike({
            Statement: Match.arrayWith([
              Match.objectLike({ Principal: { Service: "scheduler.amazonaws.com" } }),
            ]),
          }),
        },
      }),
    );
    expect(schedulerRoles).toHaveLength(2);
    for (const role of schedulerRoles) {
      for (const statement of role.Properties.AssumeRolePolicyDocument.Statement) {
        const { StringEquals: equals } = statement.Condition;
        expect(equals["aws:SourceAccount"]).toEqual(account);
        const sourceArn = JSON.stringify(equals["aws:SourceArn"]);
        expect(
          sourceArn === JSON.stringify(jobGroupArn) || sourceArn.includes(":schedule-group/"),
        ).toBe(true);
      }
    }
  });

  it("keeps large data in a private bucket: SSE-S3, TLS only, no public access, retained with the table, a lifecycle rule, an output", () => {
    const { stack } = built;
    const { jobs } = stack;
    template.resourceCountIs("AWS::S3::Bucket", 1);
    template.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Prefix: "data/",
              Status: "Enabled",
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            }),
          ],
        },
      }),
    });
    // TLS only: every request without it is denied.
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
    const bucket = logicalId(jobs.payloadBucket);
    template.hasOutput("JobsPayloadBucket", { Value: { Ref: bucket } });
  });

  it("purges a removed record's payload: the table's stream, filtered to removals of claim-checked records, to a function that may only delete payloads", () => {
    const { jobs } = built.stack;
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      StreamSpecification: { StreamViewType: "OLD_IMAGE" },
    });
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: logicalId(jobs.payloadPurger) },
      StartingPosition: "TRIM_HORIZON",
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ["REMOVE"],
              dynamodb: { OldImage: { dataRef: { M: { key: { S: [{ exists: true }] } } } } },
            }),
          },
        ],
      },
    });
    const grants = grantsOf(jobs.payloadPurger.role!);
    expect(Object.keys(grants).sort()).toEqual(
      [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "s3:DeleteObject",
      ].sort(),
    );
    expect(grants["s3:DeleteObject"]).toEqual([
      JSON.stringify(built.stack.resolve(jobs.payloadBucket.arnForObjects("data/*"))),
    ]);
    const variables =
      template.findResources("AWS::Lambda::Function")[logicalId(jobs.payloadPurger)]?.Properties
        .Environment.Variables;
    expect(variables[envNames.payloadBucket]).toEqual({ Ref: logicalId(jobs.payloadBucket) });
  });

  it("schedules the reconciler every minute and creates the job schedule group", () => {
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "rate(1 minute)",
    });
    template.resourceCountIs("AWS::Scheduler::ScheduleGroup", 1);
  });

  it("alarms on DLQs, message age per lane, dispatcher errors and throttles, failed jobs; and has a dashboard", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm"));
    const metrics = alarms.map((a) => a.Properties.MetricName);
    expect(metrics.filter((m) => m === "ApproximateNumberOfMessagesVisible")).toHaveLength(3);
    expect(metrics.filter((m) => m === "ApproximateAgeOfOldestMessage")).toHaveLength(3);
    expect(metrics).toEqual(
      expect.arrayContaining(["Errors", "Throttles", metricNames.jobsFailed]),
    );
    const dashboard = Object.values(template.findResources("AWS::CloudWatch::Dashboard"))[0];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const title of [
      "Jobs by outcome",
      "Start delay",
      "Duration",
      "Queue depth per lane",
      "DLQ depth per lane",
    ]) {
      expect(body).toContain(title);
    }
  });
});

describe("the dispatcher timeout prop", () => {
  /** A stack with the construct alone, bundling skipped (these tests read the template). */
  const jobsStack = (props: Partial<BackgroundJobsProps> = {}) => {
    const app = new App({
      outdir: outdir("cdk-timeout"),
      context: { ...cdkJsonContext, "aws:cdk:bundling-stacks": [] },
    });
    const stack = new Stack(app, "Timeout");
    const jobs = new BackgroundJobs(stack, "Jobs", {
      pluginsEntry: "lambdas/plugins.ts",
      ...props,
    });
    return { stack, jobs };
  };

  it("sets the dispatcher's timeout, the lanes' visibility (6x) and JOBS_FUNCTION_TIMEOUT_MS on both functions", () => {
    const { stack, jobs } = jobsStack({ dispatcherTimeout: Duration.minutes(5) });
    const timeoutTemplate = Template.fromStack(stack);
    const functions = timeoutTemplate.findResources("AWS::Lambda::Function");
    const id = (fn: IConstruct) => stack.getLogicalId(fn.node.defaultChild as CfnElement);
    expect(functions[id(jobs.dispatcher)]?.Properties.Timeout).toBe(300);
    expect(functions[id(jobs.reconciler)]?.Properties.Timeout).toBe(60);
    for (const fn of [jobs.dispatcher, jobs.reconciler]) {
      expect(functions[id(fn)]?.Properties.Environment.Variables[envNames.functionTimeoutMs]).toBe(
        "300000",
      );
    }
    const queues = timeoutTemplate.findResources("AWS::SQS::Queue");
    for (const lane of LANES) {
      expect(queues[id(jobs.queues[lane])]?.Properties.VisibilityTimeout).toBe(1800);
    }
  });

  it("refuses a timeout Lambda cannot have, naming the prop and the limit", () => {
    expect(() => jobsStack({ dispatcherTimeout: Duration.seconds(901) })).toThrow(
      /dispatcherTimeout must be whole seconds from 31 .* to 900 .*got 15 minutes 1 second/,
    );
    // Shorter than the 30 s a run leaves for claiming and settling: no worker could register.
    expect(() => jobsStack({ dispatcherTimeout: Duration.seconds(30) })).toThrow(
      /dispatcherTimeout must be whole seconds from 31 \(a run gets the timeout less 30 s\)/,
    );
    expect(() => jobsStack({ dispatcherTimeout: Duration.millis(1500) })).toThrow(
      /dispatcherTimeout/,
    );
    expect(() => jobsStack({ dispatcherTimeout: Duration.seconds(900) })).not.toThrow();
  });

  it("caps the lanes' visibility timeout at SQS's 12 hours", () => {
    expect(laneVisibilityTimeout(Duration.seconds(900)).toSeconds()).toBe(5400);
    expect(laneVisibilityTimeout(Duration.hours(3)).toSeconds()).toBe(12 * 3600);
  });
});

describe("cdk-nag", () => {
  it("passes AwsSolutions checks on the synthesized app (acknowledged findings carry reasons)", () => {
    const { app } = buildApp(cdkApp("cdk-nag-out"));
    expect(() => app.synth()).not.toThrow();
  }, 120_000);

  it("fails the synth on an unacknowledged finding", () => {
    const app = new App({ outdir: outdir("cdk-nag-bad") });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, "Bad");
    new sqs.Queue(stack, "PlainQueue", { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow();
  });
});
