import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../lib/cli/main.ts";
import type { Io } from "../../lib/cli/output.ts";
import type { App } from "../../lib/index.ts";
import { stackOutputNames } from "../../lib/names.ts";
import { connect } from "../../lib/ops/connect.ts";
import { LANES } from "../../lib/resources.ts";
import { type Ran, restoreEnvironment, runBgjobs } from "../support/cli.ts";
import {
  onSharedDynamoDb,
  sqsClientFor,
  startLocalApp,
  tempDataDir,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";
import { opsPlugin } from "./support.ts";

/**
 * `bgjobs` against `npm start`'s local stack (found through <dataDir>/stack.json), against the
 * `JOBS_*` environment and `--stack NAME` (CloudFormation outputs from a stand-in
 * DescribeStacks server, the rest through the same SDK clients pointed at the local servers).
 */
let app: App;
let data: Awaited<ReturnType<typeof tempDataDir>>;
beforeAll(async () => {
  data = await tempDataDir();
  // The data folder is where bgjobs finds the stack (stack.json); the table is on the shared DynamoDB.
  app = await startLocalApp(onSharedDynamoDb({ dataDir: data.dir }), [opsPlugin]);
});
afterAll(async () => {
  await app?.stop();
  await data?.remove();
});

/** `bgjobs argv` in process, on this file's data folder unless `env` says otherwise. */
function bgjobs(argv: string[], options: Parameters<typeof runBgjobs>[1] = {}): Promise<Ran> {
  return runBgjobs(argv, { env: { JOBS_DATA_DIR: data.dir }, ...options });
}

async function failed(count: number, shopId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const job = await app.context.backgroundJobs.scheduleJob({
      type: "ops/flaky",
      data: { failures: 1, error: `boom ${i}`, shopId },
      retry: { retries: 0 },
    });
    ids.push(job._id);
  }
  for (const id of ids) await waitForStatus(app, id, "failed");
  return ids;
}

describe("bgjobs on the local stack (stack.json)", () => {
  it("finds npm start's stack through <dataDir>/stack.json, which only its owner may read", () => {
    const file = join(data.dir, "stack.json");
    expect(existsSync(file)).toBe(true);
    const info = JSON.parse(readFileSync(file, "utf8"));
    expect(info).toMatchObject({ pid: process.pid, tableName: app.local.tableName });
    expect(info.endpoints).toEqual(app.local.endpoints);
  });

  it("lists as a table on a terminal (colour unless NO_COLOR), TSV elsewhere, JSON with --json/--jsonl", async () => {
    const ids = await failed(3, "cli-list");
    const tsv = await bgjobs(["jobs", "list", "--tenant", "cli-list", "--status", "failed"]);
    expect(tsv.code).toBe(0);
    const lines = tsv.stdout.trim().split("\n");
    expect(lines[0]).toBe("ID\tTYPE\tSTATUS\tLANE\tTENANT\tCREATED\tATTEMPTS\tLAST ERROR");
    expect(
      lines
        .slice(1)
        .map((line) => line.split("\t")[0])
        .sort(),
    ).toEqual([...ids].sort());
    expect(tsv.stdout).not.toContain("\u001b[");
    expect(tsv.stderr).toMatch(/^3 jobs \(read \d+\)/);

    const tty = await bgjobs(["jobs", "list", "--tenant", "cli-list"], { tty: true });
    expect(tty.stdout).toContain("\u001b[31m"); // failed, in red
    expect(tty.stdout).not.toContain("\t");
    const plain = await bgjobs(["jobs", "list", "--tenant", "cli-list"], {
      tty: true,
      env: { JOBS_DATA_DIR: data.dir, NO_COLOR: "1" },
    });
    expect(plain.stdout).not.toContain("\u001b[");
    const noColor = await bgjobs(["jobs", "list", "--tenant", "cli-list", "--no-color"], {
      tty: true,
    });
    expect(noColor.stdout).not.toContain("\u001b[");

    const json = JSON.parse(
      (await bgjobs(["jobs", "list", "--tenant", "cli-list", "--json"])).stdout,
    );
    expect(json.jobs.map((j: { id: string }) => j.id).sort()).toEqual([...ids].sort());
    const jsonl = (
      await bgjobs(["jobs", "list", "--tenant", "cli-list", "--jsonl", "--all"])
    ).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(jsonl.map((j) => j.id).sort()).toEqual([...ids].sort());
    expect(jsonl[0]).toMatchObject({
      type: "ops/flaky",
      status: "failed",
      lastError: expect.any(String),
    });
  });

  it("retries in bulk only when confirmed: --dry-run and a refusal change nothing; --yes reports", async () => {
    const ids = await failed(4, "cli-bulk");
    const filter = ["--all-matching", "--tenant", "cli-bulk", "--status", "failed"];
    const refused = await bgjobs(["jobs", "retry", ...filter]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("4 jobs match; retry would change 4");
    expect(refused.stderr).toContain("pass --yes");
    const dry = await bgjobs(["jobs", "retry", ...filter, "--dry-run", "--json"]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, matched: 4, changed: 4 });
    for (const id of ids)
      expect((await app.context.backgroundJobs.getJob(id))?._doc.status).toBe("failed");

    const done = await bgjobs(["jobs", "retry", ...filter, "--yes", "--json", "--actor", "ada"]);
    expect(done.code).toBe(0);
    const report = JSON.parse(done.stdout); // stdout holds the report only
    expect(report).toMatchObject({ action: "retry", matched: 4, changed: 4, failed: 0 });
    for (const id of ids) await waitForStatus(app, id, "completed");
    const detail = JSON.parse((await bgjobs(["jobs", "get", ids[0] as string, "--json"])).stdout);
    expect(detail.audit).toEqual([expect.objectContaining({ actor: "ada", action: "retry" })]);
    expect(detail.attemptHistory.map((a: { outcome: string }) => a.outcome)).toEqual([
      "failed",
      "completed",
    ]);
  });

  it("exits 3 for an unknown job, 2 for bad usage or input, 130 when interrupted, 4 when a bulk action partly failed", async () => {
    expect((await bgjobs(["jobs", "get", "NoSuchJob"])).code).toBe(3);
    expect((await bgjobs(["jobs", "retry", "NoSuchJob"])).code).toBe(3);
    expect((await bgjobs(["schedules", "pause", "NoSuchJob"])).code).toBe(3);
    const usage = await bgjobs(["jobs", "list", "--frobnicate"]);
    expect(usage).toMatchObject({
      code: 2,
      stderr: "bgjobs: unknown option --frobnicate (see --help)\n",
    });
    expect((await bgjobs(["jobs", "list", "--status", "doing"])).stderr).toContain(
      'bad input: statuses: "doing" is not a status',
    );
    expect((await bgjobs(["jobs", "retry"])).code).toBe(2);
    expect((await bgjobs(["nothing"])).code).toBe(2);
    expect((await bgjobs([])).code).toBe(2);

    await failed(2, "cli-stop");
    const abort = new AbortController();
    abort.abort();
    const interrupted = await bgjobs(
      ["jobs", "delete", "--all-matching", "--tenant", "cli-stop", "--yes", "--json"],
      { signal: abort.signal },
    );
    expect(interrupted.code).toBe(130);
    expect(JSON.parse(interrupted.stdout)).toMatchObject({ interrupted: true, changed: 0 });

    const real = connect(JSON.parse(readFileSync(join(data.dir, "stack.json"), "utf8")));
    try {
      const act = real.ops.act;
      real.ops.act = async (request, options) => {
        const report = await act(request, options);
        return { ...report, failed: 1, failures: [{ id: "x", error: "throttled" }] };
      };
      const partial = await bgjobs(
        ["jobs", "retry", "--all-matching", "--tenant", "cli-stop", "--yes"],
        {
          main: { connect: async () => real },
        },
      );
      expect(partial.code).toBe(4);
      expect(partial.stdout).toContain("failed x: throttled");
    } finally {
      real.close();
    }
  });

  it("shows schedules with their next fire times, lanes, dead letters, and passes doctor", async () => {
    const template = await app.context.backgroundJobs.scheduleJob({
      type: "ops/quick",
      data: {},
      schedule: "every 24 hours",
    });
    const schedules = await bgjobs(["schedules", "list", "--jsonl"]);
    const line = schedules.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((s) => s.id === template._id);
    expect(line).toMatchObject({ eventBridge: "cron(0 0 * * ? *)", text: "every 24 hours" });
    const next = await bgjobs(["schedules", "next", "every", "90", "minutes"]);
    expect(next.stdout).toContain("warning:");
    expect(next.stdout).toContain("EventBridge: cron(0 * * * ? *)");
    expect((await bgjobs(["schedules", "pause", template._id])).stdout).toContain(
      "waiting -> paused",
    );
    expect((await bgjobs(["schedules", "resume", template._id])).stdout).toContain(
      "paused -> waiting",
    );
    const lanes = JSON.parse((await bgjobs(["lanes", "stats", "--json"])).stdout);
    expect(lanes.lanes.map((l: { lane: string }) => l.lane)).toEqual([...LANES]);
    expect((await bgjobs(["dlq", "list"])).stdout.trim()).toBe(
      "LANE\tMESSAGE\tJOB\tTYPE\tJOB STATUS\tRECEIVES\tREDRIVE",
    );
    const doctor = await bgjobs(["doctor"]);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/ok\s+\tindex byType\tqueried/);
    expect(doctor.stdout).not.toContain("FAIL");
  });

  it("lists a schedule later.js found no occurrence in as refused, doctor warns of it, and a valid one replaces it", async () => {
    const refusal = { type: "ops/refused", data: { shopId: "r1" } };
    const job = await app.context.backgroundJobs.scheduleJob({ ...refusal, schedule: "foo bar" });
    expect(job._id).toBeUndefined();
    const list = await bgjobs(["schedules", "list"]);
    expect(list.stdout).toMatch(/^-\tops\/refused \(r1\)\trefused\tfoo bar\t-\t\t1x, last /m);
    expect(list.stderr).toContain("1 schedule(s) refused");
    const doctor = await bgjobs(["doctor"]);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/warn\s*\trefused schedules\t1 repeating job\(s\) never saved/);
    expect(doctor.stdout).toContain('ops/refused (shop r1): "foo bar" x1');

    await app.context.backgroundJobs.scheduleJob({ ...refusal, schedule: "every 24 hours" });
    expect((await bgjobs(["schedules", "list"])).stdout).not.toContain("\trefused\t");
  });

  it("doctor exits 1 on a problem (a dead letter), and dlq redrive clears it", async () => {
    const sqs = sqsClientFor(app);
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: app.local.deadLetterQueueUrls.normal,
          MessageBody: "poison",
        }),
      );
    } finally {
      sqs.destroy();
    }
    const sick = await bgjobs(["doctor"]);
    expect(sick.code).toBe(1);
    expect(sick.stdout).toMatch(/FAIL\tworkers\tdead letters: normal 1 \(bgjobs dlq list\)/);
    const listed = await bgjobs(["dlq", "list", "--jsonl"]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ body: "poison", redrive: "drop" });
    expect((await bgjobs(["dlq", "redrive"])).code).toBe(2);
    const redriven = await bgjobs(["dlq", "redrive", "--yes", "--json"]);
    expect(JSON.parse(redriven.stdout)).toMatchObject({
      redriven: [],
      dropped: [expect.objectContaining({ reason: "not a job message" })],
    });
    expect((await bgjobs(["doctor"])).code).toBe(0);
  });

  it("prints a job's log", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({ type: "ops/logger", data: {} });
    await waitForStatus(app, job._id, "completed");
    const logs = await bgjobs(["jobs", "logs", job._id]);
    expect(logs.code).toBe(0);
    const rows = logs.stdout
      .trim()
      .split("\n")
      .map((line) => line.split("\t"));
    expect(rows[0]).toEqual(["TIME", "LEVEL", "RUN", "MESSAGE"]);
    expect(rows.slice(1).map((row) => [row[1], row[3]])).toEqual([
      ["info", "fetched 3 orders"],
      ["warning", "mailer slow"],
    ]);
    expect((await bgjobs(["jobs", "logs", "NoSuchJob"])).code).toBe(3);
  });

  it("watches jobs change, one JSON line each, until --for ends", async () => {
    const watching = bgjobs([
      "jobs",
      "watch",
      "--type",
      "ops/quick",
      "--interval",
      "100ms",
      "--for",
      "5s",
      "--jsonl",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const job = await app.context.backgroundJobs.scheduleJob({
      type: "ops/quick",
      data: { watched: true },
    });
    const { code, stdout } = await watching;
    expect(code).toBe(0);
    const events = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.id === job._id);
    expect(events.at(-1)?.status).toBe("completed");
  });
});

describe("where bgjobs connects", () => {
  it("says what to do when there is no stack, and refuses a stack.json whose process is gone", async () => {
    const none = await bgjobs(["jobs", "list"], {
      env: { JOBS_DATA_DIR: join(data.dir, "nowhere") },
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /no stack to connect to: no .*nowhere\/stack.json \(is npm start running\?/,
    );
    const stale = await tempDataDir();
    try {
      writeFileSync(
        join(stale.dir, "stack.json"),
        JSON.stringify({ pid: 2 ** 22 + 12345, tableName: "t" }),
      );
      const gone = await bgjobs(["doctor"], { env: { JOBS_DATA_DIR: stale.dir } });
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain("which is gone: start the local stack again");
    } finally {
      await stale.remove();
    }
  });

  it("finds the local stack through JOBS_DATA_DIR, or DATA_DIR (its older name), as npm start and the Reaction plugin write it", async () => {
    const nowhere = join(data.dir, "nowhere");
    for (const env of [
      { JOBS_DATA_DIR: data.dir },
      { DATA_DIR: data.dir },
      { JOBS_DATA_DIR: data.dir, DATA_DIR: nowhere },
    ]) {
      const found = await bgjobs(["jobs", "list", "--tenant", "cli-data-dir"], { env });
      expect({ env, code: found.code, stderr: found.stderr }).toMatchObject({ code: 0 });
    }
    // JOBS_DATA_DIR, when set, is the one read.
    const moved = await bgjobs(["jobs", "list"], {
      env: { JOBS_DATA_DIR: nowhere, DATA_DIR: data.dir },
    });
    expect(moved.code).toBe(1);
    expect(moved.stderr).toMatch(/no .*nowhere\/stack.json \(is npm start running\? JOBS_DATA_DIR/);
  });

  it("reaches a deployment through the JOBS_* environment and through --stack NAME's outputs", async () => {
    const [id] = await failed(1, "cli-aws");
    const local = app.local;
    const { scheduleGroup, schedulerRoleArn } = app.localScheduling;
    // The AWS path: default credentials and endpoints from the environment, as in a shell on AWS.
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "AKIDLOCAL",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_DYNAMODB: local.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: local.endpoints.sqs,
      AWS_ENDPOINT_URL_SCHEDULER: local.endpoints.scheduler,
    });
    const requests: Array<{ body: string; authorization: string }> = [];
    const outputs: Record<string, string> = {
      [stackOutputNames.tableName]: local.tableName,
      [stackOutputNames.scheduleGroup]: scheduleGroup,
      [stackOutputNames.schedulerRoleArn]: schedulerRoleArn,
    };
    for (const lane of LANES) {
      outputs[stackOutputNames.queueUrl(lane)] = local.queueUrls[lane];
      outputs[stackOutputNames.deadLetterQueueUrl(lane)] = local.deadLetterQueueUrls[lane];
    }
    const cloudFormation = await describeStacksServer(outputs, requests);
    try {
      const env: NodeJS.ProcessEnv = {
        JOBS_TABLE_NAME: local.tableName,
        JOBS_SCHEDULE_GROUP: scheduleGroup,
        JOBS_SCHEDULER_ROLE_ARN: schedulerRoleArn,
        AWS_REGION: "us-east-1",
      };
      for (const lane of LANES) {
        env[`JOBS_QUEUE_URL_${lane.toUpperCase()}`] = local.queueUrls[lane];
        env[`JOBS_DLQ_URL_${lane.toUpperCase()}`] = local.deadLetterQueueUrls[lane];
      }
      const viaEnv = await bgjobs(["jobs", "get", id as string, "--json"], { env });
      expect(viaEnv.code).toBe(0);
      expect(JSON.parse(viaEnv.stdout)).toMatchObject({ id, status: "failed" });
      expect((await bgjobs(["doctor"], { env })).code).toBe(0);

      process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cloudFormation.url;
      const viaStack = await bgjobs(
        [
          "jobs",
          "list",
          "--tenant",
          "cli-aws",
          "--json",
          "--stack",
          "Shop",
          "--region",
          "eu-west-1",
        ],
        { env: {} },
      );
      expect(viaStack.code).toBe(0);
      expect(JSON.parse(viaStack.stdout).jobs.map((j: { id: string }) => j.id)).toEqual([id]);
      expect(requests[0]?.body).toBe("Action=DescribeStacks&StackName=Shop&Version=2010-05-15");
      expect(requests[0]?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDLOCAL\/\d{8}\/eu-west-1\/cloudformation\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
      const missing = await bgjobs(["jobs", "list", "--stack", "Other", "--region", "eu-west-1"], {
        env: {},
      });

      // --profile: the SDK's shared credentials, not the environment's keys.
      const profileDir = await tempDataDir();
      try {
        const credentials = join(profileDir.dir, "credentials");
        writeFileSync(
          credentials,
          "[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n",
        );
        delete process.env.AWS_ACCESS_KEY_ID;
        delete process.env.AWS_SECRET_ACCESS_KEY;
        process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
        process.env.AWS_CONFIG_FILE = join(profileDir.dir, "config");
        const viaProfile = await bgjobs(
          ["jobs", "list", "--stack", "Shop", "--region", "eu-west-1", "--profile", "ops"],
          { env: {} },
        );
        expect(viaProfile.code).toBe(0);
        expect(requests.at(-1)?.authorization).toContain("Credential=AKIDPROFILE/");
      } finally {
        await profileDir.remove();
      }

      // The dashboard over the same deployment: `bgjobs dashboard --stack Shop`.
      const stop = new AbortController();
      let printed = "";
      const io: Io = {
        stdout: { write: (text: string) => (printed += text) },
        stderr: { write: () => true },
        stdin: Readable.from([]) as unknown as Io["stdin"],
        env: {},
      };
      const serving = main(
        ["dashboard", "--stack", "Shop", "--region", "eu-west-1", "--read-only"],
        io,
        stop.signal,
      );
      try {
        await waitUntil(() => /http:\/\/\S+/.test(printed), 10_000, "the dashboard URL");
        const url = (/http:\/\/\S+/.exec(printed) as RegExpExecArray)[0];
        const login = await fetch(url, { redirect: "manual" });
        const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
        const page = await fetch(new URL("/api/jobs?tenant=cli-aws", url), { headers: { cookie } });
        const listed = (await page.json()) as { jobs: Array<{ id: string }> };
        expect(listed.jobs.map((j) => j.id)).toEqual([id]);
        const config = await fetch(new URL("/api/config", url), { headers: { cookie } });
        expect(await config.json()).toMatchObject({ title: "Shop", readOnly: true });
      } finally {
        stop.abort();
        expect(await serving).toBe(0);
      }
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("ValidationError: Stack with id Other does not exist");
    } finally {
      restoreEnvironment(saved);
      await new Promise((resolve) => cloudFormation.server.close(resolve));
    }
  });

  it("runs as the package bin: bgjobs --version, and exit 3 from a real process", async () => {
    const run = promisify(execFile);
    const bin = join(import.meta.dirname, "../../bin/bgjobs.js");
    const version = await run(bin, ["--version"]);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
    const missing = await run(bin, ["jobs", "get", "NoSuchJob"], {
      env: { ...process.env, DATA_DIR: data.dir },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 3, stderr: "bgjobs: no job NoSuchJob\n" });
  });
});

/** A stand-in for CloudFormation's DescribeStacks (Query API, XML), recording each request. */
async function describeStacksServer(
  outputs: Record<string, string>,
  requests: Array<{ body: string; authorization: string }>,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      requests.push({ body, authorization: req.headers.authorization ?? "" });
      const name = new URLSearchParams(body).get("StackName");
      res.setHeader("content-type", "text/xml");
      if (name !== "Shop") {
        res.statusCode = 400;
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error></ErrorResponse>`,
        );
        return;
      }
      const members = Object.entries(outputs)
        .map(
          ([k, v]) =>
            `<member><OutputKey>${k}</OutputKey><OutputValue>${v.replace(/&/g, "&amp;")}</OutputValue></member>`,
        )
        .join("");
      res.end(
        `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>Shop</StackName><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
