import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, aws_iam as iam, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { afterAll, describe, expect, it } from "vitest";
import {
  BackgroundJobs,
  type BackgroundJobsProps,
  BackgroundJobsPropsError,
} from "../../infra/background-jobs/construct.ts";
import { envNames, stackOutputNames } from "../../lib/names.ts";
import { LANES, lanes } from "../../lib/resources.ts";

/** The construct's server lane: `serverTypes`, its queue and DLQ, env, outputs, grants, alarms. */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The construct alone in a stack, bundling skipped (these tests read the template). */
function synthesize(props: Partial<BackgroundJobsProps> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cdk-server-lane-"));
  dirs.push(dir);
  const app = new App({ outdir: dir, context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new Stack(app, "Shop", { env: { account: "111122223333", region: "eu-west-1" } });
  const jobs = new BackgroundJobs(stack, "Jobs", { pluginsEntry: "lambdas/plugins.ts", ...props });
  const apiServer = new iam.Role(stack, "ApiServer", {
    assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
  });
  jobs.grantApiServer(apiServer);
  const template = Template.fromStack(stack);
  const ref = (construct: IConstruct) =>
    stack.resolve(stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement));
  const arn = (construct: IConstruct) => ({ "Fn::GetAtt": [ref(construct), "Arn"] });
  const url = (construct: IConstruct) => ({ Ref: ref(construct) });
  /** What a role's policies allow: action -> resources (JSON). */
  const grantsOf = (role: IConstruct) => {
    const grants: Record<string, string[]> = {};
    for (const policy of Object.values(template.findResources("AWS::IAM::Policy"))) {
      if (!policy.Properties.Roles.some((r: { Ref: string }) => r.Ref === ref(role))) continue;
      for (const statement of policy.Properties.PolicyDocument.Statement)
        for (const action of [statement.Action].flat())
          grants[action] = [
            ...(grants[action] ?? []),
            ...[statement.Resource].flat().map((r) => JSON.stringify(r)),
          ];
    }
    return grants;
  };
  return { stack, jobs, template, apiServer, arn, url, grantsOf };
}

describe("the construct with serverTypes", () => {
  const built = synthesize({ serverTypes: ["saveImage/local", "saveImage/remote"] });
  const { jobs, template, arn, url } = built;
  const server = jobs.serverLane;

  it("creates the server lane's queue and DLQ with the lanes' settings and redrive", () => {
    expect(server).toBeDefined();
    if (!server) return;
    template.resourceCountIs("AWS::SQS::Queue", 8);
    const queue =
      template.toJSON().Resources[
        built.stack.resolve(built.stack.getLogicalId(server.queue.node.defaultChild as CfnElement))
      ];
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: lanes.visibilityTimeoutSeconds,
      RedrivePolicy: {
        deadLetterTargetArn: arn(server.deadLetterQueue),
        maxReceiveCount: lanes.maxReceiveCount,
      },
    });
    template.hasResourceProperties("AWS::SQS::Queue", {
      MessageRetentionPeriod: lanes.dlqRetentionSeconds,
      SqsManagedSseEnabled: true,
    });
  });

  it("gives no Lambda the server lane: one event source mapping per priority lane only", () => {
    // SQS mappings only: the payload purger's mapping reads the table's stream.
    const mappings = Object.values(
      template.findResources("AWS::Lambda::EventSourceMapping"),
    ).filter((mapping) => mapping.Properties.StartingPosition === undefined);
    expect(mappings).toHaveLength(LANES.length);
    const sources = mappings.map((m) => JSON.stringify(m.Properties.EventSourceArn));
    expect(sources).not.toContain(JSON.stringify(arn(server?.queue as IConstruct)));
  });

  it("sets the same server types and the server lane's URLs on both functions", () => {
    for (const fn of [jobs.dispatcher, jobs.reconciler]) {
      const resource =
        template.toJSON().Resources[
          built.stack.resolve(built.stack.getLogicalId(fn.node.defaultChild as CfnElement))
        ];
      expect(resource.Properties.Environment.Variables).toMatchObject({
        [envNames.serverTypes]: "saveImage/local,saveImage/remote",
        [envNames.queueUrl("server")]: url(server?.queue as IConstruct),
        [envNames.deadLetterQueueUrl("server")]: url(server?.deadLetterQueue as IConstruct),
      });
    }
  });

  it("outputs the server lane's queue and DLQ URLs for the API servers and bgjobs", () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs[stackOutputNames.queueUrl("server")].Value).toEqual(
      url(server?.queue as IConstruct),
    );
    expect(outputs[stackOutputNames.deadLetterQueueUrl("server")].Value).toEqual(
      url(server?.deadLetterQueue as IConstruct),
    );
  });

  it("grants an API server its job calls and the server lane's consume calls, on that queue only", () => {
    const grants = built.grantsOf(built.apiServer);
    const serverArn = JSON.stringify(arn(server?.queue as IConstruct));
    for (const action of [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ])
      expect(grants[action]).toEqual([serverArn]);
    expect(grants["sqs:SendMessage"]?.sort()).toEqual(
      [...LANES.map((lane) => JSON.stringify(arn(jobs.queues[lane]))), serverArn].sort(),
    );
    expect(grants["dynamodb:UpdateItem"]).toEqual([JSON.stringify(arn(jobs.table))]);
    expect(grants["scheduler:CreateSchedule"]).toHaveLength(1);
    expect(grants["iam:PassRole"]).toEqual([JSON.stringify(arn(jobs.schedulerRole))]);
    // The functions may send to it (a misplaced message is moved), and so may Scheduler.
    expect(built.grantsOf(jobs.dispatcher.role as iam.IRole)["sqs:SendMessage"]).toContain(
      serverArn,
    );
    expect(built.grantsOf(jobs.schedulerRole)["sqs:SendMessage"]).toContain(serverArn);
  });

  it("alarms on the server lane's DLQ and on its oldest message, as on the others", () => {
    const ids = jobs.alarms.map((alarm) => alarm.node.id);
    expect(ids).toContain("ServerDeadLettersNotEmpty");
    expect(ids).toContain("ServerOldestMessage");
  });
});

describe("the construct without serverTypes", () => {
  it("has no server lane for a plugins module, and sets no server types", () => {
    const { jobs, template } = synthesize();
    expect(jobs.serverLane).toBeUndefined();
    template.resourceCountIs("AWS::SQS::Queue", 6);
    const variables = Object.values(template.findResources("AWS::Lambda::Function")).map(
      (fn) => fn.Properties.Environment?.Variables ?? {},
    );
    for (const env of variables) expect(env).not.toHaveProperty(envNames.serverTypes);
  });

  it("refuses empty or repeated server types, naming the prop", () => {
    const refused = (serverTypes: string[]) => {
      try {
        synthesize({ serverTypes });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const [types, message] of [
      [["saveImage/local", ""], /serverTypes\[1\].*empty/],
      [["a", "a"], /serverTypes\[1\].*twice/],
      [[" a"], /serverTypes\[0\].*spaces/],
    ] as const) {
      const error = refused([...types]);
      expect(error).toBeInstanceOf(BackgroundJobsPropsError);
      expect((error as BackgroundJobsPropsError).prop).toBe("serverTypes");
      expect((error as Error).message).toMatch(message);
    }
  });
});
