import {
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../lib/index.ts";
import { startLocalApp, waitForStatus } from "../support/local-app.ts";

let app: App;
let dynamodb: DynamoDBClient;
beforeAll(async () => {
  app = await startLocalApp({}, [
    {
      name: "files",
      backgroundJobs: { cleanup: [{ type: "ttl/kept7", purgeAfterDays: 7 }] },
      functionsByType: {
        startup: [
          async ({ backgroundJobs }) => {
            for (const type of ["ttl/kept7", "ttl/forever"]) {
              await backgroundJobs.addWorker({
                type,
                async worker(job) {
                  if (job.data.hold) return; // stays running until cancelled
                  if (job.data.fail) await job.fail("no", { fatal: true });
                  else await job.done();
                },
              });
            }
          },
        ],
      },
    },
  ]);
  dynamodb = new DynamoDBClient({
    region: app.local.region,
    endpoint: app.local.endpoints.dynamodb,
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
});
afterAll(async () => {
  dynamodb?.destroy();
  await app?.stop();
});

async function ttlOf(id: string): Promise<number | undefined> {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: app.local.tableName,
      Key: { _id: { S: id } },
      ConsistentRead: true,
    }),
  );
  return Item?.expiresAt?.N === undefined ? undefined : Number(Item.expiresAt.N);
}

describe("cleanup rules become the table's TTL attribute", () => {
  it("enables TTL on the table", async () => {
    const { TimeToLiveDescription } = await dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: app.local.tableName }),
    );
    expect(TimeToLiveDescription).toMatchObject({
      AttributeName: "expiresAt",
      TimeToLiveStatus: "ENABLED",
    });
  });

  it("sets expiresAt = end + purgeAfterDays on completed, failed and cancelled jobs of the type", async () => {
    const { backgroundJobs } = app.context;
    const completed = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: {} });
    const failed = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: { fail: true } });
    const completedDoc = await waitForStatus(app, completed._id, "completed");
    const failedDoc = await waitForStatus(app, failed._id, "failed");
    for (const doc of [completedDoc, failedDoc]) {
      expect(await ttlOf(doc._id)).toBe(Math.floor(doc.updated.getTime() / 1000) + 7 * 86_400);
    }
    const cancelled = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: { hold: true } });
    await waitForStatus(app, cancelled._id, "running");
    await backgroundJobs.cancelJobs({ _id: cancelled._id, type: "ttl/kept7" });
    const cancelledDoc = await waitForStatus(app, cancelled._id, "cancelled");
    expect(await ttlOf(cancelled._id)).toBe(
      Math.floor(cancelledDoc.updated.getTime() / 1000) + 7 * 86_400,
    );
  });

  it("sets no TTL on types without a cleanup rule, nor on unfinished jobs", async () => {
    const { backgroundJobs } = app.context;
    const job = await backgroundJobs.scheduleJob({ type: "ttl/forever", data: {} });
    await waitForStatus(app, job._id, "completed");
    expect(await ttlOf(job._id)).toBeUndefined();
    const open = await backgroundJobs.scheduleJob({ type: "ttl/unrun", data: {} });
    expect(await ttlOf(open._id)).toBeUndefined();
  });

  it("getJob never returns a record past its TTL, even before DynamoDB deletes it", async () => {
    const { backgroundJobs } = app.context;
    const job = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: {} });
    await waitForStatus(app, job._id, "completed");
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: app.local.tableName,
        Key: { _id: { S: job._id } },
        UpdateExpression: "SET expiresAt = :past",
        ExpressionAttributeValues: { ":past": { N: String(Math.floor(Date.now() / 1000) - 60) } },
      }),
    );
    expect(await backgroundJobs.getJob(job._id)).toBeNull();
  });
});
