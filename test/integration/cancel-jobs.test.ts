import { beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../lib/index.ts";
import {
  deferred,
  sleep,
  startLocalApp,
  useLocalApp,
  waitForStatus,
} from "../support/local-app.ts";

const stack = useLocalApp();
beforeAll(async () => {
  // Workers exist but are paused: scheduled jobs wait in `ready` until a test wants them run.
  for (const type of ["cancel/exact", "cancel/dotted", "cancel/other"]) {
    const handle = await stack.app.context.backgroundJobs.addWorker({
      type,
      async worker(job) {
        await job.done();
      },
    });
    handle.pause();
  }
});

async function statusOf(id: string) {
  return (await stack.app.context.backgroundJobs.getJob(id))?._doc.status;
}

describe("cancelJobs", () => {
  it("matches data by deep equality regardless of key order, and nothing else", async () => {
    const { backgroundJobs } = stack.app.context;
    const same = await backgroundJobs.scheduleJob({
      type: "cancel/exact",
      data: { shopId: "A", notify: { to: "x", cc: ["y"] } },
    });
    const extraKey = await backgroundJobs.scheduleJob({
      type: "cancel/exact",
      data: { shopId: "A", notify: { to: "x", cc: ["y"] }, userId: "u" },
    });
    const otherShop = await backgroundJobs.scheduleJob({
      type: "cancel/exact",
      data: { shopId: "B" },
    });
    const otherType = await backgroundJobs.scheduleJob({
      type: "cancel/other",
      data: { shopId: "A", notify: { to: "x", cc: ["y"] } },
    });
    await backgroundJobs.cancelJobs({
      type: "cancel/exact",
      data: { notify: { cc: ["y"], to: "x" }, shopId: "A" },
    });
    expect(await statusOf(same._id)).toBe("cancelled");
    expect(await statusOf(extraKey._id)).toBe("ready");
    expect(await statusOf(otherShop._id)).toBe("ready");
    expect(await statusOf(otherType._id)).toBe("ready");
  });

  it("matches one field with a dotted key", async () => {
    const { backgroundJobs } = stack.app.context;
    const a1 = await backgroundJobs.scheduleJob({
      type: "cancel/dotted",
      data: { shopId: "A", n: 1 },
    });
    const a2 = await backgroundJobs.scheduleJob({
      type: "cancel/dotted",
      data: { shopId: "A", n: 2 },
    });
    const b = await backgroundJobs.scheduleJob({
      type: "cancel/dotted",
      data: { shopId: "B", n: 1 },
    });
    await backgroundJobs.cancelJobs({ type: "cancel/dotted", "data.shopId": "A" });
    expect(await statusOf(a1._id)).toBe("cancelled");
    expect(await statusOf(a2._id)).toBe("cancelled");
    expect(await statusOf(b._id)).toBe("ready");
  });

  it("cancels by type alone every running, ready, waiting and paused job, and leaves finished ones", async () => {
    const { backgroundJobs } = stack.app.context;
    const started = deferred<Job>();
    // One slot: while the held job runs, the others wait in `ready`.
    await backgroundJobs.addWorker({
      type: "cancel/all",
      concurrency: 1,
      async worker(job) {
        if (job.data.hold) started.resolve(job);
        else await job.done();
      },
    });
    const finished = await backgroundJobs.scheduleJob({ type: "cancel/all", data: {} });
    await waitForStatus(stack.app, finished._id, "completed");
    const running = await backgroundJobs.scheduleJob({ type: "cancel/all", data: { hold: true } });
    const runningJob = await started.promise;
    const ready = await backgroundJobs.scheduleJob({ type: "cancel/all", data: {} });
    const paused = await backgroundJobs.scheduleJob({ type: "cancel/all", data: {} });
    expect(await paused.pause()).toBe(true);
    await backgroundJobs.cancelJobs({ type: "cancel/all" });
    expect(await statusOf(running._id)).toBe("cancelled");
    expect(await statusOf(ready._id)).toBe("cancelled");
    expect(await statusOf(paused._id)).toBe("cancelled");
    expect(await statusOf(finished._id)).toBe("completed");
    expect(await runningJob.done()).toBe(false);
  });

  it("rejects a filter it cannot look up by type", async () => {
    await expect(
      stack.app.context.backgroundJobs.cancelJobs({ data: { shopId: "A" } }),
    ).rejects.toThrow(/filter.type/);
  });
});

describe("cancelJobs while the type index lags (as a GSI on AWS may)", () => {
  it("still cancels a job scheduled a moment before: stopped at claim time", async () => {
    const lagging = await startLocalApp({ simulateIndexLagMs: 60_000, reconcileIntervalMs: 200 });
    try {
      const { backgroundJobs } = lagging.context;
      const ran: string[] = [];
      const release = deferred();
      await backgroundJobs.addWorker({
        type: "lag/pending",
        concurrency: 1,
        async worker(job) {
          ran.push(job._id);
          if (job.data.blocker) await release.promise;
          await job.done();
        },
      });
      // A blocker holds the only slot, so the next jobs wait in the queue.
      const blocker = await backgroundJobs.scheduleJob({
        type: "lag/pending",
        data: { blocker: true },
      });
      await waitForStatus(lagging, blocker._id, "running");
      const job = await backgroundJobs.scheduleJob({ type: "lag/pending", data: { shopId: "A" } });
      const keep = await backgroundJobs.scheduleJob({ type: "lag/pending", data: { shopId: "B" } });
      await backgroundJobs.cancelJobs({ type: "lag/pending", data: { shopId: "A" } });
      // The index did not show the job, so cancelJobs could not reach it directly...
      expect((await backgroundJobs.getJob(job._id))?._doc.status).toBe("ready");
      release.resolve();
      // ...but its claim finds the cancel request, and the job never runs.
      await waitForStatus(lagging, job._id, "cancelled");
      await waitForStatus(lagging, keep._id, "completed");
      expect(ran).toEqual([blocker._id, keep._id]);
      // A job scheduled after the cancel is not affected by it.
      const later = await backgroundJobs.scheduleJob({
        type: "lag/pending",
        data: { shopId: "A" },
      });
      await waitForStatus(lagging, later._id, "completed");
    } finally {
      await lagging.stop();
    }
  });

  it("still cancels a job that was already running: the reconciler sweeps again once the index caught up", async () => {
    const lagging = await startLocalApp({
      simulateIndexLagMs: 1500,
      reconcileIntervalMs: 200,
      reconcile: { indexSettleMs: 1600 },
    });
    try {
      const { backgroundJobs } = lagging.context;
      const started = deferred<Job>();
      await backgroundJobs.addWorker({
        type: "lag/running",
        async worker(job) {
          started.resolve(job);
        },
      });
      const scheduled = await backgroundJobs.scheduleJob({
        type: "lag/running",
        data: { shopId: "A" },
      });
      const job = await started.promise;
      await backgroundJobs.cancelJobs({ type: "lag/running", data: { shopId: "A" } });
      await waitForStatus(lagging, scheduled._id, "cancelled", 10_000);
      await sleep(50);
      expect(await job.done()).toBe(false);
    } finally {
      await lagging.stop();
    }
  });
});
