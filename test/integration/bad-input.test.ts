import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createApp, JobValidationError } from "../../lib/index.ts";
import { LANES } from "../../lib/resources.ts";
import { useLocalApp } from "../support/local-app.ts";

const stack = useLocalApp();

async function stored(): Promise<number> {
  const { Count } = await stack.dynamodb.send(
    new ScanCommand({ TableName: stack.app.local.tableName, Select: "COUNT" }),
  );
  let messages = 0;
  for (const lane of LANES) {
    const { Attributes } = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.app.local.queueUrls[lane],
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
      }),
    );
    messages +=
      Number(Attributes?.ApproximateNumberOfMessages) +
      Number(Attributes?.ApproximateNumberOfMessagesDelayed);
  }
  return (Count ?? 0) + messages;
}

const cycle: Record<string, unknown> = { a: 1 };
cycle.self = cycle;

const badSchedules: Array<[string, Record<string, unknown>, string]> = [
  ["missing type", { data: {} }, "type"],
  ["empty type", { type: "", data: {} }, "type"],
  ["non-string type", { type: 42, data: {} }, "type"],
  ["data not an object", { type: "t", data: "text" }, "data"],
  ["data an array", { type: "t", data: [1, 2] }, "data"],
  ["data with a function", { type: "t", data: { f() {} } }, "data.f"],
  ["data with a BigInt", { type: "t", data: { n: 10n } }, "data.n"],
  ["data with a cycle", { type: "t", data: cycle }, "data.self"],
  ["data with NaN", { type: "t", data: { n: Number.NaN } }, "data.n"],
  ["data with a class instance", { type: "t", data: { m: new Map() } }, "data.m"],
  // MongoDB's 16 MiB; up to it, what a record cannot hold goes to S3 (large-data.test.ts).
  ["data over 16 MiB", { type: "t", data: { blob: "x".repeat(16 * 1024 * 1024) } }, "data"],
  ["unknown priority", { type: "t", data: {}, priority: "urgent" }, "priority"],
  ["non-integer priority", { type: "t", data: {}, priority: 1.5 }, "priority"],
  ["negative retries", { type: "t", data: {}, retry: { retries: -1 } }, "retry.retries"],
  ["non-integer retries", { type: "t", data: {}, retry: { retries: 2.5 } }, "retry.retries"],
  ["negative wait", { type: "t", data: {}, retry: { wait: -5 } }, "retry.wait"],
  ["non-integer wait", { type: "t", data: {}, retry: { wait: 0.5 } }, "retry.wait"],
  ["unknown backoff", { type: "t", data: {}, retry: { backoff: "linear" } }, "retry.backoff"],
  ["unknown retry option", { type: "t", data: {}, retry: { tries: 3 } }, "retry.tries"],
  ["unknown option", { type: "t", data: {}, delay: 1000 }, "delay"],
  ["cancelRepeats not boolean", { type: "t", data: {}, cancelRepeats: "yes" }, "cancelRepeats"],
];

describe("bad input is refused with an error naming the field, and nothing is stored", () => {
  it.each(badSchedules)("scheduleJob: %s", async (_case, options, field) => {
    const before = await stored();
    const error = await stack.app.context.backgroundJobs
      .scheduleJob(options as never)
      .then(() => null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).field).toBe(field);
    expect((error as Error).message).toContain(field);
    expect(await stored()).toBe(before);
  });

  it.each([
    ["missing worker", { type: "w" }, "worker"],
    ["worker not a function", { type: "w", worker: "run" }, "worker"],
    ["missing type", { worker: async () => {} }, "type"],
    ["zero concurrency", { type: "w", worker: async () => {}, concurrency: 0 }, "concurrency"],
    ["negative workTimeout", { type: "w", worker: async () => {}, workTimeout: -1 }, "workTimeout"],
  ])("addWorker: %s", async (_case, options, field) => {
    await expect(
      stack.app.context.backgroundJobs.addWorker(options as never),
    ).rejects.toMatchObject({
      field,
    });
  });

  it.each([
    ["not an array", { type: "a", purgeAfterDays: 7 }, "p.backgroundJobs.cleanup"],
    ["missing type", [{ purgeAfterDays: 7 }], "p.backgroundJobs.cleanup[0].type"],
    ["zero days", [{ type: "a", purgeAfterDays: 0 }], "p.backgroundJobs.cleanup[0].purgeAfterDays"],
    [
      "fractional days",
      [{ type: "a", purgeAfterDays: 1.5 }],
      "p.backgroundJobs.cleanup[0].purgeAfterDays",
    ],
  ])("registerPlugin cleanup: %s", (_case, cleanup, field) => {
    const host = createApp({ backgroundJobs: { local: { quiet: true } } });
    expect(() =>
      host.registerPlugin({ name: "p", backgroundJobs: { cleanup: cleanup as never } }),
    ).toThrow(expect.objectContaining({ field }));
  });

  it("getJob and cancelJobs name what is wrong", async () => {
    await expect(stack.app.context.backgroundJobs.getJob(42 as never)).rejects.toMatchObject({
      field: "id",
    });
    await expect(
      stack.app.context.backgroundJobs.cancelJobs({ type: "t", $or: [] }),
    ).rejects.toMatchObject({
      field: "filter.$or",
    });
  });

  it("accepts Reaction's own shapes: a FileRecord with Dates, types with slashes", async () => {
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "saveImage/local",
      data: {
        doc: { _id: "f1", uploadedAt: new Date("2026-01-02T03:04:05Z"), meta: { size: 10 } },
        collectionName: "Media",
      },
      priority: "normal",
      retry: { retries: 5, wait: 5000, backoff: "exponential" },
    });
    expect(job.data).toEqual({
      doc: { _id: "f1", uploadedAt: "2026-01-02T03:04:05.000Z", meta: { size: 10 } },
      collectionName: "Media",
    });
  });
});

describe("job types that would not fit an EventBridge schedule name", () => {
  it("are kept as they are: schedules are named by job id, never by type", async () => {
    const type = `reports/${"wöchentlich & monatlich ".repeat(9)}`.slice(0, 256);
    const { backgroundJobs } = stack.app.context;
    const job = await backgroundJobs.scheduleJob({ type, data: {}, schedule: "every 24 hours" });
    expect(job.type).toBe(type);
    expect((await backgroundJobs.getJob(job._id))?.type).toBe(type);
    await backgroundJobs.cancelJobs({ type });
    expect((await backgroundJobs.getJob(job._id))?._doc.status).toBe("cancelled");
  });
});
