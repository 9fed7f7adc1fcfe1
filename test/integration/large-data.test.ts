import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { JobValidationError } from "../../lib/errors.ts";
import type { Job } from "../../lib/index.ts";
import { MAX_DATA_BYTES, payloadKey } from "../../lib/jobs/payload.ts";
import { connect, stackInfoOfApp } from "../../lib/ops/connect.ts";
import { LOCAL_CREDENTIALS } from "../../lib/stack.ts";
import {
  restartableTable,
  startLocalApp,
  tempDataDir,
  useLocalApp,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

/** What each run's worker saw: the hash and size of `job.data` as JSON, once `done` resolved. */
const seen = new Map<string, { sha256: string; bytes: number }>();
/** Resolves a job's wait once its worker's `done` resolved (no polling of a 15 MB job). */
const settled = new Map<string, () => void>();

const stack = useLocalApp({}, [
  {
    name: "mail",
    functionsByType: {
      startup: [
        async ({ backgroundJobs }) => {
          await backgroundJobs.addWorker({
            type: "large/render",
            async worker(job: Job) {
              seen.set(job._id, digest(job.data));
              await job.done({ sent: true });
              settled.get(job._id)?.();
            },
          });
        },
      ],
    },
  },
]);

let s3: S3Client | undefined;
function bucket(): { s3: S3Client; name: string } {
  const { endpoints, region, payloadBucket } = stack.app.local;
  s3 ??= new S3Client({
    region,
    endpoint: endpoints.s3,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  return { s3, name: payloadBucket };
}
afterAll(() => s3?.destroy());

function digest(value: unknown): { sha256: string; bytes: number } {
  const text = JSON.stringify(value);
  return {
    sha256: createHash("sha256").update(text).digest("hex"),
    bytes: Buffer.byteLength(text),
  };
}

/** A rendered e-mail of about `bytes` bytes (UTF-8), with some structure around the big part. */
function email(bytes: number, shopId = "shop-large") {
  const html = `<p>${"é".repeat(1000)}${"x".repeat(bytes - 2000)}</p>`;
  return { shopId, to: "a@example.com", html, parts: [1, { nested: null }] };
}

async function storedItem(id: string) {
  const { Item } = await stack.dynamodb.send(
    new GetItemCommand({
      TableName: stack.app.local.tableName,
      Key: { _id: { S: id } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

async function objectExists(key: string): Promise<boolean> {
  const { s3, name } = bucket();
  try {
    await s3.send(new HeadObjectCommand({ Bucket: name, Key: key }));
    return true;
  } catch (error) {
    if ((error as Error).name === "NotFound") return false;
    throw error;
  }
}

async function runLarge(
  bytes: number,
): Promise<{ id: string; key: string; expected: ReturnType<typeof digest> }> {
  const data = email(bytes);
  const expected = digest(data);
  const job = await stack.app.context.backgroundJobs.scheduleJob({ type: "large/render", data });
  if (!seen.has(job._id)) await new Promise<void>((resolve) => settled.set(job._id, resolve));
  // The worker saw the whole data, and so does getJob.
  expect(seen.get(job._id)).toEqual(expected);
  const again = await stack.app.context.backgroundJobs.getJob(job._id);
  expect(again?._doc.status).toBe("completed");
  expect(digest(again?.data)).toEqual(expected);
  expect(again?._doc.result).toEqual({ sent: true });
  // The record holds the claim check, not the data: it stays far under DynamoDB's 400 KB.
  const item = await storedItem(job._id);
  const key = item?.dataRef?.M?.key?.S ?? "";
  expect(item?.dataRef?.M?.sha256?.S).toBe(expected.sha256);
  expect(Number(item?.dataRef?.M?.bytes?.N)).toBe(expected.bytes);
  expect(JSON.stringify(item).length).toBeLessThan(8 * 1024);
  expect(await objectExists(key)).toBe(true);
  return { id: job._id, key, expected };
}

describe("data up to 16 MiB goes to S3 as a claim check", () => {
  it("a 2 MB data round-trips to the worker, getJob and bgjobs; an operator's delete purges its object", async () => {
    const { id, key, expected } = await runLarge(2_000_000);
    // Through bgjobs' own connection (its own clients and adapters), as an operator would.
    const operator = connect(stackInfoOfApp(stack.app), { actor: "test" });
    try {
      const detail = await operator.ops.getJob(id);
      expect(digest(detail?.data)).toEqual(expected);
      const report = await operator.ops.act({ action: "delete", target: { ids: [id] } });
      expect(report.changed).toBe(1);
    } finally {
      operator.close();
    }
    await waitUntil(async () => !(await objectExists(key)), 10_000, "the payload purged");
  });

  it("a 15 MB data (a multipart upload) round-trips; job.remove() purges its object", async () => {
    const { id, key } = await runLarge(15_000_000);
    const job = await stack.app.context.backgroundJobs.getJob(id);
    expect(await job?.remove()).toBe(true);
    await waitUntil(async () => !(await objectExists(key)), 10_000, "the payload purged");
  });

  it("keeps data under the threshold in the record and writes no object", async () => {
    const { s3, name } = bucket();
    const before = await s3.send(new ListObjectsV2Command({ Bucket: name }));
    const data = email(200_000);
    const job = await stack.app.context.backgroundJobs.scheduleJob({ type: "large/render", data });
    await waitForStatus(stack.app, job._id, "completed");
    expect(seen.get(job._id)).toEqual(digest(data));
    expect((await stack.app.context.backgroundJobs.getJob(job._id))?.data).toEqual(data);
    const item = await storedItem(job._id);
    expect(item?.dataRef).toBeUndefined();
    const after = await s3.send(new ListObjectsV2Command({ Bucket: name }));
    expect(after.KeyCount ?? 0).toBe(before.KeyCount ?? 0);
  });

  it("refuses data over 16 MiB, naming data, and stores nothing", async () => {
    const { s3, name } = bucket();
    const before = await s3.send(new ListObjectsV2Command({ Bucket: name }));
    const data = { shopId: "shop-huge", html: "x".repeat(MAX_DATA_BYTES) };
    const refused = await stack.app.context.backgroundJobs
      .scheduleJob({ type: "large/huge", data })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(JobValidationError);
    expect((refused as JobValidationError).field).toBe("data");
    expect((refused as Error).message).toMatch(/16777216/);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: name }));
    expect(after.KeyCount ?? 0).toBe(before.KeyCount ?? 0);
    const { Count } = await stack.dynamodb.send(
      new ScanCommand({
        TableName: stack.app.local.tableName,
        FilterExpression: "#type = :type",
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: { ":type": { S: "large/huge" } },
        Select: "COUNT",
      }),
    );
    expect(Count).toBe(0);
  });
});

describe("a local stack restarted on its data folder", () => {
  it("keeps claim-checked data (fauxqs holds objects in memory; the folder keeps them)", async () => {
    const folder = await tempDataDir();
    const table = restartableTable();
    try {
      const data = email(400_000, "shop-kept");
      const first = await startLocalApp(table.options({ dataDir: folder.dir }));
      // No worker for the type here: it stays ready across the restart.
      const job = await first.context.backgroundJobs.scheduleJob({ type: "large/kept", data });
      const kept = join(folder.dir, "payloads", encodeURIComponent(payloadKey(job._id)));
      await waitUntil(() => existsSync(kept), 10_000, "the payload kept in the data folder");
      await first.stop();
      const second = await startLocalApp(table.options({ dataDir: folder.dir }));
      try {
        expect((await second.context.backgroundJobs.getJob(job._id))?.data).toEqual(data);
      } finally {
        await second.stop();
      }
    } finally {
      await table.drop();
      await folder.remove();
    }
  });
});
