import type { App, Plugin } from "../../lib/index.ts";
import { type Connection, connect, stackInfoOfApp } from "../../lib/ops/connect.ts";

/**
 * Workers for the operator tests:
 * - `ops/flaky` fails its first `data.failures` attempts with `data.error`, then completes;
 * - `ops/hang` runs until its run is cancelled or times out;
 * - `ops/quick` completes at once;
 * - `ops/held` has a worker paused in this process, so its jobs stay ready;
 * - `ops/logger` logs two lines, then completes.
 */
export const opsPlugin: Plugin = {
  name: "ops-test",
  functionsByType: {
    startup: [
      async ({ backgroundJobs }) => {
        await backgroundJobs.addWorker({
          type: "ops/flaky",
          concurrency: 10,
          async worker(job) {
            const failures = Number(job.data.failures ?? 0);
            if (job._doc.retried <= failures)
              await job.fail(String(job.data.error ?? "planned failure"), { fatal: true });
            else await job.done({ ok: true });
          },
        });
        await backgroundJobs.addWorker({
          type: "ops/hang",
          workTimeout: 600_000,
          concurrency: 5,
          async worker(job) {
            await new Promise((resolve) => job.signal.addEventListener("abort", resolve));
          },
        });
        await backgroundJobs.addWorker({
          type: "ops/logger",
          async worker(job) {
            await job.log("fetched 3 orders");
            await job.log("mailer slow", { level: "warning" });
            await job.done();
          },
        });
        const held = await backgroundJobs.addWorker({
          type: "ops/held",
          async worker(job) {
            await job.done();
          },
        });
        held.pause();
        await backgroundJobs.addWorker({
          type: "ops/quick",
          concurrency: 10,
          async worker(job) {
            await job.done();
          },
        });
      },
    ],
  },
};

/** Operations on an app's stack through their own clients and job system (as the CLI has). */
export function connectTo(app: App, actor = "tester@ci"): Connection {
  return connect(stackInfoOfApp(app), { actor });
}
