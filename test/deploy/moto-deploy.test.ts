import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import {
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
} from "@aws-sdk/client-lambda";
import { GetBucketEncryptionCommand } from "@aws-sdk/client-s3";
import { ListSchedulesCommand } from "@aws-sdk/client-scheduler";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../lib/index.ts";
import type { JobStatus } from "../../lib/jobs/types.ts";
import { envNames, stackOutputNames } from "../../lib/names.ts";
import { JOB_TABLE_INDEXES, jobTable, LANES, type LaneName, lanes } from "../../lib/resources.ts";
import { waitForStatus, waitUntil } from "../support/local-app.ts";
import { SchedulerFiringLoop } from "./firing-loop.ts";
import { type DeployedFunction, loadDeployedFunction } from "./lambda-runtime.ts";
import { deployOnMoto, MOTO_CREDENTIALS, type MotoDeployment } from "./moto-deployment.ts";
import { MOTO_ACCOUNT, MOTO_REGION, motoTestsRun } from "./moto-server.ts";
import { REPO } from "./moto-template.ts";
import { deployedMappings, LambdaSqsPoller, queueName } from "./poller.ts";
import { REPEAT, RUNS_KEY, type ScenarioRun } from "./scenario-plugins.ts";

/**
 * `cdk synth`, then the real CDK CLI's `cdk bootstrap` and `cdk deploy` onto a moto server
 * (an AWS implementation no one here wrote), and what was deployed read back through the AWS
 * APIs, held against what the construct is meant to produce (lib/resources.ts, lib/names.ts),
 * not against the template. The template's changes for moto are in moto-template.ts.
 */
const RUNS = motoTestsRun("moto deploy tests");
const run = promisify(execFile);
const BGJOBS = join(REPO, "bin", "bgjobs.js");
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
      stackOutputNames.payloadBucket,
      ...LANES.flatMap((lane) => [
        stackOutputNames.queueUrl(lane),
        stackOutputNames.deadLetterQueueUrl(lane),
      ]),
    ];
    expect(Object.keys(deployed.outputs).sort()).toEqual(expected.sort());
    expect(deployed.outputs[stackOutputNames.scheduleGroup]).toBe(`${STACK}-jobs`);
    expect(deployed.createdGroups).toEqual([`${STACK}-jobs`]);
  });

  it("made the payload bucket, encrypted", async () => {
    // moto's CloudFormation applies a bucket's BucketEncryption and Tags only: it skips the
    // public access block, the lifecycle rule and the TLS-only policy (test/infra asserts
    // those on the template).
    const Bucket = deployed.outputs[stackOutputNames.payloadBucket];
    const encryption = await deployed.clients.s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe("AES256");
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

/** A job the scenario schedules, and what must become of it. */
interface Expected {
  id: string;
  type: string;
  status: "completed" | "failed" | "cancelled";
  runs: number;
}

/**
 * Lambda sends a function's stdout to CloudWatch Logs; here it would be the test's output.
 * Lambda's own log-level control (set when a function's logging config names one) keeps the
 * errors, and Powertools' switch keeps its EMF metric lines out.
 */
const QUIET_LAMBDA_OUTPUT = {
  AWS_LAMBDA_LOG_LEVEL: "ERROR",
  POWERTOOLS_METRICS_DISABLED: "true",
};

const runsOf = (): ScenarioRun[] => (globalThis as { [RUNS_KEY]?: ScenarioRun[] })[RUNS_KEY] ?? [];

describe.skipIf(!RUNS)("the deployed system runs on moto", () => {
  const functions = {} as Record<"dispatcher" | "reconciler" | "startup", DeployedFunction>;
  const expected: Expected[] = [];
  let client: App;
  let poller: LambdaSqsPoller;
  let firing: SchedulerFiringLoop;
  let startupResult: unknown;
  const output = (name: string) => deployed.outputs[name] as string;
  const wait = (id: string, status: JobStatus | JobStatus[], ms = 30_000) =>
    waitForStatus(client, id, status, ms);

  beforeAll(async () => {
    const { clients } = deployed;
    for (const name of ["dispatcher", "reconciler", "startup"] as const) {
      const id = physicalId(
        "AWS::Lambda::Function",
        `BackgroundJobs${name[0]?.toUpperCase()}${name.slice(1)}`,
      );
      functions[name] = await loadDeployedFunction(
        clients.lambda,
        clients.s3,
        id,
        deployed.assetBucket,
        { ...deployed.lambdaEnv, ...QUIET_LAMBDA_OUTPUT },
      );
    }
    // The deploy-time startup, once, as the construct's Trigger would have run it.
    startupResult = await functions.startup.invoke({ RequestType: "Create" });
    client = createApp({
      backgroundJobs: {
        aws: {
          region: MOTO_REGION,
          credentials: MOTO_CREDENTIALS,
          endpoints: {
            dynamodb: deployed.dynamodbProxy.endpoint,
            sqs: deployed.moto.endpoint,
            scheduler: deployed.moto.endpoint,
          },
          tableName: output(stackOutputNames.tableName),
          queueUrls: perLane((lane) => output(stackOutputNames.queueUrl(lane))),
          deadLetterQueueUrls: perLane((lane) => output(stackOutputNames.deadLetterQueueUrl(lane))),
          scheduleGroup: output(stackOutputNames.scheduleGroup),
          schedulerRoleArn: output(stackOutputNames.schedulerRoleArn),
        },
      },
    });
    await client.start();
    const mappings = await deployedMappings(clients.lambda, clients.sqs, functions.dispatcher.name);
    poller = new LambdaSqsPoller(clients.sqs, functions.dispatcher, mappings, MOTO_REGION);
    poller.start();
    firing = new SchedulerFiringLoop(
      clients.scheduler,
      clients.sqs,
      output(stackOutputNames.scheduleGroup),
      { duplicates: true },
    );
    firing.start();
  }, 60_000);
  afterAll(async () => {
    await firing?.stop();
    await poller?.stop();
    await client?.stop();
    for (const fn of Object.values(functions)) fn.remove();
    if (poller)
      console.log(
        `moto scenario: jobs ${expected.length}, runs ${runsOf().length}, poller ${JSON.stringify(poller.counts)}, firings ${firing.fired.length}, DynamoDB requests ${deployed.dynamodbProxy.forwarded()}`,
      );
    delete (globalThis as { [RUNS_KEY]?: ScenarioRun[] })[RUNS_KEY];
  });

  it("ran the deploy-time startup once: the plugin's repeat is armed in moto's Scheduler", async () => {
    expect(startupResult).toEqual({ plugins: 1 });
    const { Schedules = [] } = await deployed.clients.scheduler.send(
      new ListSchedulesCommand({ GroupName: output(stackOutputNames.scheduleGroup) }),
    );
    expect(Schedules).toHaveLength(1);
    expect(Schedules[0]?.State).toBe("ENABLED");
  });

  it("runs jobs on every lane, retries, fails fatally and exhausts retries", async () => {
    const jobs = client.context.backgroundJobs;
    const succeeded: { id: string; data: Record<string, unknown> }[] = [];
    for (const priority of ["critical", "normal", "low"]) {
      for (let n = 0; n < 2; n += 1) {
        const data = { n, priority, amount: 1e21, nested: { list: [1, "two", null] } };
        const job = await jobs.scheduleJob({ type: "moto/succeed", data, priority });
        succeeded.push({ id: job._id, data });
        expected.push({ id: job._id, type: job.type, status: "completed", runs: 1 });
      }
    }
    const retried = await jobs.scheduleJob({
      type: "moto/flaky",
      data: { succeedOnAttempt: 3 },
      retry: { retries: 3, wait: 1000 },
    });
    expected.push({ id: retried._id, type: retried.type, status: "completed", runs: 3 });
    const exhausted = await jobs.scheduleJob({
      type: "moto/flaky",
      data: { succeedOnAttempt: 9 },
      retry: { retries: 1, wait: 1000 },
    });
    expected.push({ id: exhausted._id, type: exhausted.type, status: "failed", runs: 2 });
    const fatal = await jobs.scheduleJob({ type: "moto/fatal", data: {}, retry: { retries: 5 } });
    expected.push({ id: fatal._id, type: fatal.type, status: "failed", runs: 1 });

    for (const { id, data } of succeeded) {
      const doc = await wait(id, "completed");
      expect(doc.result).toEqual({ echoed: data });
    }
    expect((await wait(retried._id, "completed")).result).toEqual({ attempts: 3 });
    const exhaustedDoc = await wait(exhausted._id, "failed");
    expect(exhaustedDoc.failures).toHaveLength(2);
    const fatalDoc = await wait(fatal._id, "failed");
    expect(fatalDoc.failures).toHaveLength(1);
  });

  it("cancels a running job and a waiting one", async () => {
    const jobs = client.context.backgroundJobs;
    const held = await jobs.scheduleJob({ type: "moto/hold", data: {} });
    await wait(held._id, "running");
    await jobs.cancelJobs({ type: "moto/hold" });
    expect((await wait(held._id, "cancelled"))._id).toBe(held._id);
    expected.push({ id: held._id, type: held.type, status: "cancelled", runs: 1 });

    // Its first attempt fails; the retry waits 10 minutes: cancelled while waiting.
    const data = { succeedOnAttempt: 2, waits: true };
    const waiting = await jobs.scheduleJob({
      type: "moto/flaky",
      data,
      retry: { retries: 2, wait: 600_000 },
    });
    await wait(waiting._id, "waiting");
    await jobs.cancelJobs({ type: "moto/flaky", data });
    await wait(waiting._id, "cancelled");
    expected.push({ id: waiting._id, type: waiting.type, status: "cancelled", runs: 1 });
  });

  async function deadLetters(lane: LaneName): Promise<number> {
    const attributes = await queueAttributes(output(stackOutputNames.deadLetterQueueUrl(lane)));
    return Number(attributes.ApproximateNumberOfMessages);
  }

  it("redrives a job whose message reached the DLQ, and drops poison", async () => {
    const lowLane = output(stackOutputNames.queueUrl("low"));
    const low = queueName(lowLane);
    // The deployed lanes' visibility timeout is 5,400 s: for this step the poller asks for
    // 0 s, so a crashed receive comes back at once and reaches maxReceiveCount in test time.
    poller.visibilityTimeouts.set(low, 0);
    // A dispatcher that keeps crashing before it answers: the message reaches the DLQ.
    poller.crashing.add(low);
    const stranded = await client.context.backgroundJobs.scheduleJob({
      type: "moto/succeed",
      data: { stranded: true },
      priority: "low",
    });
    await waitUntil(
      async () => (await deadLetters("low")) === 1,
      30_000,
      "the job's message in the DLQ",
    );
    poller.crashing.delete(low);
    // Poison, as one that failed maxReceiveCount receives lands there (the deployed dispatcher
    // holds a failed message back 10 s, 20 s, 40 s...: minutes to reach the DLQ on its own).
    await deployed.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: output(stackOutputNames.deadLetterQueueUrl("low")),
        MessageBody: "{not json",
      }),
    );
    poller.visibilityTimeouts.delete(low);
    expect((await client.context.backgroundJobs.getJob(stranded._id))?._doc.status).toBe("ready");

    const report = await client.redriveDeadLetters();
    expect(report.redriven).toEqual([{ jobId: stranded._id, lane: "low" }]);
    expect(report.dropped.map((d) => [d.lane, d.body])).toEqual([["low", "{not json"]]);
    await wait(stranded._id, "completed");
    expected.push({ id: stranded._id, type: stranded.type, status: "completed", runs: 1 });
    expect(await deadLetters("low")).toBe(0);
  });

  it("bgjobs doctor --stack --probe and bgjobs jobs list --stack work with only AWS_ENDPOINT_URL set", async () => {
    // The poller above stands in for the event source mappings while the probe waits.
    const doctor = await bgjobs(["doctor", "--stack", STACK, "--probe", "--probe-timeout", "45s"]);
    expect({ code: doctor.code, stderr: doctor.stderr }, doctor.stdout).toEqual({
      code: 0,
      stderr: "",
    });
    for (const lane of LANES)
      expect(doctor.stdout).toMatch(
        new RegExp(`^ok\\s+\\tprobe ${lane}\\tstarted [\\d.]+ s after scheduling`, "m"),
      );
    const list = await bgjobs([
      "jobs",
      "list",
      "--stack",
      STACK,
      "--type",
      "moto/succeed",
      "--json",
    ]);
    // The count goes to stderr ("7 jobs (read 14)"), the JSON to stdout.
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { jobs: { id: string; status: string }[] };
    const succeeded = expected.filter((job) => job.type === "moto/succeed");
    expect(new Map(listed.jobs.map((job) => [job.id, job.status]))).toEqual(
      new Map(succeeded.map((job) => [job.id, "completed"])),
    );
  });

  it("fires the repeat through the firing loop (moto never fires schedules): one run per occurrence, duplicates skipped", async () => {
    // Scheduler fires at minute boundaries: up to a minute from the startup's arming.
    await waitUntil(
      () => runsOf().some((run) => run.type === REPEAT.type),
      75_000,
      "an occurrence of the repeat",
    );
    const occurrence = runsOf().find((run) => run.type === REPEAT.type) as ScenarioRun;
    await wait(occurrence.id, "completed");
    expected.push({ id: occurrence.id, type: occurrence.type, status: "completed", runs: 1 });
    expect(firing.fired.filter((f) => f.duplicate).length).toBeGreaterThan(0);
  });

  it("lost no job and ran none twice; the deployed reconciler finds nothing to mend", async () => {
    const runs = runsOf();
    for (const job of expected) {
      const doc = (await client.context.backgroundJobs.getJob(job.id))?._doc;
      expect(doc?.status, job.id).toBe(job.status);
      const attempts = runs.filter((run) => run.id === job.id).map((run) => run.attempt);
      expect(attempts, job.id).toEqual(Array.from({ length: job.runs }, (_, i) => i + 1));
    }
    // Every run belongs to a job the scenario scheduled or to the repeat.
    const known = new Set(expected.map((job) => job.id));
    const strays = runs.filter((run) => !known.has(run.id) && run.type !== REPEAT.type);
    expect(strays).toEqual([]);
    const report = await functions.reconciler.invoke<Record<string, unknown>>({});
    expect(report).toBeTypeOf("object");
    for (const job of expected)
      expect((await client.context.backgroundJobs.getJob(job.id))?._doc.status).toBe(job.status);
  });
});

/**
 * `bgjobs` as a user runs it against the deployment (bin/bgjobs.js, its own process), with
 * only the region, credentials and `AWS_ENDPOINT_URL` in its environment.
 */
async function bgjobs(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...deployed.awsEnv,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [BGJOBS, ...argv], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** A value for each lane. */
function perLane<T>(value: (lane: LaneName) => T): Record<LaneName, T> {
  return Object.fromEntries(LANES.map((lane) => [lane, value(lane)])) as Record<LaneName, T>;
}
