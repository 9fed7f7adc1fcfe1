import { afterAll, describe, expect, it } from "vitest";
import type { Job } from "../../lib/index.ts";
import {
  deferred,
  restartableTable,
  startLocalApp,
  tempDataDir,
  waitForStatus,
} from "../support/local-app.ts";

const data = await tempDataDir();
const table = restartableTable();
afterAll(async () => {
  await data.remove();
  await table.drop();
});

describe("the reconciler", () => {
  it("runs a job whose message was never sent (the write-then-send gap)", async () => {
    let failSends = true;
    const app = await startLocalApp({
      reconcileIntervalMs: 60_000, // passes are run by hand below
      injectFault: (operation) =>
        failSends && operation.startsWith("SQS.SendMessage")
          ? new Error("InternalError: injected SQS 500")
          : undefined,
    });
    try {
      const { backgroundJobs } = app.context;
      let ran = 0;
      await backgroundJobs.addWorker({
        type: "recon/lost",
        async worker(job) {
          ran += 1;
          await job.done();
        },
      });
      const job = await backgroundJobs.scheduleJob({ type: "recon/lost", data: {} });
      failSends = false;
      expect((await backgroundJobs.getJob(job._id))?._doc.status).toBe("ready");
      // Not stale yet: nothing is sent twice for a job that may still be in flight.
      expect((await app.reconcile({ staleAfterMs: 60_000 })).requeued).toBe(0);
      const report = await app.reconcile({ staleAfterMs: 0 });
      expect(report.requeued).toBe(1);
      await waitForStatus(app, job._id, "completed");
      expect(ran).toBe(1);
    } finally {
      await app.stop();
    }
  });

  it("fails the attempt of a run whose process died, then retries it", async () => {
    const started = deferred<Job>();
    const first = await startLocalApp(table.options({ dataDir: data.dir }));
    await first.context.backgroundJobs.addWorker({
      type: "recon/crash",
      workTimeout: 1000,
      async worker(job) {
        started.resolve(job); // never settles: the process "dies" below
      },
    });
    const scheduled = await first.context.backgroundJobs.scheduleJob({
      type: "recon/crash",
      data: {},
      retry: { retries: 2, wait: 0 },
    });
    await started.promise;
    await first.stop(); // the run is abandoned with its lease still held

    const second = await startLocalApp(
      table.options({ dataDir: data.dir, reconcileIntervalMs: 200 }),
    );
    try {
      let ran = 0;
      await second.context.backgroundJobs.addWorker({
        type: "recon/crash",
        async worker(job) {
          ran += 1;
          await job.done();
        },
      });
      const doc = await waitForStatus(second, scheduled._id, "completed", 15_000);
      expect(ran).toBe(1);
      expect(doc.retried).toBe(2);
      expect(doc.failures).toEqual([
        { value: "Failed for exceeding worker set workTimeout", runId: expect.any(String) },
      ]);
    } finally {
      await second.stop();
    }
  });
});

describe("the reconciler's re-sends", () => {
  it("back off (1, 2, 4... x staleAfter) instead of copying a waiting job's message on every pass", async () => {
    const app = await startLocalApp({ reconcileIntervalMs: 3_600_000, clock: "manual" });
    try {
      const { clock } = app.local;
      const handle = await app.context.backgroundJobs.addWorker({
        type: "recon/backlog",
        async worker() {},
      });
      handle.pause(); // its jobs wait, as in a backlog
      await app.context.backgroundJobs.scheduleJob({ type: "recon/backlog", data: {} });
      // Lost once it is staleAfter behind the delivery front, which with nothing reported is
      // now less half of staleAfter (the lag a process keeps to itself): 3 s here. Each
      // re-send moves it on by 0, 1, 2... x staleAfter. The stack's clock stands still during
      // a pass, so each pass sees exactly the instant the test moved it to.
      const pass = async () => (await app.reconcile({ staleAfterMs: 2000 })).requeued;
      const first = clock.now() + 3200;
      await clock.set(first);
      expect(await pass()).toBe(1);
      expect(await pass()).toBe(0);
      await clock.set(first + 2600);
      expect(await pass()).toBe(0); // within 1.5 x staleAfter of the re-send
      await clock.set(first + 3400);
      expect(await pass()).toBe(1);
      const second = first + 3400;
      await clock.set(second + 4600);
      expect(await pass()).toBe(0); // now 1 x staleAfter more
      await clock.set(second + 5400);
      expect(await pass()).toBe(1);
    } finally {
      await app.stop();
    }
  });
});
