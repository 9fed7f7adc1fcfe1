import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../lib/index.ts";
import { deferred, startLocalApp, waitForStatus, waitUntil } from "../support/local-app.ts";

let app: App;
beforeAll(async () => {
  app = await startLocalApp();
});
afterAll(async () => {
  await app?.stop();
});

describe("priority lanes under contention", () => {
  it("starts every waiting critical job before any normal one, and every normal before any low", async () => {
    const { backgroundJobs } = app.context;
    const started: string[] = [];
    const release = deferred();
    await backgroundJobs.addWorker({
      type: "prio/work",
      concurrency: 2,
      async worker(job) {
        if (job.data.blocker) await release.promise;
        else started.push(job.data.lane as string);
        await new Promise((resolve) => setTimeout(resolve, 10));
        await job.done();
      },
    });
    // Two blockers fill both slots, so everything after them queues up in the lanes.
    const blockers = [];
    for (let i = 0; i < 2; i += 1) {
      blockers.push(
        await backgroundJobs.scheduleJob({
          type: "prio/work",
          data: { blocker: true },
          priority: "low",
        }),
      );
    }
    for (const blocker of blockers) await waitForStatus(app, blocker._id, "running");
    const plan: Array<[string, string | number]> = [];
    for (let i = 0; i < 8; i += 1) {
      plan.push(
        ["low", i % 2 ? "low" : 15],
        ["normal", i % 2 ? "normal" : "medium"],
        ["critical", i % 2 ? "critical" : "high"],
      );
    }
    // Interleaved, so arrival order says nothing about priority.
    for (const [lane, priority] of plan) {
      await backgroundJobs.scheduleJob({ type: "prio/work", data: { lane }, priority });
    }
    release.resolve();
    await waitUntil(() => started.length === plan.length, 30_000, "all jobs started");
    expect(started).toEqual([
      ...Array(8).fill("critical"),
      ...Array(8).fill("normal"),
      ...Array(8).fill("low"),
    ]);
  });

  it("accepts integer priorities and puts them in the lane their number falls in", async () => {
    const { backgroundJobs } = app.context;
    const job = await backgroundJobs.scheduleJob({ type: "prio/none", data: {}, priority: -12 });
    expect(job._doc.priority).toBe(-12);
    const low = await backgroundJobs.scheduleJob({ type: "prio/none", data: {}, priority: "low" });
    expect(low._doc.priority).toBe(10);
  });
});
