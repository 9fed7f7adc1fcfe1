import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { Job } from "../../lib/index.ts";
import {
  deferred,
  queueDepth,
  sleep,
  startLocalApp,
  useLocalApp,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

const stack = useLocalApp({ reconcileIntervalMs: 200, visibilityTimeoutSeconds: 2 });

describe("at-least-once delivery, exactly-once effects", () => {
  it("the same message delivered many times at once, and again after completion, runs the job once", async () => {
    const runs: string[] = [];
    await stack.app.context.backgroundJobs.addWorker({
      type: "dup/work",
      concurrency: 10,
      async worker(job) {
        runs.push(job._id);
        await sleep(200);
        await job.done();
      },
    });
    const job = await stack.app.context.backgroundJobs.scheduleJob({ type: "dup/work", data: {} });
    const body = JSON.stringify({ id: job._id, type: "dup/work" });
    await Promise.all(
      Array.from({ length: 5 }, () =>
        stack.sqs.send(
          new SendMessageCommand({ QueueUrl: stack.app.local.queueUrls.normal, MessageBody: body }),
        ),
      ),
    );
    await waitForStatus(stack.app, job._id, "completed");
    for (let i = 0; i < 3; i += 1) {
      await stack.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.app.local.queueUrls.normal, MessageBody: body }),
      );
    }
    // Until the poller took all three and the dispatcher acknowledged (deleted) them.
    await waitUntil(
      async () => {
        const depth = await queueDepth(stack.sqs, stack.app.local.queueUrls.normal);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      20_000,
      "the duplicates handled",
    );
    expect(runs).toEqual([job._id]);
    expect((await stack.app.context.backgroundJobs.getJob(job._id))?._doc.retried).toBe(1);
  });

  it("a job running longer than the visibility timeout, heartbeating, keeps its lease and runs once", async () => {
    const runs: string[] = [];
    await stack.app.context.backgroundJobs.addWorker({
      type: "dup/long",
      workTimeout: 1500,
      async worker(job) {
        runs.push(job._id);
        // 4.2 s in all: twice the 2 s visibility timeout, nearly 3 times workTimeout; each
        // heartbeat comes 300 ms after the last, so a slow write (a loaded machine) still
        // lands well inside the 1.5 s lease.
        for (let step = 1; step <= 14; step += 1) {
          await sleep(300);
          await job.progress(step, 14);
        }
        await job.done();
      },
    });
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "dup/long",
      data: {},
      retry: { retries: 3, wait: 0 },
    });
    const doc = await waitForStatus(stack.app, job._id, "completed", 20_000);
    expect(runs).toEqual([job._id]);
    expect(doc.retried).toBe(1);
    expect(doc.failures).toEqual([]);
  });

  it("a stale worker's done() after another run took over resolves false and changes nothing", async () => {
    const firstRun = deferred<Job>();
    const never = new Promise<void>(() => {});
    let attempts = 0;
    await stack.app.context.backgroundJobs.addWorker({
      type: "dup/stale",
      workTimeout: 500,
      async worker(job) {
        attempts += 1;
        if (attempts === 1) {
          firstRun.resolve(job);
          await never; // hangs: its lease runs out and the job is retried
        }
        await job.done("second run");
      },
    });
    const scheduled = await stack.app.context.backgroundJobs.scheduleJob({
      type: "dup/stale",
      data: {},
      retry: { retries: 2, wait: 0 },
    });
    const stale = await firstRun.promise;
    const doc = await waitForStatus(stack.app, scheduled._id, "completed");
    expect(await stale.done("first run, late")).toBe(false);
    expect(await stale.fail("first run, late")).toBe(false);
    const after = await stack.app.context.backgroundJobs.getJob(scheduled._id);
    expect(after?._doc.result).toEqual({ value: "second run" });
    expect(after?._doc.updated).toEqual(doc.updated);
  });

  it("DynamoDB throttling and SQS 5xx errors are retried: every job runs exactly once", {
    timeout: 120_000,
  }, async () => {
    let calls = 0;
    let injected = 0;
    // Every third request fails once; its retry goes through (the SDK tries 3 times in all).
    const failedOnce = new WeakSet<object>();
    let retriesSeen = 0;
    let injecting = true;
    const faulty = await startLocalApp({
      // A delivery whose handling met an injected fault comes back after 1 s, not the default 10.
      redeliveryDelaySeconds: 1,
      injectFault: (operation, input) => {
        calls += 1;
        if (failedOnce.has(input)) {
          retriesSeen += 1; // the SDK sent the same request again
          return undefined;
        }
        if (!injecting || calls % 3 !== 0) return undefined;
        failedOnce.add(input);
        injected += 1;
        return operation.startsWith("DynamoDB")
          ? Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
              name: "ThrottlingException",
              $metadata: { httpStatusCode: 400 },
            })
          : Object.assign(new Error("We encountered an internal error."), {
              name: "InternalError",
              $metadata: { httpStatusCode: 500 },
            });
      },
    });
    try {
      const runs = new Map<string, number>();
      await faulty.context.backgroundJobs.addWorker({
        type: "faulty/work",
        async worker(job) {
          runs.set(job._id, (runs.get(job._id) ?? 0) + 1);
          await job.done();
        },
      });
      const ids: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        ids.push(
          (await faulty.context.backgroundJobs.scheduleJob({ type: "faulty/work", data: { i } }))
            ._id,
        );
      }
      await waitUntil(async () => runs.size === ids.length, 60_000, "every job to run");
      for (const id of ids) await waitForStatus(faulty, id, "completed", 60_000);
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect(injected).toBeGreaterThan(20);
      // Every injected failure was retried by the SDK (a request whose input was failed once
      // and later sent again). Injecting stops; the last retries are still on their way (the
      // poller, the front and the reconciler keep requests in flight), so wait for them.
      injecting = false;
      await waitUntil(() => retriesSeen >= injected, 20_000, "every failed request's retry");
      expect(retriesSeen).toBeGreaterThanOrEqual(injected);
    } finally {
      await faulty.stop();
    }
  });
});
