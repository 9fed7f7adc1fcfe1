import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../lib/index.ts";
import type { MigrationReport } from "../../lib/migrate/index.ts";
import { runBgjobs } from "../support/cli.ts";
import { jongodbBinary, startJongodb } from "../support/jongodb.ts";
import { onSharedDynamoDb, startLocalApp, tempDataDir } from "../support/local-app.ts";

/**
 * `bgjobs migrate-from-mongo` against a MongoDB wire-protocol server through the real `mongodb`
 * driver (3.6, as Reaction's api-core brings it). No MongoDB server may be downloaded here:
 * the server is jongodb, an in-memory MongoDB-compatible server shipped as a native binary in
 * an npm package (linux x64); elsewhere the tests that need it are skipped and say why.
 */
const JONGODB = jongodbBinary();

/** The part of the mongodb driver (3.6, untyped here) the fixture writes with. */
interface MongoDriver {
  MongoClient: {
    connect(
      url: string,
      options: object,
    ): Promise<{
      db(name: string): {
        collection(name: string): { insertMany(docs: object[]): Promise<unknown> };
      };
      close(): Promise<void>;
    }>;
  };
}

let app: App;
let data: Awaited<ReturnType<typeof tempDataDir>>;
beforeAll(async () => {
  data = await tempDataDir();
  // bgjobs finds the stack through <dataDir>/stack.json, as it finds npm start's.
  app = await startLocalApp(onSharedDynamoDb({ dataDir: data.dir }));
});
afterAll(async () => {
  await app?.stop();
  await data?.remove();
});

function bgjobs(argv: string[], tty = false, signal = new AbortController().signal) {
  return runBgjobs(argv, { env: { JOBS_DATA_DIR: data.dir }, tty, signal });
}

/** A port nothing listens on: the OS gave it, and it was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("bgjobs migrate-from-mongo: arguments and errors", () => {
  it("needs --mongo-url (usage, exit 2)", async () => {
    const ran = await bgjobs(["migrate-from-mongo", "--dry-run"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/needs --mongo-url/);
  });

  it("refuses a URL that is not mongodb:// naming it (usage, exit 2)", async () => {
    const ran = await bgjobs(["migrate-from-mongo", "--mongo-url", "http://127.0.0.1/shop"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(
      /--mongo-url must start with mongodb:\/\/.*"http:\/\/127\.0\.0\.1\/shop"/,
    );
  });

  it("says which MongoDB it could not reach and why (exit 1), the password left out", async () => {
    const port = await closedPort();
    const url = `mongodb://admin:s3cret@127.0.0.1:${port}/shop`;
    const ran = await bgjobs([
      "migrate-from-mongo",
      "--mongo-url",
      url,
      "--connect-timeout",
      "300ms",
    ]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      `cannot reach MongoDB at mongodb://admin:***@127.0.0.1:${port}/shop`,
    );
    expect(ran.stderr).toContain("ECONNREFUSED");
    expect(ran.stderr).not.toContain("s3cret");
  });
});

describe.skipIf(!JONGODB)("bgjobs migrate-from-mongo on a MongoDB wire server (jongodb)", () => {
  let mongo: Awaited<ReturnType<typeof startJongodb>> | undefined;
  let url: string;
  const now = Date.now();
  beforeAll(async () => {
    mongo = await startJongodb(JONGODB as string);
    url = `${mongo.url}/shop`;
    const { MongoClient } = require("mongodb") as MongoDriver;
    const client = await MongoClient.connect(url, { useUnifiedTopology: true });
    const job = (id: string, status: string, fields: Record<string, unknown> = {}) => ({
      _id: id,
      type: "cli/mail",
      status,
      data: { shopId: "shopC", to: `${id}@example.com` },
      priority: 0,
      retries: status === "completed" ? 0 : 1,
      retried: status === "completed" ? 1 : 0,
      retryWait: 300_000,
      retryBackoff: "constant",
      repeats: 0,
      repeatWait: 300_000,
      after: new Date(now + 5 * 60_000),
      created: new Date(now - 60_000),
      updated: new Date(now - 60_000),
      log: [],
      failures: [],
      ...fields,
    });
    await client
      .db("shop")
      .collection("Jobs")
      .insertMany([
        ...Array.from({ length: 20 }, (_, i) => job(`cliDone${i}`, "completed", { result: {} })),
        ...Array.from({ length: 4 }, (_, i) => job(`cliWaiting${i}`, "waiting")),
        job("cliRepeat", "waiting", {
          type: "cli/digest",
          repeats: 2 ** 53,
          repeatWait: { schedules: [{ m: [0, 15, 30, 45] }], exceptions: [] },
        }),
        job("cliLost", "lost"),
      ]);
    await client.close();
  });
  afterAll(() => {
    mongo?.stop();
  });

  it("--dry-run --json reports what it would import and writes nothing; exit 4 names the document it cannot import", async () => {
    const ran = await bgjobs(["migrate-from-mongo", "--mongo-url", url, "--dry-run", "--json"]);
    expect(ran.code).toBe(4);
    const report = JSON.parse(ran.stdout) as MigrationReport;
    expect(report).toMatchObject({
      dryRun: true,
      read: 26,
      imported: 25,
      skipped: 0,
      invalid: 1,
      byStatus: { completed: 20, waiting: 5 },
      warnings: [{ id: "cliLost", field: "status" }],
    });
    expect(await app.context.backgroundJobs.getJob("cliDone0")).toBeNull();
  });

  it("Ctrl-C stops it before the next page (exit 130), saying a new run goes on", async () => {
    const abort = new AbortController();
    abort.abort();
    const ran = await bgjobs(["migrate-from-mongo", "--mongo-url", url], false, abort.signal);
    expect(ran.code).toBe(130);
    expect(ran.stdout).toMatch(/0 documents read: imported 0/);
    expect(ran.stdout).toMatch(/interrupted: .* run it again/);
  });

  it("imports with a progress bar on a terminal and prints the report; a second run imports nothing", async () => {
    const ran = await bgjobs(["migrate-from-mongo", "--mongo-url", url, "--db", "shop"], true);
    expect(ran.code).toBe(4);
    expect(ran.stderr).toMatch(/\[#+\] 100% 26\/26 documents of shop\.Jobs/);
    expect(ran.stdout).toMatch(/26 documents read: imported 25, skipped 0/);
    expect(ran.stdout).toMatch(/from MongoDB: completed 20, waiting 5/);
    expect(ran.stdout).toMatch(/1 repeating, armed on EventBridge Scheduler/);
    expect(ran.stdout).toMatch(/warning cliLost: status: must be one of .* got "lost"/);
    expect((await app.context.backgroundJobs.getJob("cliWaiting3"))?._doc).toMatchObject({
      status: "waiting",
      after: new Date(now + 5 * 60_000),
    });
    expect((await app.context.backgroundJobs.getJob("cliRepeat"))?._doc.status).toBe("waiting");

    const again = await bgjobs(["migrate-from-mongo", "--mongo-url", url, "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, skipped: 25, invalid: 1 });
  });
});
