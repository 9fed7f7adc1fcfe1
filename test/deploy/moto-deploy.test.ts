import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import {
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
} from "@aws-sdk/client-lambda";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envNames, stackOutputNames } from "../../lib/names.ts";
import { JOB_TABLE_INDEXES, jobTable, LANES, lanes } from "../../lib/resources.ts";
import { deployOnMoto, type MotoDeployment } from "./moto-deployment.ts";
import { MOTO_ACCOUNT, MOTO_REGION, motoTestsRun } from "./moto-server.ts";

/**
 * `cdk synth`, then the real CDK CLI's `cdk bootstrap` and `cdk deploy` onto a moto server
 * (an AWS implementation no one here wrote), and what was deployed read back through the AWS
 * APIs, held against what the construct is meant to produce (lib/resources.ts, lib/names.ts),
 * not against the template. The template's changes for moto are in moto-template.ts.
 */
const RUNS = motoTestsRun("moto deploy tests");
const STACK = "MotoDeployJobs";
let deployed: MotoDeployment;

beforeAll(async () => {
  if (RUNS) deployed = await deployOnMoto(STACK, "test/deploy/scenario-plugins.ts");
}, 180_000);
afterAll(async () => {
  await deployed?.stop();
  if (deployed) console.log(`moto deploy: ${JSON.stringify(roundedTimings(deployed))}`);
});

function roundedTimings(d: MotoDeployment): Record<string, number> {
  return Object.fromEntries(Object.entries(d.timings).map(([k, v]) => [k, Math.round(v)]));
}

/** The physical id of the stack's one resource of `type` whose logical id starts with `prefix`. */
function physicalId(type: string, prefix: string): string {
  const found = deployed.resources.filter(
    (r) => r.ResourceType === type && r.LogicalResourceId?.startsWith(prefix),
  );
  expect(found, `${type} ${prefix}*`).toHaveLength(1);
  return found[0]?.PhysicalResourceId as string;
}

async function queueAttributes(url: string): Promise<Record<string, string>> {
  const { Attributes = {} } = await deployed.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
  );
  return Attributes;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

/** Every statement of a role's inline policies (CDK's AWS::IAM::Policy lands there). */
async function roleStatements(roleName: string): Promise<Statement[]> {
  const { iam } = deployed.clients;
  const { PolicyNames = [] } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  const statements: Statement[] = [];
  for (const name of PolicyNames) {
    const { PolicyDocument = "" } = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }),
    );
    const document = JSON.parse(decodeURIComponent(PolicyDocument));
    statements.push(...[document.Statement].flat());
  }
  return statements;
}

/** Does an Allow statement cover `action` on `resource` (IAM's `*` wildcards)? */
function allows(statements: Statement[], action: string, resource: string): boolean {
  const matches = (pattern: string, value: string) =>
    new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`).test(value);
  return statements.some(
    (s) =>
      s.Effect === "Allow" &&
      [s.Action].flat().some((a) => matches(a, action)) &&
      [s.Resource].flat().some((r) => matches(r, resource)),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe.skipIf(!RUNS)("cdk deploy onto moto server", () => {
  it("reaches CREATE_COMPLETE with the construct's outputs", () => {
    expect(deployed.stackStatus).toBe("CREATE_COMPLETE");
    const expected = [
      stackOutputNames.tableName,
      stackOutputNames.scheduleGroup,
      stackOutputNames.schedulerRoleArn,
      ...LANES.flatMap((lane) => [
        stackOutputNames.queueUrl(lane),
        stackOutputNames.deadLetterQueueUrl(lane),
      ]),
    ];
    expect(Object.keys(deployed.outputs).sort()).toEqual(expected.sort());
    expect(deployed.outputs[stackOutputNames.scheduleGroup]).toBe(`${STACK}-jobs`);
    expect(deployed.createdGroups).toEqual([`${STACK}-jobs`]);
  });

  it("made the job table with its key and both indexes", async () => {
    const { Table } = await deployed.clients.dynamodb.send(
      new DescribeTableCommand({ TableName: deployed.outputs[stackOutputNames.tableName] }),
    );
    expect(Table?.KeySchema).toEqual([{ AttributeName: jobTable.partitionKey, KeyType: "HASH" }]);
    expect(Table?.BillingModeSummary?.BillingMode ?? "PAY_PER_REQUEST").toBe("PAY_PER_REQUEST");
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema,
      projection: index.Projection?.ProjectionType,
      attributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
    }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      [...JOB_TABLE_INDEXES]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((index) => ({
          name: index.name,
          keys: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          projection: index.projection.type,
          attributes:
            index.projection.type === "INCLUDE" ? [...index.projection.attributes].sort() : [],
        })),
    );
  });

  it("gave each lane a queue whose redrive policy names its own DLQ", async () => {
    for (const lane of LANES) {
      const queue = await queueAttributes(deployed.outputs[stackOutputNames.queueUrl(lane)] ?? "");
      const dlq = await queueAttributes(
        deployed.outputs[stackOutputNames.deadLetterQueueUrl(lane)] ?? "",
      );
      expect(JSON.parse(queue.RedrivePolicy ?? "{}"), lane).toEqual({
        deadLetterTargetArn: dlq.QueueArn,
        maxReceiveCount: lanes.maxReceiveCount,
      });
      expect(Number(queue.VisibilityTimeout), lane).toBe(lanes.visibilityTimeoutSeconds);
      expect(Number(dlq.MessageRetentionPeriod), lane).toBe(lanes.dlqRetentionSeconds);
      expect(dlq.RedrivePolicy, `${lane} DLQ has no DLQ of its own`).toBeUndefined();
    }
  });

  it("deployed the functions with their runtime, handler, timeout and environment", async () => {
    const expected = { Dispatcher: 900, Reconciler: 60, Startup: 300 };
    for (const [name, timeout] of Object.entries(expected)) {
      const config = await deployed.clients.lambda.send(
        new GetFunctionConfigurationCommand({
          FunctionName: physicalId("AWS::Lambda::Function", `BackgroundJobs${name}`),
        }),
      );
      expect(config.Runtime, name).toBe("nodejs22.x");
      expect(config.Handler, name).toBe("index.handler");
      expect(config.Timeout, name).toBe(timeout);
      const env = config.Environment?.Variables ?? {};
      const { outputs } = deployed;
      expect(env[envNames.tableName], name).toBe(outputs[stackOutputNames.tableName]);
      expect(env[envNames.scheduleGroup], name).toBe(outputs[stackOutputNames.scheduleGroup]);
      expect(env[envNames.schedulerRoleArn], name).toBe(outputs[stackOutputNames.schedulerRoleArn]);
      for (const lane of LANES) {
        expect(env[envNames.queueUrl(lane)]).toBe(outputs[stackOutputNames.queueUrl(lane)]);
        expect(env[envNames.deadLetterQueueUrl(lane)]).toBe(
          outputs[stackOutputNames.deadLetterQueueUrl(lane)],
        );
      }
      expect(env[envNames.functionTimeoutMs], name).toBe("900000");
      // Only the deploy-time startup schedules: cold starts of the others register workers.
      expect(env[envNames.startupScheduling], name).toBe(name === "Startup" ? "run" : undefined);
    }
  });

  it("subscribed the dispatcher to each lane with batches of 10 and ReportBatchItemFailures", async () => {
    const dispatcher = physicalId("AWS::Lambda::Function", "BackgroundJobsDispatcher");
    const { EventSourceMappings = [] } = await deployed.clients.lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: dispatcher }),
    );
    const laneArns: Record<string, string> = {};
    for (const lane of LANES) {
      const attributes = await queueAttributes(
        deployed.outputs[stackOutputNames.queueUrl(lane)] ?? "",
      );
      laneArns[attributes.QueueArn ?? ""] = lane;
    }
    const mappings = EventSourceMappings.map((m) => ({
      lane: laneArns[m.EventSourceArn ?? ""],
      batchSize: m.BatchSize,
      responseTypes: m.FunctionResponseTypes,
      maximumConcurrency: m.ScalingConfig?.MaximumConcurrency,
    }));
    expect(mappings.sort((a, b) => String(a.lane).localeCompare(String(b.lane)))).toEqual([
      {
        lane: "critical",
        batchSize: 10,
        responseTypes: ["ReportBatchItemFailures"],
        maximumConcurrency: 20,
      },
      {
        lane: "low",
        batchSize: 10,
        responseTypes: ["ReportBatchItemFailures"],
        maximumConcurrency: 5,
      },
      {
        lane: "normal",
        batchSize: 10,
        responseTypes: ["ReportBatchItemFailures"],
        maximumConcurrency: 10,
      },
    ]);
  });

  it("granted the functions exactly their calls, and the scheduler role only the lanes", async () => {
    const { outputs } = deployed;
    const { Table } = await deployed.clients.dynamodb.send(
      new DescribeTableCommand({ TableName: outputs[stackOutputNames.tableName] }),
    );
    const tableArn = Table?.TableArn as string;
    const laneArns: string[] = [];
    for (const lane of LANES)
      laneArns.push(
        (await queueAttributes(outputs[stackOutputNames.queueUrl(lane)] ?? "")).QueueArn ?? "",
      );
    const group = outputs[stackOutputNames.scheduleGroup];
    const scheduleArn = `arn:aws:scheduler:${MOTO_REGION}:${MOTO_ACCOUNT}:schedule/${group}/job-1`;
    const roleName = (arn: string) => arn.split("/").pop() as string;
    const dispatcherRole = physicalId("AWS::IAM::Role", "BackgroundJobsDispatcherServiceRole");
    const dispatcher = await roleStatements(dispatcherRole);
    expect(allows(dispatcher, "dynamodb:UpdateItem", tableArn)).toBe(true);
    expect(allows(dispatcher, "dynamodb:Query", `${tableArn}/index/open`)).toBe(true);
    expect(allows(dispatcher, "dynamodb:Query", tableArn), "Query on the table itself").toBe(false);
    expect(allows(dispatcher, "dynamodb:Scan", tableArn), "Scan").toBe(false);
    for (const arn of laneArns) {
      expect(allows(dispatcher, "sqs:SendMessage", arn)).toBe(true);
      expect(allows(dispatcher, "sqs:ReceiveMessage", arn)).toBe(true);
      expect(allows(dispatcher, "sqs:DeleteMessage", arn)).toBe(true);
    }
    expect(allows(dispatcher, "scheduler:CreateSchedule", scheduleArn)).toBe(true);
    expect(
      allows(dispatcher, "scheduler:CreateSchedule", scheduleArn.replace(group ?? "", "other")),
      "schedules of another group",
    ).toBe(false);
    const schedulerRoleArn = outputs[stackOutputNames.schedulerRoleArn] as string;
    expect(allows(dispatcher, "iam:PassRole", schedulerRoleArn)).toBe(true);

    const startup = await roleStatements(
      physicalId("AWS::IAM::Role", "BackgroundJobsStartupServiceRole"),
    );
    expect(allows(startup, "dynamodb:PutItem", tableArn)).toBe(true);
    expect(allows(startup, "sqs:ReceiveMessage", laneArns[0] ?? ""), "startup consumes").toBe(
      false,
    );

    const scheduler = await roleStatements(roleName(schedulerRoleArn));
    for (const arn of laneArns) expect(allows(scheduler, "sqs:SendMessage", arn)).toBe(true);
    expect(allows(scheduler, "dynamodb:GetItem", tableArn)).toBe(false);
    const { Role } = await deployed.clients.iam.send(
      new GetRoleCommand({ RoleName: roleName(schedulerRoleArn) }),
    );
    const trust = JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? "{}"));
    expect(trust.Statement[0].Principal).toEqual({ Service: "scheduler.amazonaws.com" });
    expect(trust.Statement[0].Condition.StringEquals["aws:SourceArn"]).toBe(
      `arn:aws:scheduler:${MOTO_REGION}:${MOTO_ACCOUNT}:schedule-group/${group}`,
    );
  });
});
