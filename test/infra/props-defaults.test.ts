import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  App,
  type CfnElement,
  CfnResource,
  Duration,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  aws_sns as sns,
} from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BackgroundJobs,
  type BackgroundJobsProps,
  BackgroundJobsPropsError,
} from "../../infra/background-jobs/construct.ts";
import { DEFAULT_METRICS_NAMESPACE, envNames, metricNames } from "../../lib/names.ts";
import { LANES, type LaneName, lanes } from "../../lib/resources.ts";

/**
 * What a user of the construct relies on: each prop's default as the template shows it, what
 * setting the prop changes there, and the construct's public members. The README's props
 * table states the same defaults.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The construct alone in a stack, bundling skipped (these tests read the template). */
function synthesize(propsIn: (stack: Stack) => Partial<BackgroundJobsProps> = () => ({})) {
  const dir = mkdtempSync(join(tmpdir(), "cdk-props-"));
  dirs.push(dir);
  const app = new App({ outdir: dir, context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new Stack(app, "Shop");
  const jobs = new BackgroundJobs(stack, "Jobs", {
    pluginsEntry: "lambdas/plugins.ts",
    ...propsIn(stack),
  });
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const resource = (construct: IConstruct) => template.toJSON().Resources[id(construct)];
  return { stack, jobs, template, id, resource };
}

/** Each lane's event source mapping settings, by lane. */
function mappingsOf(built: ReturnType<typeof synthesize>) {
  const mappings = Object.values(built.template.findResources("AWS::Lambda::EventSourceMapping"));
  const byLane = {} as Record<LaneName, { batchSize: number; concurrency: number }>;
  for (const lane of LANES) {
    const queueArn = { "Fn::GetAtt": [built.id(built.jobs.queues[lane]), "Arn"] };
    const mapping = mappings.find(
      (m) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(queueArn),
    );
    byLane[lane] = {
      batchSize: mapping?.Properties.BatchSize,
      concurrency: mapping?.Properties.ScalingConfig.MaximumConcurrency,
    };
  }
  return byLane;
}

/** The oldest-message alarm's threshold (seconds) per lane. */
function maxAgesOf(built: ReturnType<typeof synthesize>) {
  return Object.fromEntries(
    LANES.map((lane) => {
      const alarm = built.jobs.alarms.find(
        (a) => a.node.id.endsWith("OldestMessage") && a.node.id.toLowerCase().startsWith(lane),
      );
      return [lane, alarm && built.resource(alarm)?.Properties.Threshold];
    }),
  );
}

let defaults: ReturnType<typeof synthesize>;
let custom: ReturnType<typeof synthesize>;
beforeAll(() => {
  defaults = synthesize();
  custom = synthesize((stack) => ({
    lanes: {
      critical: { maximumConcurrency: 50, batchSize: 5, maxMessageAge: Duration.minutes(2) },
      low: { batchSize: 1 },
    },
    alarmTopic: new sns.Topic(stack, "Alarms"),
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_WEEK,
    metricsNamespace: "Shop/Jobs",
    memorySize: 1024,
    dispatcherTimeout: Duration.minutes(5),
  }));
}, 120_000);

describe("the construct's props", () => {
  const functionsOf = (built: ReturnType<typeof synthesize>) => {
    const { jobs } = built;
    return [jobs.dispatcher, jobs.reconciler, jobs.startup!].map((fn) => built.resource(fn));
  };

  it("lanes: concurrency 20 / 10 / 5 and batch 10 by default; a lane's settings change that lane only", () => {
    expect(mappingsOf(defaults)).toEqual({
      critical: { batchSize: lanes.batchSize, concurrency: 20 },
      normal: { batchSize: lanes.batchSize, concurrency: 10 },
      low: { batchSize: lanes.batchSize, concurrency: 5 },
    });
    expect(mappingsOf(custom)).toEqual({
      critical: { batchSize: 5, concurrency: 50 },
      normal: { batchSize: lanes.batchSize, concurrency: 10 },
      low: { batchSize: 1, concurrency: 5 },
    });
  });

  it("lanes' maxMessageAge: each lane's oldest-message alarm at 15 minutes by default", () => {
    expect(maxAgesOf(defaults)).toEqual({ critical: 900, normal: 900, low: 900 });
    expect(maxAgesOf(custom)).toEqual({ critical: 120, normal: 900, low: 900 });
  });

  it("alarmTopic: no alarm action by default; every alarm notifies the topic when given", () => {
    expect(defaults.jobs.alarms).toHaveLength(2 * LANES.length + 3);
    for (const alarm of defaults.jobs.alarms)
      expect(defaults.resource(alarm).Properties.AlarmActions).toBeUndefined();
    expect(custom.jobs.alarms).toHaveLength(2 * LANES.length + 3);
    for (const alarm of custom.jobs.alarms) {
      expect(custom.resource(alarm).Properties.AlarmActions).toEqual([
        { Ref: custom.id(custom.stack.node.findChild("Alarms")) },
      ]);
    }
  });

  it("removalPolicy: the job table and the payload bucket are retained by default, deleted when asked", () => {
    expect(defaults.resource(defaults.jobs.table).DeletionPolicy).toBe("Retain");
    expect(custom.resource(custom.jobs.table).DeletionPolicy).toBe("Delete");
    expect(defaults.resource(defaults.jobs.payloadBucket).DeletionPolicy).toBe("Retain");
    expect(custom.resource(custom.jobs.payloadBucket).DeletionPolicy).toBe("Delete");
  });

  it("logRetention: one month by default, on each function's log group", () => {
    const retention = (built: ReturnType<typeof synthesize>) =>
      Object.values(built.template.findResources("AWS::Logs::LogGroup")).map(
        (group) => group.Properties.RetentionInDays,
      );
    // The dispatcher, the reconciler, the startup and the payload purger.
    expect(retention(defaults)).toEqual([30, 30, 30, 30]);
    expect(retention(custom)).toEqual([7, 7, 7, 7]);
  });

  it("metricsNamespace: the functions' metrics and the failed-jobs alarm use it", () => {
    const namespaces = (built: ReturnType<typeof synthesize>) => {
      const failed = built.jobs.alarms.find((a) => a.node.id === metricNames.jobsFailed)!;
      return [
        ...functionsOf(built).map(
          (fn) => fn.Properties.Environment.Variables[envNames.metricsNamespace],
        ),
        built.resource(failed).Properties.Namespace,
      ];
    };
    expect(namespaces(defaults)).toEqual(Array(4).fill(DEFAULT_METRICS_NAMESPACE));
    expect(namespaces(custom)).toEqual(Array(4).fill("Shop/Jobs"));
  });

  it("memorySize: 512 MB by default, on each function", () => {
    expect(functionsOf(defaults).map((fn) => fn.Properties.MemorySize)).toEqual([512, 512, 512]);
    expect(functionsOf(custom).map((fn) => fn.Properties.MemorySize)).toEqual([1024, 1024, 1024]);
  });

  it("dispatcherTimeout: 900 s by default; the reconciler 60 s and the startup 300 s whatever it is", () => {
    const timeouts = (built: ReturnType<typeof synthesize>) =>
      functionsOf(built).map((fn) => fn.Properties.Timeout);
    expect(timeouts(defaults)).toEqual([lanes.functionTimeoutSeconds, 60, 300]);
    expect(timeouts(custom)).toEqual([300, 60, 300]);
  });

  it("refuses props it cannot build with, naming the prop", () => {
    const refused = (props: BackgroundJobsProps) => {
      try {
        new BackgroundJobs(new Stack(new App(), "Refused"), "Jobs", props);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const neither = refused({});
    expect(neither).toBeInstanceOf(BackgroundJobsPropsError);
    expect((neither as BackgroundJobsPropsError).prop).toBe("pluginsEntry");
    const tooLong = refused({ pluginsEntry: "x.ts", dispatcherTimeout: Duration.minutes(16) });
    expect(tooLong).toBeInstanceOf(BackgroundJobsPropsError);
    expect((tooLong as BackgroundJobsPropsError).prop).toBe("dispatcherTimeout");
  });
});

describe("the construct's public members", () => {
  it("exposes the resources, the functions, the startup and its Trigger, the alarms and the dashboard", () => {
    const { jobs, template } = defaults;
    const types = {
      table: "AWS::DynamoDB::GlobalTable",
      dispatcher: "AWS::Lambda::Function",
      reconciler: "AWS::Lambda::Function",
      startup: "AWS::Lambda::Function",
      scheduleGroup: "AWS::Scheduler::ScheduleGroup",
      schedulerRole: "AWS::IAM::Role",
      dashboard: "AWS::CloudWatch::Dashboard",
    } as const;
    for (const [member, type] of Object.entries(types)) {
      const construct = jobs[member as keyof typeof types] as IConstruct;
      expect(defaults.resource(construct)?.Type, member).toBe(type);
    }
    for (const lane of LANES) {
      expect(defaults.resource(jobs.queues[lane]).Type).toBe("AWS::SQS::Queue");
      expect(defaults.resource(jobs.deadLetterQueues[lane]).Type).toBe("AWS::SQS::Queue");
    }
    const triggers = Object.keys(template.findResources("Custom::Trigger"));
    expect(triggers).toHaveLength(1);
    const inTrigger = jobs.startupTrigger!.node.findAll().filter((c) => c instanceof CfnResource);
    expect(inTrigger.map((c) => defaults.stack.getLogicalId(c as CfnResource))).toEqual(triggers);
    for (const alarm of jobs.alarms)
      expect(defaults.resource(alarm).Type).toBe("AWS::CloudWatch::Alarm");
    expect(typeof jobs.grantRead).toBe("function");
    expect(typeof jobs.grantOperate).toBe("function");
  });
});
