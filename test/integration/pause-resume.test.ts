import { describe, expect, it } from "vitest";
import { sleep, useLocalApp, waitForStatus } from "../support/local-app.ts";

const stack = useLocalApp();

describe("a worker handle's pause() and resume()", () => {
  it("leaves the type's jobs ready while paused and starts them promptly on resume", async () => {
    const { backgroundJobs } = stack.app.context;
    const ran: string[] = [];
    const handle = await backgroundJobs.addWorker({
      type: "pause/handle",
      pollInterval: 5000,
      async worker(job) {
        ran.push(job._id);
        await job.done();
      },
    });
    handle.pause();
    const jobs = await Promise.all(
      [1, 2, 3].map((n) => backgroundJobs.scheduleJob({ type: "pause/handle", data: { n } })),
    );
    await sleep(1000);
    expect(ran).toEqual([]);
    for (const job of jobs)
      expect((await backgroundJobs.getJob(job._id))?._doc.status).toBe("ready");
    await handle.resume();
    for (const job of jobs) await waitForStatus(stack.app, job._id, "completed", 5000);
    expect(ran.sort()).toEqual(jobs.map((job) => job._id).sort());
  });

  it("shutdown() waits for the running job and starts no more", async () => {
    const { backgroundJobs } = stack.app.context;
    let finished = 0;
    const handle = await backgroundJobs.addWorker({
      type: "pause/shutdown",
      async worker(job) {
        await sleep(400);
        finished += 1;
        await job.done();
      },
    });
    const first = await backgroundJobs.scheduleJob({ type: "pause/shutdown", data: {} });
    await waitForStatus(stack.app, first._id, "running");
    await handle.shutdown();
    expect(finished).toBe(1);
    const second = await backgroundJobs.scheduleJob({ type: "pause/shutdown", data: {} });
    await sleep(800);
    expect((await backgroundJobs.getJob(second._id))?._doc.status).toBe("ready");
  });
});

describe("the Job's control methods follow Reaction's status rules", () => {
  it("pause, resume, cancel, restart, ready, rerun and remove", async () => {
    const { backgroundJobs } = stack.app.context;
    const runs: string[] = [];
    const handle = await backgroundJobs.addWorker({
      type: "control/job",
      async worker(job) {
        runs.push(job._id);
        if (job.data.fail && job.doc.retried === 1) await job.fail("first attempt fails");
        else await job.done("ok");
      },
    });
    handle.pause();
    const job = await backgroundJobs.scheduleJob({ type: "control/job", data: {} });
    expect(await job.pause()).toBe(true);
    expect(job._doc.status).toBe("paused");
    expect(await job.pause()).toBe(false); // only ready or waiting jobs pause
    expect(await job.remove()).toBe(false); // only finished jobs are removed
    await handle.resume();
    await sleep(500);
    expect(runs).toEqual([]); // resume() of the worker does not touch a paused job
    expect(await job.resume()).toBe(true);
    await waitForStatus(stack.app, job._id, "completed");

    // rerun: a completed job runs again as a new job
    const rerunId = await job.rerun();
    expect(typeof rerunId).toBe("string");
    expect(rerunId).not.toBe(job._id);
    await waitForStatus(stack.app, rerunId as string, "completed");
    expect(runs).toEqual([job._id, rerunId]);

    // restart: a failed job goes back to waiting with more attempts; ready() makes it ready
    const failing = await backgroundJobs.scheduleJob({ type: "control/job", data: { fail: true } });
    await waitForStatus(stack.app, failing._id, "failed");
    const fetched = await backgroundJobs.getJob(failing._id);
    expect(await fetched?.restart()).toBe(true);
    await fetched?.ready();
    const doc = await waitForStatus(stack.app, failing._id, "completed");
    expect(doc.retried).toBe(2);
    expect(await fetched?.restart()).toBe(false); // a completed job does not restart

    // cancel, then remove
    handle.pause();
    const doomed = await backgroundJobs.scheduleJob({ type: "control/job", data: {} });
    expect(await doomed.cancel()).toBe(true);
    expect(doomed._doc.status).toBe("cancelled");
    expect(await doomed.cancel()).toBe(false);
    expect(await doomed.remove()).toBe(true);
    expect(await backgroundJobs.getJob(doomed._id)).toBeNull();
  });
});
