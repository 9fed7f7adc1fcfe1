/**
 * `npm run bench`: figures, printed as JSON lines. No thresholds: these machines are shared.
 *  (a) requests per single-run job: one job alone, and a steady stream; the cost per million
 *      with where each cent goes; schedule-to-start latency, one job at a time;
 *  (b) SQS requests per job when 10,000 jobs are scheduled at once;
 *  (c) a reconciler pass (time, requests) with 0 and with 10,000 open jobs;
 *  (d) 20,000 jobs of 50 shops and 5 types with a backlog: lost, run twice, the reconciler's
 *      requests per pass during the backlog, each shop's p95 wait (bench/load.ts);
 *  (e) the emulators' own raw request rates, measured in the same run;
 *  (f) the dispatcher bundle `cdk synth` writes: its size, and its cold start (a fresh
 *      process importing it, then its first empty batch) against the local servers, median of 5.
 * BENCH_SCALE=0.2 runs (b)-(d) with a fifth of the jobs.
 */

import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { invokeCold, localEnvironment, synthesizeBundles } from "../infra/bundles.ts";
import { createClients } from "../lib/aws/clients.ts";
import { type App, createApp, type Job, RequestCounter } from "../lib/index.ts";
import { costPerMillion, percentile, round, total } from "./cost.ts";
import { loadTest } from "./load.ts";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const AT_ONCE = Math.round(10_000 * SCALE);
/** The staleness of every process in this run (it must be the same everywhere). */
const STALE_AFTER_MS = 10_000;

function print(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("bench timed out");
    await sleep(5);
  }
}

/** Counts divided by `jobs`, without the poller's idle long polls (not the jobs'). */
function perJob(counts: Record<string, number>, jobs: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([op, n]) => [op, round(n / jobs, 3)]));
}

/** A second app on the same servers, for reconciler passes whose requests alone are counted. */
function reconcilerApp(app: App, counter: RequestCounter): App {
  const { region, tableName, queueUrls, endpoints } = app.local;
  return createApp({
    logger: { info() {}, warn() {}, error() {} },
    backgroundJobs: {
      aws: {
        region,
        tableName,
        queueUrls,
        endpoints,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        requestCounter: counter,
      },
    },
  });
}

const counter = new RequestCounter();
const app = createApp({
  backgroundJobs: {
    local: {
      quiet: true,
      requestCounter: counter,
      reconcileIntervalMs: 3_600_000,
      // Short, so a job waiting 15 s would count as lost to a reconciler without the front.
      reconcile: { staleAfterMs: STALE_AFTER_MS },
    },
  },
});
await app.start();
const reconcilerCounter = new RequestCounter();
const reconciler = reconcilerApp(app, reconcilerCounter);
await reconciler.start();
const { backgroundJobs } = app.context;

async function pass(label: string, open: number): Promise<void> {
  reconcilerCounter.reset();
  const started = performance.now();
  const report = await reconciler.reconcile({ staleAfterMs: STALE_AFTER_MS });
  print({
    bench: "reconciler pass",
    case: label,
    openJobs: open,
    ms: round(performance.now() - started, 1),
    requests: reconcilerCounter.total(),
    byOperation: reconcilerCounter.snapshot(),
    report,
  });
}

try {
  // (a) requests per single-run job ----------------------------------------------------------
  const done = new Set<string>();
  await backgroundJobs.addWorker({
    type: "bench/lifecycle",
    concurrency: 10,
    async worker(job: Job) {
      await job.done();
      done.add(job._id);
    },
  });
  for (const [label, pause] of [
    ["one job alone, cold (its type's cancel log not read within 1 s)", 1200],
    ["one job alone, warm (another of its type claimed within 1 s)", 400],
  ] as const) {
    await sleep(pause);
    counter.reset();
    const job = await backgroundJobs.scheduleJob({ type: "bench/lifecycle", data: {} });
    await until(() => done.has(job._id), 30_000);
    await sleep(150); // the poller's delete
    const { "SQS.ReceiveMessage": receives, ...requests } = counter.snapshot();
    print({
      bench: "requests per single-run job",
      case: label,
      requests,
      total: Object.values(requests).reduce((a, b) => a + b, 0),
      localPollerReceives: receives ?? 0,
    });
  }
  const STREAM = 1000;
  await sleep(200);
  counter.reset();
  const stream: string[] = [];
  for (let i = 0; i < STREAM; i += 50) {
    const jobs = await Promise.all(
      Array.from({ length: 50 }, () =>
        backgroundJobs.scheduleJob({ type: "bench/lifecycle", data: {} }),
      ),
    );
    stream.push(...jobs.map((job) => job._id));
    await sleep(50);
  }
  await until(() => stream.every((id) => done.has(id)), 120_000);
  await sleep(200);
  const streamCounts = perJob(counter.snapshot(), STREAM);
  const lines = costPerMillion(streamCounts);
  const {
    "SQS.ReceiveMessage": localReceives,
    "SQS.DeleteMessageBatch": localDeletes,
    ...stored
  } = streamCounts;
  const onAws =
    Object.values(stored).reduce((a, b) => a + b, 0) + 0.2; /* ESM receive + delete per 10 */
  print({
    bench: "requests per single-run job",
    case: `a stream of ${STREAM} (50 scheduled every 50 ms)`,
    perJob: streamCounts,
    perJobOnAws: round(onAws, 2),
    localPoller: { receives: localReceives, deletes: localDeletes },
    note: "on AWS the event source mapping receives and deletes 10 at a time (0.2 a job)",
  });
  print({
    bench: "cost per million single-run jobs (us-east-1, from the stream above)",
    usdPerMillion: total(lines),
    floor: 2.4,
    lines,
  });

  // One job at a time: schedule-to-start latency with no backlog (a send waits for the turn).
  const startedAt = new Map<string, number>();
  await backgroundJobs.addWorker({
    type: "bench/latency",
    async worker(job: Job) {
      startedAt.set(job._id, Date.now());
      await job.done();
    },
  });
  const latencies: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const before = Date.now();
    const job = await backgroundJobs.scheduleJob({ type: "bench/latency", data: { i } });
    await until(() => startedAt.has(job._id), 30_000);
    latencies.push((startedAt.get(job._id) as number) - before);
  }
  latencies.sort((a, b) => a - b);
  print({
    bench: "schedule to start, one job at a time",
    jobs: latencies.length,
    scheduleToStartMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
  });

  // (b), (c) 10,000 at once: SQS requests per job; reconciler passes at 0 and 10,000 open --
  await pass("no open jobs", 0);
  let started = 0;
  const gate = { open: false };
  await backgroundJobs.addWorker({
    type: "bench/at-once",
    concurrency: 10,
    async worker(job: Job) {
      while (!gate.open) await sleep(20);
      started += 1;
      await job.done();
    },
  });
  counter.reset();
  const scheduling = performance.now();
  await Promise.all(
    Array.from({ length: AT_ONCE }, (_, i) =>
      backgroundJobs.scheduleJob({ type: "bench/at-once", data: { shopId: `s${i % 50}` } }),
    ),
  );
  const scheduledMs = performance.now() - scheduling;
  const sends = counter.snapshot();
  await pass(`${AT_ONCE} open jobs, just scheduled`, AT_ONCE);
  await sleep(4000);
  await pass(`${AT_ONCE} open jobs, 4 s later (10 running, the rest waiting)`, AT_ONCE);
  gate.open = true;
  await until(() => started >= AT_ONCE, 900_000);
  await sleep(300);
  const sqs = Object.fromEntries(
    Object.entries(counter.snapshot()).filter(([op]) => op.startsWith("SQS.")),
  );
  const sent = (sends["SQS.SendMessage"] ?? 0) + (sends["SQS.SendMessageBatch"] ?? 0);
  print({
    bench: `SQS requests per job, ${AT_ONCE} scheduled at once`,
    scheduledInMs: Math.round(scheduledMs),
    sendRequestsPerJob: round(sent / AT_ONCE, 3),
    localSqsRequestsPerJob: round(Object.values(sqs).reduce((a, b) => a + b, 0) / AT_ONCE, 3),
    sqsPerJobOnAws: round(sent / AT_ONCE + 0.2, 3),
    local: sqs,
    note: "on AWS: the sends counted here + 0.1 receive + 0.1 delete (batches of 10)",
  });

  // (d) 20,000 jobs, 50 shops, 5 types, a backlog ------------------------------------------
  await loadTest(
    app,
    reconciler,
    reconcilerCounter,
    { scale: SCALE, staleAfterMs: STALE_AFTER_MS },
    print,
  );

  // (e) the emulators' raw rates ---------------------------------------------------------------
  const raw = createClients({
    region: app.local.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    endpoints: app.local.endpoints,
  });
  const N = 300;
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
  raw.dynamodb.destroy();
  raw.sqs.destroy();
  raw.scheduler.destroy();
  print({
    bench: "emulators, raw sequential requests",
    dynamodbConditionalPutPerSec: Math.round(putRate),
    dynamodbConsistentGetPerSec: Math.round(getRate),
  });

  // (f) the Lambda bundle's size and cold start -------------------------------------------------
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
  await reconciler.stop();
  await app.stop();
}
