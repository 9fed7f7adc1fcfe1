import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DynamoJobStore } from "../../lib/aws/dynamo/job-store.ts";
import { SqsLanes } from "../../lib/aws/lanes.ts";
import { sqsBatchHandler } from "../../lib/aws/sqs-batch.ts";
import { createJobSystem, type JobSystem } from "../../lib/jobs/api.ts";
import { dispatch } from "../../lib/jobs/deliver.ts";
import type { JobDeps } from "../../lib/jobs/deps.ts";
import { systemClock } from "../../lib/jobs/deps.ts";
import { beginRun, prepareRun } from "../../lib/jobs/run/begin.ts";
import type { JobRecord } from "../../lib/jobs/types.ts";
import type { JobLogger } from "../../lib/log.ts";
import { sqsEvent } from "../support/sqs-event.ts";

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
const sqsClient = new SQSClient({ region: "us-east-1" });
const ddb = mockClient(documents);
const sqs = mockClient(sqsClient);
const queueUrls = {
  critical: "https://q/critical",
  normal: "https://q/normal",
  low: "https://q/low",
};

let warnings: string[];
function system(now = 1_000_000): JobSystem {
  warnings = [];
  const logger: JobLogger = { info() {}, warn: (message) => warnings.push(message), error() {} };
  return createJobSystem({
    store: new DynamoJobStore(documents, { tableName: "jobs", now: () => now }),
    lanes: new SqsLanes(sqsClient, queueUrls),
    logger,
    cleanup: new Map([["saveImage/local", 7]]),
    clock: { now: () => now, sleep: systemClock.sleep },
  });
}

/** The job a worker is handed for a record claimed under its runId. */
function started(deps: JobDeps, claimed: JobRecord) {
  const run = prepareRun(deps, claimed._id, claimed.runId as string, claimed.workTimeout ?? 60_000);
  return beginRun(deps, run, claimed);
}

function record(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    _id: "job1",
    type: "saveImage/local",
    data: {},
    status: "running",
    priority: 0,
    retries: 5,
    retried: 1,
    retryWait: 5000,
    retryBackoff: "exponential",
    retryUntil: 8.64e15,
    repeatRetries: 6,
    after: 0,
    created: 0,
    updated: 0,
    progress: { completed: 0, total: 1, percent: 0 },
    failures: [],
    runId: "run1",
    repeated: 0,
    log: [],
    leaseUntil: 2_000_000,
    workTimeout: 60_000,
    ...overrides,
  };
}

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  // The types registry's idempotent ADD, made before a process's first job of a type.
  ddb.on(UpdateCommand, { Key: { _id: "#types" } }).resolves({});
});
afterEach(() => {
  ddb.reset();
  sqs.reset();
});

describe("scheduleJob's AWS calls", () => {
  it("writes the record with a conditional put, then sends { id, type } to the priority's lane", async () => {
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: "m1" });
    const job = await system().backgroundJobs.scheduleJob({
      type: "saveImage/local",
      data: { a: 1 },
      priority: "critical",
    });
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      TableName: "jobs",
      ConditionExpression: "attribute_not_exists(#id)",
      ExpressionAttributeNames: { "#id": "_id" },
      Item: {
        _id: job._id,
        status: "ready",
        priority: -15,
        dueAt: 1_000_000,
        typeKey: expect.stringMatching(/^saveImage\/local#\d+$/),
        openKey: expect.stringMatching(/^saveImage\/local#\d+$/),
      },
    });
    // The type went to the registry once, before the record.
    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: "jobs",
        Key: { _id: "#types" },
        UpdateExpression: "ADD #types :type",
        ExpressionAttributeNames: { "#types": "types" },
        ExpressionAttributeValues: { ":type": new Set(["saveImage/local"]) },
      },
    ]);
    // Sent as a batch (of one), grouped by its tenant for SQS fair queues (none: its type).
    const send = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(send).toEqual({
      QueueUrl: queueUrls.critical,
      Entries: [
        {
          Id: "0",
          MessageBody: JSON.stringify({
            id: job._id,
            type: "saveImage/local",
            group: "type:saveImage/local",
            at: 1_000_000,
          }),
          DelaySeconds: 0,
          MessageGroupId: "type:saveImage/local",
        },
      ],
    });
  });

  it("sends the calls of one turn in batches of 10 by lane, each message grouped by its shop", async () => {
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [] });
    const { backgroundJobs } = system();
    const jobs = await Promise.all(
      Array.from({ length: 23 }, (_, i) =>
        backgroundJobs.scheduleJob({
          type: "mail",
          data: { shopId: `shop${i % 3}` },
          priority: i < 21 ? "normal" : "high",
        }),
      ),
    );
    const batches = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    const shape = (url: string) =>
      batches.filter((b) => b.QueueUrl === url).map((b) => b.Entries?.length);
    expect([shape(queueUrls.normal), shape(queueUrls.critical)]).toEqual([[10, 10, 1], [2]]);
    const entries = batches.flatMap((b) => b.Entries ?? []);
    expect(entries.map((e) => JSON.parse(e.MessageBody ?? "{}").id).sort()).toEqual(
      jobs.map((job) => job._id).sort(),
    );
    expect(entries.every((e) => e.MessageGroupId === JSON.parse(e.MessageBody ?? "{}").group)).toBe(
      true,
    );
    expect(new Set(entries.map((e) => e.MessageGroupId))).toEqual(
      new Set(["shop0", "shop1", "shop2"]),
    );
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it("in one turn, a refused insert rejects only its own call", async () => {
    ddb
      .on(PutCommand)
      .resolves({})
      .on(PutCommand, { Item: { data: JSON.stringify({ n: 1 }) } })
      .rejects(Object.assign(new Error("throttled"), { name: "ThrottlingException" }));
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [] });
    const { backgroundJobs } = system();
    const results = await Promise.allSettled(
      [0, 1, 2].map((n) => backgroundJobs.scheduleJob({ type: "t", data: { n } })),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const sent = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(sent).toHaveLength(2);
  });

  it("writes the types registry once per type per process, even for calls in the same tick", async () => {
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [] });
    const { backgroundJobs } = system();
    await Promise.all(
      ["a", "a", "b", "a", "b"].map((type) => backgroundJobs.scheduleJob({ type, data: {} })),
    );
    await backgroundJobs.scheduleJob({ type: "a", data: {} });
    const registered = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(registered.map((input) => input.ExpressionAttributeValues?.[":type"])).toEqual([
      new Set(["a"]),
      new Set(["b"]),
    ]);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(6);
  });

  it("low and normal priorities go to their lanes", async () => {
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [] });
    const jobs = system();
    await jobs.backgroundJobs.scheduleJob({ type: "t", data: {}, priority: "low" });
    await jobs.backgroundJobs.scheduleJob({ type: "t", data: {}, priority: -9 });
    expect(
      sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.QueueUrl),
    ).toEqual([queueUrls.low, queueUrls.normal]);
  });

  it("rejects on a DynamoDB throttle (after the SDK's own retries) and sends nothing", async () => {
    ddb.on(PutCommand).rejects(
      Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
        name: "ProvisionedThroughputExceededException",
      }),
    );
    await expect(system().backgroundJobs.scheduleJob({ type: "t", data: {} })).rejects.toThrow(
      /exceeds the allowed throughput/,
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("resolves when the SQS send fails after the write: the record is kept for the reconciler", async () => {
    ddb.on(PutCommand).resolves({});
    sqs
      .on(SendMessageBatchCommand)
      .rejects(
        Object.assign(new Error("We encountered an internal error"), { name: "InternalError" }),
      );
    const jobs = system();
    const job = await jobs.backgroundJobs.scheduleJob({ type: "t", data: {} });
    expect(job._doc.status).toBe("ready");
    expect(warnings).toEqual(["enqueue failed; the reconciler will deliver it"]);
  });
});

describe("claim and settle are single conditional updates", () => {
  it("claims ready or waiting, due jobs: status, fresh runId and lease in one update", async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: record() });
    const store = new DynamoJobStore(documents, { tableName: "jobs" });
    await store.claimJob("job1", {
      runId: "run9",
      type: "saveImage/local",
      now: 1000,
      workTimeout: 60_000,
    });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      "#status IN (:ready, :waiting) AND #after <= :now AND attribute_not_exists(#repeat) AND #type = :type",
    );
    expect(input?.ReturnValuesOnConditionCheckFailure).toBe("ALL_OLD");
    const names = input?.ExpressionAttributeNames ?? {};
    const values = input?.ExpressionAttributeValues ?? {};
    const assigned = Object.fromEntries(
      [...(input?.UpdateExpression ?? "").matchAll(/(#u\d+) = (:u\d+)/g)].map(([, n, v]) => [
        names[n as string],
        values[v as string],
      ]),
    );
    expect(assigned).toMatchObject({
      status: "running",
      runId: "run9",
      leaseUntil: 61_000,
    });
    // The index key does not move at a claim (that would be billed as two index writes).
    expect(assigned).not.toHaveProperty("dueAt");
    expect(input?.UpdateExpression).toMatch(/ADD #u\d+ :u\d+, #u\d+ :u\d+/);
    expect(values).toMatchObject({ ":ready": "ready", ":waiting": "waiting", ":now": 1000 });
  });

  it("a lost claim returns the record as it is, from the failed condition (no extra read)", async () => {
    ddb.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: "The conditional request failed",
        $metadata: {},
        Item: marshall(record({ status: "completed" }), { removeUndefinedValues: true }),
      }),
    );
    const store = new DynamoJobStore(documents, { tableName: "jobs" });
    const result = await store.claimJob("job1", {
      runId: "run9",
      type: "saveImage/local",
      now: 1000,
      workTimeout: 60_000,
    });
    expect(result).toEqual({
      current: expect.objectContaining({ _id: "job1", status: "completed" }),
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it("done() is conditional on the runId, sets the TTL for a cleanup type, and drops the index keys", async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: record({ status: "completed" }) });
    const jobs = system(1_000_000);
    const job = started(jobs.deps, record());
    expect(await job.done("ok")).toBe(true);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe("#runId = :runId AND #status = :running");
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ":runId": "run1",
      ":running": "running",
    });
    const names = Object.values(input?.ExpressionAttributeNames ?? {});
    expect(names).toEqual(expect.arrayContaining(["expiresAt", "dueAt", "leaseUntil"]));
    expect(Object.values(input?.ExpressionAttributeValues ?? {})).toContain(1000 + 7 * 86_400);
  });

  it("a fenced done() (ConditionalCheckFailedException) resolves false", async () => {
    ddb.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: "The conditional request failed",
        $metadata: {},
      }),
    );
    const job = started(system().deps, record());
    expect(await job.done()).toBe(false);
  });

  it("a retry more than 900 s away is sent with the SQS maximum delay and re-checked on receipt", async () => {
    const now = 1_000_000;
    ddb.on(UpdateCommand).resolves({
      Attributes: record({ status: "waiting", after: now + 20 * 60_000, runId: null }),
    });
    sqs.on(SendMessageCommand).resolves({});
    const job = started(
      system(now).deps,
      record({ retryWait: 20 * 60_000, retryBackoff: "constant" }),
    );
    expect(await job.fail("later")).toBe(true);
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.DelaySeconds).toBe(900);
  });
});

describe("the dispatcher's answers to SQS", () => {
  it("reports a poison message as a batch item failure and acknowledges the rest", async () => {
    const now = 1_000_000;
    const jobs = system(now);
    // The job is not due for another 30 minutes: the message hops on (another 900 s delay).
    ddb.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: "The conditional request failed",
        $metadata: {},
        Item: marshall(record({ status: "waiting", after: now + 30 * 60_000, runId: null }), {
          removeUndefinedValues: true,
        }),
      }),
    );
    sqs.on(SendMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const handler = sqsBatchHandler(sqsClient, queueUrls, (deliveries) =>
      dispatch(jobs.deps, deliveries),
    );
    const response = await handler(
      sqsEvent(
        ["not json", JSON.stringify({ id: "job1", type: "saveImage/local" })],
        "arn:aws:sqs:us-east-1:000000000000:normal",
      ),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "message-0" }] });
    // The poison message comes back after a pause, not at once.
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: queueUrls.normal,
      ReceiptHandle: "handle-0",
      VisibilityTimeout: 10,
    });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: queueUrls.normal,
      DelaySeconds: 900,
    });
  });
});
