import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, aws_iam as iam, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackgroundJobs } from "../../infra/background-jobs/construct.ts";
import { stackOutputNames } from "../../lib/names.ts";
import { fromOutputs } from "../../lib/ops/connect.ts";
import { JOB_TABLE_INDEXES, LANES } from "../../lib/resources.ts";

/**
 * The construct's operator grants (`grantRead`, `grantOperate`: exactly what `bgjobs` calls)
 * and the CloudFormation outputs `bgjobs --stack NAME` reads.
 */
let dir: string;
let stack: Stack;
let jobs: BackgroundJobs;
let reader: iam.Role;
let operator: iam.Role;
let template: Template;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cdk-grants-"));
  // No stack is bundled (aws:cdk:bundling-stacks): the grants and outputs need no Lambda code.
  const app = new App({ outdir: dir, context: { "aws:cdk:bundling-stacks": [] } });
  stack = new Stack(app, "Shop", {
    env: { account: "111122223333", region: "eu-west-1" },
  });
  jobs = new BackgroundJobs(stack, "Jobs", { pluginsEntry: "lambdas/plugins.ts" });
  reader = new iam.Role(stack, "Support", { assumedBy: new iam.AccountRootPrincipal() });
  operator = new iam.Role(stack, "OnCall", { assumedBy: new iam.AccountRootPrincipal() });
  jobs.grantRead(reader);
  jobs.grantOperate(operator);
  template = Template.fromStack(stack);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A construct's logical ID (its CloudFormation resource's). */
const ref = (construct: IConstruct) =>
  stack.resolve(stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement));

/** What a role's policies allow, as action -> resources (resolved, sorted), and any conditions. */
function grantsOf(role: iam.Role): Record<string, unknown[]> {
  const grants: Record<string, unknown[]> = {};
  const id = ref(role);
  for (const policy of Object.values(template.findResources("AWS::IAM::Policy"))) {
    if (!policy.Properties.Roles.some((r: { Ref: string }) => r.Ref === id)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      expect(statement.Effect).toBe("Allow");
      for (const action of [statement.Action].flat()) {
        const resources = [statement.Resource].flat();
        grants[action] = [
          ...(grants[action] ?? []),
          ...resources,
          ...(statement.Condition ? [{ condition: statement.Condition }] : []),
        ];
      }
    }
  }
  return grants;
}

const arn = (construct: IConstruct, attribute: string) => ({
  "Fn::GetAtt": [ref(construct), attribute],
});
const tableArn = () => arn(jobs.table, "Arn");
const queueArns = (queues: BackgroundJobs["queues"]) =>
  LANES.map((lane) => arn(queues[lane], "Arn"));
const schedules = { "Fn::Join": expect.any(Array) };

describe("operator grants", () => {
  it("grantRead: reads of the table and its indexes, queue depths, a DLQ peek, the schedule group, the stack's outputs; no write", () => {
    const grants = grantsOf(reader);
    expect(Object.keys(grants).sort()).toEqual(
      [
        "cloudformation:DescribeStacks",
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "scheduler:GetSchedule",
        "scheduler:GetScheduleGroup",
        "scheduler:ListSchedules",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ].sort(),
    );
    expect(grants["dynamodb:GetItem"]).toEqual([tableArn()]);
    expect(grants["dynamodb:Query"]).toHaveLength(JOB_TABLE_INDEXES.length);
    for (const [i, index] of JOB_TABLE_INDEXES.entries())
      expect(JSON.stringify(grants["dynamodb:Query"]?.[i])).toContain(`/index/${index.name}`);
    expect(grants["sqs:GetQueueAttributes"]).toEqual(
      LANES.flatMap((lane) => [
        arn(jobs.queues[lane], "Arn"),
        arn(jobs.deadLetterQueues[lane], "Arn"),
      ]),
    );
    // The peek receives from the DLQs only: a receive on a lane would count toward its DLQ.
    expect(grants["sqs:ReceiveMessage"]).toEqual(queueArns(jobs.deadLetterQueues));
    expect(grants["scheduler:GetSchedule"]).toEqual([schedules]);
    expect(JSON.stringify(grants["scheduler:GetSchedule"])).toContain(":schedule/");
    expect(grants["scheduler:GetScheduleGroup"]).toEqual([arn(jobs.scheduleGroup, "Arn")]);
    expect(grants["scheduler:ListSchedules"]).toEqual(["*"]);
    expect(grants["cloudformation:DescribeStacks"]).toEqual([{ Ref: "AWS::StackId" }]);
  });

  it("grantOperate: the reads, plus the writes operator actions make, on exactly their resources", () => {
    const grants = grantsOf(operator);
    const read = grantsOf(reader);
    for (const action of Object.keys(read)) expect(grants[action], action).toEqual(read[action]);
    const writes = Object.fromEntries(
      Object.entries(grants).filter(([action]) => !(action in read)),
    );
    expect(writes).toEqual({
      "dynamodb:UpdateItem": [tableArn()],
      "dynamodb:PutItem": [tableArn()],
      "dynamodb:DeleteItem": [tableArn()],
      "sqs:SendMessage": queueArns(jobs.queues),
      "sqs:DeleteMessage": queueArns(jobs.deadLetterQueues),
      "scheduler:CreateSchedule": [schedules],
      "scheduler:UpdateSchedule": [schedules],
      "scheduler:DeleteSchedule": [schedules],
      "iam:PassRole": [
        arn(jobs.schedulerRole, "Arn"),
        { condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } } },
      ],
    });
    for (const action of Object.keys(grants)) expect(action).not.toMatch(/\*/);
  });
});

describe("stack outputs", () => {
  it("names the table, each lane's queue and DLQ, the schedule group and the scheduler role, as bgjobs --stack reads them", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs[stackOutputNames.tableName]?.Value).toEqual({
      Ref: ref(jobs.table.node.defaultChild as IConstruct),
    });
    for (const lane of LANES) {
      expect(outputs[stackOutputNames.queueUrl(lane)]?.Value).toEqual({
        Ref: ref(jobs.queues[lane]),
      });
      expect(outputs[stackOutputNames.deadLetterQueueUrl(lane)]?.Value).toEqual({
        Ref: ref(jobs.deadLetterQueues[lane]),
      });
    }
    expect(outputs[stackOutputNames.schedulerRoleArn]?.Value).toEqual(
      arn(jobs.schedulerRole, "Arn"),
    );
    expect(outputs[stackOutputNames.scheduleGroup]).toBeDefined();
    // Every output bgjobs needs is there: reading them (as DescribeStacks returns them) works.
    const described = Object.fromEntries(
      Object.keys(outputs).map((key) => [key, `value-of-${key}`]),
    );
    const info = fromOutputs("Shop", "eu-west-1", described);
    expect(info).toMatchObject({
      source: "stack",
      tableName: `value-of-${stackOutputNames.tableName}`,
      scheduleGroup: `value-of-${stackOutputNames.scheduleGroup}`,
    });
    expect(Object.values(info.queueUrls)).toHaveLength(3);
    const { [stackOutputNames.tableName]: _table, ...withoutTable } = described;
    expect(() => fromOutputs("Shop", "eu-west-1", withoutTable)).toThrow(
      /stack Shop has no output JobsTableName: is it a stack with the BackgroundJobs construct/,
    );
  });
});
