import { readFileSync } from "node:fs";
import { ListSchedulesCommand } from "@aws-sdk/client-scheduler";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FunctionName,
  invokeCold,
  localEnvironment,
  type SynthesizedFunction,
  synthesizeBundles,
} from "../../infra/bundles.ts";
import { type AwsClients, createClients } from "../../lib/aws/clients.ts";
import { sqsRecord } from "../../lib/aws/sqs-batch.ts";
import { type JobBackend, startJobBackend } from "../../lib/backend.ts";
import type { JobRecord } from "../../lib/jobs/types.ts";
import { envNames } from "../../lib/names.ts";
import { onSharedDynamoDb } from "../support/local-app.ts";

// The bundles `cdk synth` writes for this repository's plugins (lambdas/plugins.ts: files,
// email, sitemap with two shops and a ping every minute), each loaded in a fresh process as
// the Lambda runtime loads it, against the local servers. No poller runs: only the bundles
// touch the jobs.
let synthesized: ReturnType<typeof synthesizeBundles>;
let backend: JobBackend;
let clients: AwsClients;
beforeAll(async () => {
  synthesized = synthesizeBundles();
  backend = await startJobBackend({ backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) } });
  clients = createClients({
    region: backend.local.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    endpoints: backend.local.endpoints,
  });
}, 180_000);
afterAll(async () => {
  for (const client of [clients?.dynamodb, clients?.sqs, clients?.scheduler]) client?.destroy();
  await backend?.stop();
  synthesized?.remove();
});

const fn = (name: FunctionName): SynthesizedFunction => synthesized.functions[name];
const cold = <T>(
  name: FunctionName,
  event: unknown,
  options: { remainingMs?: number; env?: Record<string, string> } = {},
) =>
  invokeCold<T>(
    fn(name),
    localEnvironment(fn(name), backend.local, options.env),
    event,
    options.remainingMs,
  );

/** Every item of the job table, as stored, in id order. */
async function tableItems(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await clients.documents.send(
    new ScanCommand({ TableName: backend.local.tableName, ConsistentRead: true }),
  );
  return Items.sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1));
}

const openTemplates = (items: Record<string, unknown>[]) =>
  (items as unknown as JobRecord[]).filter(
    (item) => item.repeat && (item.status === "waiting" || item.status === "paused"),
  );

const laneArn = (lane: "normal") =>
  `arn:aws:sqs:${backend.local.region}:000000000000:${backend.local.queueUrls[lane].split("/").pop()}`;
const event = (bodies: object[]) => ({
  Records: bodies.map((body, i) =>
    sqsRecord(
      { MessageId: `m-${i}`, ReceiptHandle: `h-${i}`, Body: JSON.stringify(body) },
      laneArn("normal"),
      backend.local.region,
    ),
  ),
});

describe("the bundles", () => {
  it("leave out the emulators, their launchers and the local poller", () => {
    for (const name of ["dispatcher", "reconciler", "startup"] as const) {
      const code = readFileSync(fn(name).bundle, "utf8");
      for (const local of ["DynamoDBLocal.jar", "fauxqs", "watchdog.mjs", "poller receive failed"])
        expect(code).not.toContain(local);
    }
  });
});

describe("a deployment is the server start", () => {
  it("the deploy-time startup schedules the plugins' repeating jobs once; a redeploy leaves exactly one of each", async () => {
    const first = await cold<{ plugins: number }>("startup", {});
    expect(first.error).toBeUndefined();
    expect(first.result).toEqual({ plugins: 3 });
    const afterFirst = openTemplates(await tableItems());
    const byIdentity = (templates: JobRecord[]) =>
      // `data` is stored as JSON text.
      templates.map((t) => `${t.type} ${t.data} ${t.repeat?.schedule}`).sort();
    expect(byIdentity(afterFirst)).toEqual([
      "heartbeat/ping {} every 1 minute",
      'sitemaps/generate {"shopId":"shop-1"} every 24 hours',
      'sitemaps/generate {"shopId":"shop-2"} every 24 hours',
    ]);

    await cold("startup", {});
    const afterSecond = openTemplates(await tableItems());
    expect(byIdentity(afterSecond)).toEqual(byIdentity(afterFirst));
    // `cancelRepeats: true` with the same type, data and schedule keeps the very template.
    const ping = (templates: JobRecord[]) =>
      templates.find((t) => t.type === "heartbeat/ping")?._id;
    expect(ping(afterSecond)).toBe(ping(afterFirst));
    // One EventBridge schedule per open template, none left behind by the cancelled ones.
    const { Schedules = [] } = await clients.scheduler.send(
      new ListSchedulesCommand({ GroupName: backend.local.scheduleGroup }),
    );
    expect(Schedules).toHaveLength(3);
  }, 60_000);

  it("cold starts of the dispatcher and the reconciler, one and then two at once, change no job record", async () => {
    const before = await tableItems();
    expect(openTemplates(before)).toHaveLength(3);
    const empty = { Records: [] };
    expect((await cold<SQSBatchResponse>("dispatcher", empty)).result).toEqual({
      batchItemFailures: [],
    });
    const both = await Promise.all([
      cold<SQSBatchResponse>("dispatcher", empty),
      cold<SQSBatchResponse>("dispatcher", empty),
      cold("reconciler", {}),
    ]);
    for (const invocation of both) expect(invocation.error).toBeUndefined();
    // Job records only: the reconciler's invocation may do its own bookkeeping meanwhile (drop
    // a cancel log applied long enough ago, note where its pass got to), which is no cold start's.
    const jobs = (items: Record<string, unknown>[]) =>
      items.filter((item) => !String(item._id).startsWith("#"));
    expect(jobs(await tableItems())).toEqual(jobs(before));
  }, 60_000);

  it("a cold start woken by a firing runs that day's occurrence and leaves the template armed", async () => {
    const template = openTemplates(await tableItems()).find(
      (t) => t.type === "sitemaps/generate",
    ) as JobRecord;
    const firedAt = new Date(Date.now() - 1000).toISOString();
    const invocation = await cold<SQSBatchResponse>(
      "dispatcher",
      event([{ id: template._id, type: template.type, firedAt }]),
    );
    expect(invocation.result).toEqual({ batchItemFailures: [] });
    const items = (await tableItems()) as unknown as JobRecord[];
    const after = items.find((item) => item._id === template._id) as JobRecord;
    expect(after.status).toBe("waiting");
    expect(after.lastFiredAt).toBe(Date.parse(firedAt));
    const occurrence = items.find((item) => item._id === after.lastOccurrenceId);
    expect(occurrence?.status).toBe("completed");
    expect(occurrence?.data).toEqual(template.data);
  }, 60_000);
});

describe("never start what cannot finish", () => {
  it("refuses, at a cold start, a worker whose workTimeout cannot fit the function's timeout, naming the type", async () => {
    // The files worker's workTimeout is 600 s; a 60 s function leaves at most 30 s.
    const invocation = await cold(
      "startup",
      {},
      { env: { [envNames.functionTimeoutMs]: "60000" } },
    );
    expect(invocation.error).toMatch(
      /workTimeout: 600000 ms for "saveImage\/local" is longer .* at most 30000 ms/,
    );
  }, 60_000);

  it("hands back at once what it cannot start: no free slot, or too little time left", async () => {
    const { backgroundJobs } = backend.system;
    const emails = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        backgroundJobs.scheduleJob({
          type: "sendEmail",
          data: { from: "a@b.c", to: `to${i}@b.c`, subject: "s", html: "<p>h</p>" },
        }),
      ),
    );
    // sendEmail runs 3 at a time (its default concurrency): 3 start, 2 go back at once.
    const invocation = await cold<SQSBatchResponse>(
      "dispatcher",
      event(emails.map((job) => ({ id: job._id, type: "sendEmail" }))),
    );
    const deferred = invocation.result?.batchItemFailures.map((f) => f.itemIdentifier) ?? [];
    expect(deferred).toHaveLength(2);
    const records = await Promise.all(
      emails.map((job) => backend.system.deps.store.getJob(job._id)),
    );
    const statuses = records.map((record) => record?.status);
    expect(statuses.filter((status) => status === "completed")).toHaveLength(3);
    // The two handed back were never claimed: no attempt spent.
    for (const id of deferred) {
      const record = records[Number(id.slice(2))];
      expect(record?.status).toBe("ready");
      expect(record?.retried).toBe(0);
    }

    // 60 s left in the invocation: a 120 s sendEmail run would outlast it, so it waits.
    const late = await backgroundJobs.scheduleJob({
      type: "sendEmail",
      data: { from: "a@b.c", to: "late@b.c", subject: "s", html: "<p>h</p>" },
    });
    const short = await cold<SQSBatchResponse>(
      "dispatcher",
      event([{ id: late._id, type: "sendEmail" }]),
      { remainingMs: 60_000 },
    );
    expect(short.result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-0" }] });
    expect((await backend.system.deps.store.getJob(late._id))?.retried).toBe(0);
    // A fresh invocation with its whole 900 s runs it.
    expect(
      (await cold<SQSBatchResponse>("dispatcher", event([{ id: late._id, type: "sendEmail" }])))
        .result,
    ).toEqual({ batchItemFailures: [] });
    expect((await backend.system.deps.store.getJob(late._id))?.status).toBe("completed");
  }, 90_000);
});
