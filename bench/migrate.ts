/**
 * `npm run bench:migrate`: moving 10,000 job-collection documents (BENCH_DOCS changes the
 * number) from MongoDB onto the local stack with `migrateJobs`, as `bgjobs migrate-from-mongo`
 * runs it: the time, and the AWS requests by operation, of a dry run, the move, and a second
 * run (which imports nothing). MongoDB is jongodb (a wire-protocol server from an npm package)
 * through the real mongodb driver where it runs (linux x64), else mongo-mock in process.
 * Prints one JSON line per run; no thresholds.
 */
import { createRequire } from "node:module";
import { RequestCounter } from "../lib/aws/clients.ts";
import { createApp } from "../lib/index.ts";
import { type MongoDatabase, migrateJobs } from "../lib/migrate/index.ts";
import { connectMongo } from "../lib/migrate/mongo-url.ts";
import { jongodbBinary, startJongodb } from "../test/support/jongodb.ts";

const DOCS = Number(process.env.BENCH_DOCS ?? 10_000);
const require = createRequire(import.meta.url);
const now = Date.now();

/** A shop's history: mostly finished emails, some waiting, due, running and repeating jobs. */
function documents(count: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => {
    const kind = i % 100;
    const status =
      kind < 80
        ? "completed"
        : kind < 90
          ? "failed"
          : kind < 95
            ? "waiting"
            : kind < 98
              ? "ready"
              : kind < 99
                ? "cancelled"
                : "running";
    const repeating = i < 5;
    return {
      _id: `bench${String(i).padStart(7, "0")}`,
      type: repeating ? `bench/repeat${i}` : i % 2 ? "sendEmail" : "saveImage/remote",
      status: repeating ? "waiting" : status,
      data: { shopId: `shop${i % 20}`, to: `customer${i}@example.com`, subject: "Your order" },
      priority: 0,
      retries: status === "completed" ? 5 : 1,
      retried: status === "completed" ? 1 : 0,
      retryWait: 180_000,
      retryBackoff: "constant",
      retryUntil: new Date(8_640_000_000_000_000),
      repeats: repeating ? 2 ** 53 : 0,
      repeatWait: repeating ? { schedules: [{ m: [0, 30] }], exceptions: [] } : 300_000,
      // Waiting ones: within SQS's 15 minutes, and some days out (a one-time schedule).
      after: new Date(status === "waiting" ? now + (i % 3 === 0 ? 2 * 86_400_000 : 600_000) : now),
      created: new Date(now - 3_600_000),
      updated: new Date(now - 3_600_000),
      runId: status === "running" ? "deadRun" : null,
      expiresAfter: status === "running" ? new Date(now - 60_000) : undefined,
      result: status === "completed" ? {} : undefined,
      failures: status === "failed" ? [{ value: "SMTP refused", runId: "r" }] : [],
      log: [
        { time: new Date(now - 3_600_000), runId: null, level: "info", message: "Job Submitted" },
      ],
    };
  });
}

interface Source {
  db: MongoDatabase;
  kind: string;
  stop(): Promise<void>;
}

async function wireSource(binary: string, docs: object[]): Promise<Source> {
  const jongodb = await startJongodb(binary);
  const mongo = await connectMongo(`${jongodb.url}/shop`, { timeoutMs: 5000 });
  const jobs = mongo.db.collection("Jobs") as unknown as {
    insertMany(d: object[]): Promise<unknown>;
  };
  for (let i = 0; i < docs.length; i += 1000) await jobs.insertMany(docs.slice(i, i + 1000));
  return {
    db: mongo.db,
    kind: "jongodb (wire protocol, mongodb driver)",
    stop: async () => {
      await mongo.close();
      jongodb.stop();
    },
  };
}

async function mockSource(docs: object[]): Promise<Source> {
  const mongoMock = require("mongo-mock") as {
    max_delay: number;
    MongoClient: {
      connect(url: string): Promise<{ db(name: string): MongoDatabase; close(): Promise<void> }>;
    };
  };
  mongoMock.max_delay = 0;
  const client = await mongoMock.MongoClient.connect("mongodb://127.0.0.1:27017/shop");
  const db = client.db("bench");
  const jobs = db.collection("Jobs") as unknown as { insertMany(d: object[]): Promise<unknown> };
  await jobs.insertMany(docs);
  return {
    db,
    kind: "mongo-mock (in process)",
    stop: async () => {
      await (db as unknown as { close(): Promise<void> }).close();
      await client.close();
    },
  };
}

// The local stack (consuming nothing it is not given workers for), and a second app on its
// servers whose requests alone are counted: what bgjobs would send.
const stack = createApp({
  backgroundJobs: { local: { quiet: true, reconcileIntervalMs: 3_600_000 } },
});
await stack.start();
const counter = new RequestCounter();
const { region, tableName, queueUrls, endpoints, scheduleGroup, schedulerRoleArn } = stack.local;
const mover = createApp({
  logger: { info() {}, warn() {}, error() {} },
  backgroundJobs: {
    aws: {
      region,
      tableName,
      queueUrls,
      endpoints,
      scheduleGroup,
      schedulerRoleArn,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      requestCounter: counter,
    },
  },
});
await mover.start();
const docs = documents(DOCS);
const binary = process.env.BENCH_MONGO === "mock" ? undefined : jongodbBinary();
const source = binary ? await wireSource(binary, docs) : await mockSource(docs);
try {
  for (const run of ["dry run", "move", "second run"] as const) {
    counter.reset();
    const started = performance.now();
    const report = await migrateJobs(mover.jobDeps, source.db, { dryRun: run === "dry run" });
    const ms = performance.now() - started;
    const { warnings, notes, ...counts } = report;
    console.log(
      JSON.stringify({
        bench: "migrate from MongoDB",
        run,
        documents: DOCS,
        mongo: source.kind,
        ms: Math.round(ms),
        docsPerSecond: Math.round((DOCS / ms) * 1000),
        requests: counter.total(),
        byOperation: counter.snapshot(),
        report: { ...counts, warnings: warnings.length, notes: notes.length },
      }),
    );
  }
} finally {
  await source.stop();
  await mover.stop();
  await stack.stop();
}
