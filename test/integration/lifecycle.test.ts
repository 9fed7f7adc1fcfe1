import { describe, expect, it } from "vitest";
import type { Job } from "../../lib/index.ts";
import { deferred, sleep, useLocalApp, waitForStatus } from "../support/local-app.ts";

const stack = useLocalApp({ reconcileIntervalMs: 500 });

describe("a job's life on the local stack", () => {
  it("runs a job once, completes it, and keeps Reaction's document fields", async () => {
    const { backgroundJobs } = stack.app.context;
    const seen: Array<{ id: string; data: unknown; status: string; runId: string | null }> = [];
    await backgroundJobs.addWorker({
      type: "life/ok",
      async worker(job) {
        seen.push({
          id: job._doc._id,
          data: job.data,
          status: job._doc.status,
          runId: job._doc.runId,
        });
        await job.done("Done message");
      },
    });
    const job = await backgroundJobs.scheduleJob({ type: "life/ok", data: { shopId: "s1", n: 1 } });
    expect(job._doc._id).toMatch(/^[23456789A-Za-z]{17}$/);
    expect(job.type).toBe("life/ok");
    const doc = await waitForStatus(stack.app, job._doc._id, "completed");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id: job._doc._id,
      data: { shopId: "s1", n: 1 },
      status: "running",
    });
    expect(seen[0]?.runId).toMatch(/^[23456789A-Za-z]{17}$/);
    expect(doc).toMatchObject({
      type: "life/ok",
      data: { shopId: "s1", n: 1 },
      status: "completed",
      priority: 0,
      retries: 0,
      retried: 1,
      retryWait: 300000,
      retryBackoff: "constant",
      result: { value: "Done message" },
      progress: { completed: 1, total: 1, percent: 100 },
      failures: [],
      repeated: 0,
    });
    expect(doc.created).toBeInstanceOf(Date);
    expect(doc.updated.getTime()).toBeGreaterThanOrEqual(doc.created.getTime());
  });

  it("getJob returns null for an unknown id", async () => {
    expect(await stack.app.context.backgroundJobs.getJob("noSuchJob12345678")).toBeNull();
  });

  it("turns a throw into fail(message)", async () => {
    const { backgroundJobs } = stack.app.context;
    await backgroundJobs.addWorker({
      type: "life/throws",
      async worker() {
        throw new Error("disk full");
      },
    });
    const job = await backgroundJobs.scheduleJob({ type: "life/throws", data: {} });
    const doc = await waitForStatus(stack.app, job._id, "failed");
    expect(doc.failures).toEqual([{ value: "disk full", runId: expect.any(String) }]);
  });

  it("ends a retrying job at once on fail(err, { fatal: true })", async () => {
    const { backgroundJobs } = stack.app.context;
    let runs = 0;
    await backgroundJobs.addWorker({
      type: "life/fatal",
      async worker(job) {
        runs += 1;
        await job.fail("missing field", { fatal: true });
      },
    });
    const job = await backgroundJobs.scheduleJob({
      type: "life/fatal",
      data: {},
      retry: { retries: 5, wait: 0 },
    });
    const doc = await waitForStatus(stack.app, job._id, "failed");
    await sleep(1500);
    expect(runs).toBe(1);
    expect(doc.retries).toBe(5);
    expect(doc.failures).toHaveLength(1);
  });

  it("waits for a done() that comes after the worker returned (the email plugin's way)", async () => {
    const { backgroundJobs } = stack.app.context;
    const returned = deferred<Job>();
    await backgroundJobs.addWorker({
      type: "life/deferred",
      async worker(job) {
        returned.resolve(job);
      },
    });
    const scheduled = await backgroundJobs.scheduleJob({ type: "life/deferred", data: {} });
    const job = await returned.promise;
    await sleep(700);
    expect((await backgroundJobs.getJob(scheduled._id))?._doc.status).toBe("running");
    expect(await job.done({ sent: true })).toBe(true);
    const doc = await waitForStatus(stack.app, scheduled._id, "completed");
    expect(doc.result).toEqual({ sent: true });
  });

  it("fails a run that never settles within workTimeout, then retries it", async () => {
    const { backgroundJobs } = stack.app.context;
    let attempts = 0;
    await backgroundJobs.addWorker({
      type: "life/timeout",
      workTimeout: 500,
      async worker(job) {
        attempts += 1;
        if (attempts > 1) await job.done();
        // the first attempt returns without done or fail
      },
    });
    const job = await backgroundJobs.scheduleJob({
      type: "life/timeout",
      data: {},
      retry: { retries: 1, wait: 0 },
    });
    const doc = await waitForStatus(stack.app, job._id, "completed");
    expect(attempts).toBe(2);
    expect(doc.failures).toEqual([
      { value: "Failed for exceeding worker set workTimeout", runId: expect.any(String) },
    ]);
  });

  it("keeps a heartbeating run alive past workTimeout", async () => {
    const { backgroundJobs } = stack.app.context;
    let attempts = 0;
    await backgroundJobs.addWorker({
      type: "life/heartbeat",
      // 5 steps of 300 ms outlast it; each step's writes renew the lease (slack for a busy machine).
      workTimeout: 1000,
      async worker(job) {
        attempts += 1;
        for (let i = 1; i <= 5; i += 1) {
          await sleep(300);
          await job.progress(i, 5);
          await job.log(`step ${i}`);
        }
        await job.done();
      },
    });
    const job = await backgroundJobs.scheduleJob({
      type: "life/heartbeat",
      data: {},
      retry: { retries: 3, wait: 0 },
    });
    const doc = await waitForStatus(stack.app, job._id, "completed");
    expect(attempts).toBe(1);
    expect(doc.failures).toEqual([]);
  });

  it("fails a job whose type has no worker, naming the type", async () => {
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "life/nobody-home",
      data: {},
    });
    const doc = await waitForStatus(stack.app, job._id, "failed");
    expect(doc.failures[0]?.value).toBe('No worker registered for job type "life/nobody-home"');
  });

  it("fences a stale worker: done() after the job was cancelled resolves false and changes nothing", async () => {
    const { backgroundJobs } = stack.app.context;
    const started = deferred<Job>();
    await backgroundJobs.addWorker({
      type: "life/fenced",
      async worker(job) {
        started.resolve(job);
      },
    });
    const scheduled = await backgroundJobs.scheduleJob({ type: "life/fenced", data: { k: 1 } });
    const job = await started.promise;
    await backgroundJobs.cancelJobs({ type: "life/fenced", data: { k: 1 } });
    expect(await job.done("too late")).toBe(false);
    expect(await job.fail("also too late")).toBe(false);
    const doc = await waitForStatus(stack.app, scheduled._id, "cancelled");
    expect(doc.result).toBeUndefined();
    expect(doc.failures).toEqual([]);
  });
});
