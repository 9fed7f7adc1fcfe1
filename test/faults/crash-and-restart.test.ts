import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import type { Job, Plugin, WorkerHandle } from "../../lib/index.ts";
import {
  deferred,
  restartableTable,
  startLocalApp,
  tempDataDir,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

const data = await tempDataDir();
const table = restartableTable();
afterAll(async () => {
  await data.remove();
  await table.drop();
});

describe("processes that die", () => {
  it("a dispatcher killed mid-job (SIGKILL): the lease expires, the job is retried, the attempt counts", {
    timeout: 60_000,
  }, async () => {
    let handle: WorkerHandle | undefined;
    const runs: string[] = [];
    // A pass reads a running job once it is staleAfter (+ half of it) behind the delivery
    // front: 1.5 s here, so a 1 s lease is checked as it ends.
    const app = await startLocalApp(
      { reconcileIntervalMs: 200, reconcile: { staleAfterMs: 1000 } },
      [
        {
          name: "survivor",
          functionsByType: {
            startup: [
              async ({ backgroundJobs }) => {
                handle = await backgroundJobs.addWorker({
                  type: "crash/work",
                  async worker(job) {
                    runs.push(job._id);
                    await job.done("after the crash");
                  },
                });
                handle.pause(); // the child process takes the first run
              },
            ],
          },
        },
      ],
    );
    try {
      const job = await app.context.backgroundJobs.scheduleJob({
        type: "crash/work",
        data: {},
        retry: { retries: 2, wait: 0 },
      });
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "test/support/child-dispatcher.ts", job._id, "crash/work"],
        {
          stdio: ["ignore", "pipe", "inherit"],
          env: {
            ...process.env,
            AWS_REGION: app.local.region,
            AWS_ACCESS_KEY_ID: "local",
            AWS_SECRET_ACCESS_KEY: "local",
            AWS_ENDPOINT_URL_DYNAMODB: app.local.endpoints.dynamodb,
            AWS_ENDPOINT_URL_SQS: app.local.endpoints.sqs,
            JOBS_TABLE_NAME: app.local.tableName,
            JOBS_QUEUE_URL_CRITICAL: app.local.queueUrls.critical,
            JOBS_QUEUE_URL_NORMAL: app.local.queueUrls.normal,
            JOBS_QUEUE_URL_LOW: app.local.queueUrls.low,
          },
        },
      );
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      try {
        await waitUntil(() => output.includes(`started ${job._id}`), 30_000, "the child's run");
        expect((await app.context.backgroundJobs.getJob(job._id))?._doc.status).toBe("running");
      } finally {
        child.kill("SIGKILL");
      }
      const killedAt = Date.now();
      handle?.resume();
      const doc = await waitForStatus(app, job._id, "completed", 20_000);
      process.stdout.write(
        `recovery after SIGKILL: ${Date.now() - killedAt} ms (workTimeout 1000 ms, reconciler every 200 ms)\n`,
      );
      expect(runs).toEqual([job._id]);
      expect(doc.retried).toBe(2);
      expect(doc.failures).toEqual([
        { value: "Failed for exceeding worker set workTimeout", runId: expect.any(String) },
      ]);
    } finally {
      await app.stop();
    }
  });

  it("the local stack stopped with pending, delayed, retry-waiting and running jobs: after a restart each completes exactly once", {
    timeout: 60_000,
  }, async () => {
    const completions = new Map<string, number>();
    const attempts = new Map<string, number>();
    const running = deferred<Job>();
    const plugin = (firstLife: boolean): Plugin => ({
      name: "restartable",
      functionsByType: {
        startup: [
          async ({ backgroundJobs }) => {
            const handle = await backgroundJobs.addWorker({
              type: "restart/work",
              concurrency: 1,
              workTimeout: 1000,
              async worker(job) {
                attempts.set(job._id, (attempts.get(job._id) ?? 0) + 1);
                if (firstLife && job.data.kind === "running") {
                  running.resolve(job);
                  return new Promise(() => {}); // still running when the stack stops
                }
                if (firstLife && job.data.kind === "retry")
                  throw new Error("fails once before the stop");
                await job.done();
                completions.set(job._id, (completions.get(job._id) ?? 0) + 1);
              },
            });
            if (!firstLife) handle.resume();
          },
        ],
      },
    });
    const first = await startLocalApp(table.options({ dataDir: data.dir }), [plugin(true)]);
    const jobs = first.context.backgroundJobs;
    // Fails its first attempt and waits 3 s for the next.
    const retrying = await jobs.scheduleJob({
      type: "restart/work",
      data: { kind: "retry" },
      retry: { retries: 1, wait: 3000 },
    });
    await waitForStatus(first, retrying._id, "waiting");
    const runningJob = await jobs.scheduleJob({
      type: "restart/work",
      data: { kind: "running" },
      retry: { retries: 2, wait: 0 },
    });
    await running.promise;
    // The only slot is taken: this one waits in its lane.
    const pending = await jobs.scheduleJob({ type: "restart/work", data: { kind: "pending" } });
    await first.stop();

    const second = await startLocalApp(
      table.options({ dataDir: data.dir, reconcileIntervalMs: 200 }),
      [plugin(false)],
    );
    try {
      for (const job of [runningJob, pending, retrying])
        await waitForStatus(second, job._id, "completed", 30_000);
      expect(completions.get(runningJob._id)).toBe(1);
      expect(completions.get(pending._id)).toBe(1);
      expect(completions.get(retrying._id)).toBe(1);
      expect((await second.context.backgroundJobs.getJob(runningJob._id))?._doc.retried).toBe(2);
      expect(attempts.get(retrying._id)).toBe(2);
      expect(attempts.get(pending._id)).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
