import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { dispatcherHandler } from "../../lambdas/handlers.ts";
import { scheduleJob } from "../../lib/jobs/schedule-job.ts";
import { silentLogger } from "../../lib/log.ts";
import { type Connection, connect, stackInfoOfApp } from "../../lib/ops/connect.ts";
import type { ProbeReport } from "../../lib/ops/probe.ts";
import { PROBE_JOB_TYPE, PROBE_PURGE_AFTER_DAYS } from "../../lib/probe-plugin.ts";
import { JobQueueHost } from "../../lib/reaction/host.ts";
import { LANES } from "../../lib/resources.ts";
import { LOCAL_CREDENTIALS } from "../../lib/stack.ts";
import { restoreEnvironment, runBgjobs } from "../support/cli.ts";
import { useLocalApp } from "../support/local-app.ts";
import { sqsEvent } from "../support/sqs-event.ts";
import { freshStack } from "./fresh-stack.ts";

/**
 * `bgjobs doctor --probe`: a job of the built-in probe type through each lane, timed, then
 * deleted. On a running local stack (its poller and the probe worker every app registers) it
 * completes; on a stack nothing consumes it does not, and doctor exits 5 when its timeout ends.
 */
const local = useLocalApp();

function bgjobs(argv: string[], conn: () => Connection) {
  return runBgjobs(argv, { main: { connect: async () => conn() } });
}

/** Whether any probe job is left on the stack (the probe deletes them). */
async function probeJobsLeft(conn: Connection): Promise<number> {
  return (await conn.ops.listJobs({ type: PROBE_JOB_TYPE }, { limit: 100 })).jobs.length;
}

describe("bgjobs doctor --probe", () => {
  it("on a running stack: each lane's probe completes, timed from scheduling, and is deleted", async () => {
    const conn = connect(stackInfoOfApp(local.app));
    try {
      const ran = await bgjobs(["doctor", "--probe", "--probe-timeout", "20s"], () => conn);
      expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: "" });
      for (const lane of LANES) {
        const row = new RegExp(
          `^ok  \\tprobe ${lane}\\tstarted (\\d+\\.\\d\\d) s after scheduling, completed (\\d+\\.\\d\\d) s after \\(job (\\w+), deleted\\)$`,
          "m",
        ).exec(ran.stdout);
        expect(row, ran.stdout).not.toBeNull();
        const [, started, completed, id] = row as RegExpExecArray;
        expect(Number(completed)).toBeGreaterThanOrEqual(Number(started));
        expect(await conn.ops.getJob(id as string)).toBeNull();
      }
      expect(await probeJobsLeft(conn)).toBe(0);
    } finally {
      conn.close();
    }
  });

  it("on a stack nothing consumes: exit 5 when the timeout ends, saying so, and nothing left behind", async () => {
    const stack = await freshStack(local);
    const conn = connect(stack.info);
    try {
      const ran = await bgjobs(
        ["doctor", "--probe", "--probe-timeout", "300ms", "--json"],
        () => conn,
      );
      expect(ran.code).toBe(5);
      const { checks, probe } = JSON.parse(ran.stdout) as {
        checks: Array<{ level: string }>;
        probe: ProbeReport;
      };
      expect(checks.filter((check) => check.level !== "ok")).toEqual([]); // the checks pass
      expect(probe).toMatchObject({ ok: false, timeoutMs: 300, removed: 3 });
      expect(probe.lanes.map((lane) => [lane.lane, lane.status, lane.startedAfterMs])).toEqual(
        LANES.map((lane) => [lane, "ready", undefined]),
      );
      expect(ran.stderr).toBe(
        "bgjobs: probe not completed within 0.3 s: critical (ready), normal (ready), low (ready): nothing ran them (is the dispatcher's event source mapping enabled, or the local stack's poller running? does the deployment's version register bgjobs/probe?)\n",
      );
      expect(await probeJobsLeft(conn)).toBe(0);
    } finally {
      conn.close();
      await stack.drop();
    }
  });

  it("refuses a --probe-timeout that is not a duration, naming the flag", async () => {
    const ran = await bgjobs(["doctor", "--probe", "--probe-timeout", "soon"], () => {
      throw new Error("not connected for bad input");
    });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("--probe-timeout must be a duration");
  });
});

describe("every function the construct builds runs the probe", () => {
  /** A probe job scheduled on a stack nothing consumes, and its message as SQS holds it. */
  async function probeMessage(conn: Connection, queueUrl: string) {
    const scheduled = await scheduleJob(conn.deps.jobs, { type: PROBE_JOB_TYPE, data: {} });
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(1);
    return { id: scheduled._id, event: sqsEvent([Messages[0]?.Body as string]) };
  }

  it("the plugins' dispatcher (lambdas/handlers.ts), with no plugin of the team's, and its cleanup rule", async () => {
    const stack = await freshStack(local);
    const conn = connect(stack.info);
    const saved = { ...process.env };
    try {
      const { info } = stack;
      Object.assign(process.env, {
        AWS_REGION: info.region,
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_ENDPOINT_URL_DYNAMODB: info.endpoints?.dynamodb,
        AWS_ENDPOINT_URL_SQS: info.endpoints?.sqs,
        AWS_ENDPOINT_URL_SCHEDULER: info.endpoints?.scheduler,
        JOBS_TABLE_NAME: info.tableName,
        JOBS_QUEUE_URL_CRITICAL: info.queueUrls.critical,
        JOBS_QUEUE_URL_NORMAL: info.queueUrls.normal,
        JOBS_QUEUE_URL_LOW: info.queueUrls.low,
      });
      const { id, event } = await probeMessage(conn, info.queueUrls.normal);
      const before = Date.now();
      expect(await dispatcherHandler([])(event)).toEqual({ batchItemFailures: [] });
      const record = await conn.deps.jobs.store.getJob(id);
      expect(record?.status).toBe("completed");
      const purgeAt = (record?.expiresAt ?? 0) * 1000;
      expect(purgeAt - before).toBeGreaterThan(PROBE_PURGE_AFTER_DAYS * 86_400_000 - 60_000);
      expect(purgeAt - before).toBeLessThan(PROBE_PURGE_AFTER_DAYS * 86_400_000 + 60_000);
    } finally {
      restoreEnvironment(saved);
      conn.close();
      await stack.drop();
    }
  });

  it("the Reaction API's dispatcher: the job-queue plugin's host registers it", async () => {
    const stack = await freshStack(local);
    const conn = connect(stack.info);
    const host = new JobQueueHost({
      backgroundJobs: { aws: { ...stack.info, credentials: LOCAL_CREDENTIALS } },
      workersEnabled: true,
      logger: silentLogger,
    });
    try {
      const { id, event } = await probeMessage(conn, stack.info.queueUrls.normal);
      await host.start();
      expect(await (await host.started()).handleSqsEvent(event)).toEqual({ batchItemFailures: [] });
      expect((await conn.deps.jobs.store.getJob(id))?.status).toBe("completed");
    } finally {
      await host.stop();
      conn.close();
      await stack.drop();
    }
  });
});
