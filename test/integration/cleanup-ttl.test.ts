import {
  DescribeTimeToLiveCommand,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { useLocalApp, waitForStatus } from "../support/local-app.ts";

const stack = useLocalApp({}, [
  {
    name: "files",
    backgroundJobs: {
      cleanup: [
        { type: "ttl/kept7", purgeAfterDays: 7 },
        { type: "ttl/held7", purgeAfterDays: 7 },
      ],
    },
    functionsByType: {
      startup: [
        async ({ backgroundJobs }) => {
          for (const type of ["ttl/kept7", "ttl/forever", "ttl/held7"]) {
            const handle = await backgroundJobs.addWorker({
              type,
              async worker(job) {
                if (job.data.hold) return; // stays running until cancelled
                if (job.data.fail) await job.fail("no", { fatal: !job.data.retryLater });
                else await job.done();
              },
            });
            if (type === "ttl/held7") handle.pause(); // its jobs stay ready
          }
        },
      ],
    },
  },
]);

async function ttlOf(id: string): Promise<number | undefined> {
  const { Item } = await stack.dynamodb.send(
    new GetItemCommand({
      TableName: stack.app.local.tableName,
      Key: { _id: { S: id } },
      ConsistentRead: true,
    }),
  );
  return Item?.expiresAt?.N === undefined ? undefined : Number(Item.expiresAt.N);
}

describe("cleanup rules become the table's TTL attribute", () => {
  it("enables TTL on the table", async () => {
    const { TimeToLiveDescription } = await stack.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: stack.app.local.tableName }),
    );
    expect(TimeToLiveDescription).toMatchObject({
      AttributeName: "expiresAt",
      TimeToLiveStatus: "ENABLED",
    });
  });

  it("sets expiresAt = end + purgeAfterDays on completed, failed and cancelled jobs of the type", async () => {
    const { backgroundJobs } = stack.app.context;
    const completed = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: {} });
    const failed = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: { fail: true } });
    const completedDoc = await waitForStatus(stack.app, completed._id, "completed");
    const failedDoc = await waitForStatus(stack.app, failed._id, "failed");
    for (const doc of [completedDoc, failedDoc]) {
      expect(await ttlOf(doc._id)).toBe(Math.floor(doc.updated.getTime() / 1000) + 7 * 86_400);
    }
    const cancelled = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: { hold: true } });
    await waitForStatus(stack.app, cancelled._id, "running");
    await backgroundJobs.cancelJobs({ _id: cancelled._id, type: "ttl/kept7" });
    const cancelledDoc = await waitForStatus(stack.app, cancelled._id, "cancelled");
    expect(await ttlOf(cancelled._id)).toBe(
      Math.floor(cancelledDoc.updated.getTime() / 1000) + 7 * 86_400,
    );
  });

  it("sets no TTL on types without a cleanup rule", async () => {
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "ttl/forever",
      data: {},
    });
    await waitForStatus(stack.app, job._id, "completed");
    expect(await ttlOf(job._id)).toBeUndefined();
  });

  it("sets no TTL on unfinished jobs of a type that has a rule, until they end", async () => {
    const { backgroundJobs } = stack.app.context;
    const waiting = await backgroundJobs.scheduleJob({
      type: "ttl/kept7",
      data: { fail: true, retryLater: true },
      retry: { retries: 1, wait: 600_000 },
    });
    const running = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: { hold: true } });
    const ready = await backgroundJobs.scheduleJob({ type: "ttl/held7", data: {} });
    const paused = await backgroundJobs.scheduleJob({ type: "ttl/held7", data: { p: 1 } });
    await waitForStatus(stack.app, waiting._id, "waiting");
    await waitForStatus(stack.app, running._id, "running");
    await waitForStatus(stack.app, ready._id, "ready");
    expect(await paused.pause()).toBe(true);
    await waitForStatus(stack.app, paused._id, "paused");
    const open = [waiting, running, ready, paused];
    for (const job of open) expect(await ttlOf(job._id), job._id).toBeUndefined();

    // The rule does apply to both types: once these jobs end, they get their TTL.
    for (const job of open) await backgroundJobs.cancelJobs({ _id: job._id, type: job.type });
    for (const job of open) {
      const doc = await waitForStatus(stack.app, job._id, "cancelled");
      expect(await ttlOf(job._id), job._id).toBe(
        Math.floor(doc.updated.getTime() / 1000) + 7 * 86_400,
      );
    }
  });

  it("getJob never returns a record past its TTL, even before DynamoDB deletes it", async () => {
    const { backgroundJobs } = stack.app.context;
    const job = await backgroundJobs.scheduleJob({ type: "ttl/kept7", data: {} });
    await waitForStatus(stack.app, job._id, "completed");
    await stack.dynamodb.send(
      new UpdateItemCommand({
        TableName: stack.app.local.tableName,
        Key: { _id: { S: job._id } },
        UpdateExpression: "SET expiresAt = :past",
        ExpressionAttributeValues: { ":past": { N: String(Math.floor(Date.now() / 1000) - 60) } },
      }),
    );
    expect(await backgroundJobs.getJob(job._id)).toBeNull();
  });
});
