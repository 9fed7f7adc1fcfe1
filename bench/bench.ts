/**
 * `npm run bench`: figures, printed as JSON lines. No thresholds: these machines are shared.
 *  (a) AWS requests per job lifecycle, by operation (SDK middleware count), first-time success
 *      and one retry;
 *  (b) end-to-end throughput and schedule-to-start latency for 1,000 no-op jobs on the local stack;
 *  (c) the emulators' own raw request rates, measured in the same run;
 *  (d) the dispatcher bundle `cdk synth` writes: its size, and its cold start (a fresh
 *      process importing it, then its first empty batch) against the local servers, median of 5.
 */

import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { invokeCold, localEnvironment, synthesizeBundles } from "../infra/bundles.ts";
import { createClients } from "../lib/aws/clients.ts";
import { createApp, type Job, RequestCounter } from "../lib/index.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);

function print(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

/**
 * A cost model from the counted requests, us-east-1 list prices: $0.625 per million write
 * units, $0.125 per million read units, $0.40 per million SQS requests, $0.20 per million
 * Lambda requests, arm64 at $0.0000133334 per GB-s. Items under 1 KB (1 WRU a write). Index
 * writes: a new job adds an entry to both sparse indexes (2), a job that ends removes both
 * (2), a retry moves its `due` key (a delete and a put: 2); a claim moves no key (0). On AWS
 * the event source mapping
 * receives and deletes in batches of 10 (0.2 requests a message) instead of the local
 * poller's calls; a 512 MB dispatcher runs about 100 ms a batch.
 */
function costPerMillion(requests: Record<string, number>): number {
  const count = (operation: string) => requests[operation] ?? 0;
  const puts = count("DynamoDB.PutItem");
  const updates = count("DynamoDB.UpdateItem");
  const messages = count("SQS.SendMessage");
  // Every message but the first is a retry; every lifecycle ends once.
  const indexWrites = puts * 2 + puts * 2 + (messages - puts) * 2;
  const writeUnits = puts + updates + count("DynamoDB.DeleteItem") + indexWrites;
  const readUnits = count("DynamoDB.GetItem") + count("DynamoDB.Query");
  const sqsRequests = messages * 1.2;
  const lambda = messages * (0.1 * 0.2 + 0.1 * 0.1 * 0.5 * 13.3334);
  const usd = writeUnits * 0.625 + readUnits * 0.125 + sqsRequests * 0.4 + lambda;
  return Math.round(usd * 100) / 100;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("bench timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const counter = new RequestCounter();
const app = createApp({
  backgroundJobs: {
    local: { quiet: true, requestCounter: counter, reconcileIntervalMs: 3_600_000 },
  },
});
await app.start();
const { backgroundJobs } = app.context;

try {
  // (a) requests per lifecycle ------------------------------------------------------------
  const settled = new Set<string>();
  await backgroundJobs.addWorker({
    type: "bench/lifecycle",
    async worker(job: Job) {
      if (job.data.failOnce && job.doc.retried === 1) await job.fail("first attempt fails");
      else await job.done();
      if (job._doc.status === "completed") settled.add(job._id);
    },
  });
  for (const [name, data] of [
    ["succeeds first time", {}],
    ["retries once", { failOnce: true }],
  ] as const) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    counter.reset();
    const job = await backgroundJobs.scheduleJob({
      type: "bench/lifecycle",
      data,
      retry: { retries: 1, wait: 0 },
    });
    await until(() => settled.has(job._id), 30_000);
    // Let the poller delete the last message before reading the counts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const counts = counter.snapshot();
    // Long polls of idle lanes are the poller's, not the job's (on AWS the event source
    // mapping polls, and its empty receives are not billed per job).
    const { "SQS.ReceiveMessage": receives, ...perJob } = counts;
    print({
      bench: "requests per job lifecycle",
      case: name,
      requests: perJob,
      total: Object.values(perJob).reduce((a, b) => a + b, 0),
      localPollerReceives: receives ?? 0,
      estimatedUsdPerMillionJobsOnAws: costPerMillion(perJob),
    });
  }

  // (b) throughput and latency --------------------------------------------------------------
  const startedAt = new Map<string, number>();
  let completed = 0;
  await backgroundJobs.addWorker({
    type: "bench/noop",
    concurrency: CONCURRENCY,
    async worker(job: Job) {
      startedAt.set(job._id, Date.now());
      await job.done();
      completed += 1;
    },
  });
  const scheduledAt = new Map<string, number>();
  const begin = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < JOBS) {
        next += 1;
        const before = Date.now();
        const job = await backgroundJobs.scheduleJob({ type: "bench/noop", data: { n: next } });
        scheduledAt.set(job._id, before);
      }
    }),
  );
  const scheduledIn = Date.now() - begin;
  await until(() => completed >= JOBS, 600_000);
  const elapsed = Date.now() - begin;
  const latencies = [...startedAt.entries()]
    .map(([id, start]) => start - (scheduledAt.get(id) ?? start))
    .sort((a, b) => a - b);
  print({
    bench: "end to end, no-op jobs",
    jobs: JOBS,
    workerConcurrency: CONCURRENCY,
    scheduleRatePerSec: Math.round((JOBS / scheduledIn) * 1000),
    jobsPerSec: Math.round((JOBS / elapsed) * 10000) / 10,
    scheduleToStartMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      max: latencies.at(-1),
    },
    completedExactlyOnce: startedAt.size === JOBS && completed === JOBS,
    note: "jobs are scheduled as fast as 8 callers can; latency includes the backlog",
  });

  // One job at a time: latency with no backlog.
  const single: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const before = Date.now();
    const job = await backgroundJobs.scheduleJob({ type: "bench/noop", data: { single: i } });
    await until(() => startedAt.has(job._id), 30_000);
    single.push((startedAt.get(job._id) as number) - before);
  }
  single.sort((a, b) => a - b);
  print({
    bench: "schedule to start, one job at a time",
    jobs: single.length,
    scheduleToStartMs: { p50: percentile(single, 50), p95: percentile(single, 95) },
  });

  // (c) the emulators' raw rates ---------------------------------------------------------
  const raw = createClients({
    region: app.local.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    endpoints: app.local.endpoints,
  });
  const N = 500;
  let t = Date.now();
  for (let i = 0; i < N; i += 1) {
    await raw.dynamodb.send(
      new PutItemCommand({
        TableName: app.local.tableName,
        Item: { _id: { S: `raw-${i}` }, v: { N: String(i) } },
        ConditionExpression: "attribute_not_exists(#id)",
        ExpressionAttributeNames: { "#id": "_id" },
      }),
    );
  }
  const putRate = (N / (Date.now() - t)) * 1000;
  t = Date.now();
  for (let i = 0; i < N; i += 1) {
    await raw.dynamodb.send(
      new GetItemCommand({
        TableName: app.local.tableName,
        Key: { _id: { S: `raw-${i}` } },
        ConsistentRead: true,
      }),
    );
  }
  const getRate = (N / (Date.now() - t)) * 1000;
  for (let i = 0; i < N; i += 1) {
    await raw.dynamodb.send(
      new DeleteItemCommand({ TableName: app.local.tableName, Key: { _id: { S: `raw-${i}` } } }),
    );
  }
  const { QueueUrl } = await raw.sqs.send(new CreateQueueCommand({ QueueName: "bench-raw" }));
  t = Date.now();
  for (let i = 0; i < N; i += 1) {
    await raw.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "x" }));
    const { Messages } = await raw.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }),
    );
    await raw.sqs.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages?.[0]?.ReceiptHandle }),
    );
  }
  const sqsRate = (N / (Date.now() - t)) * 1000;
  raw.dynamodb.destroy();
  raw.sqs.destroy();
  print({
    bench: "emulators, raw sequential requests",
    dynamodbConditionalPutPerSec: Math.round(putRate),
    dynamodbConsistentGetPerSec: Math.round(getRate),
    sqsSendReceiveDeleteRoundTripsPerSec: Math.round(sqsRate),
  });

  // (d) the Lambda bundle's size and cold start -------------------------------------------------
  const synthesized = synthesizeBundles();
  try {
    const dispatcher = synthesized.functions.dispatcher;
    const env = localEnvironment(dispatcher, app.local);
    const colds: Array<{ importMs: number; firstBatchMs: number; totalMs: number }> = [];
    for (let i = 0; i < 5; i += 1) {
      const begin = Date.now();
      const cold = await invokeCold(dispatcher, env, { Records: [] });
      if (cold.error) throw new Error(`cold start failed: ${cold.error}`);
      colds.push({
        importMs: Math.round(cold.importMs ?? Number.NaN),
        firstBatchMs: Math.round(cold.invokeMs ?? Number.NaN),
        totalMs: Date.now() - begin,
      });
    }
    const median = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    print({
      bench: "dispatcher bundle, cold start",
      bundleBytes: statSync(dispatcher.bundle).size,
      bundleGzipBytes: gzipSync(readFileSync(dispatcher.bundle)).length,
      coldStartMs: {
        importMedian: median(colds.map((c) => c.importMs)),
        firstEmptyBatchMedian: median(colds.map((c) => c.firstBatchMs)),
        importPlusFirstBatchMedian: median(colds.map((c) => c.importMs + c.firstBatchMs)),
        processWallMedian: median(colds.map((c) => c.totalMs)),
      },
      runs: colds,
      note: "a fresh node process per start on this machine; Lambda adds its own sandbox init",
    });
  } finally {
    synthesized.remove();
  }
} finally {
  await app.stop();
}
