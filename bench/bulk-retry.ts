/**
 * `npm run bench:bulk-retry`: how long `bgjobs jobs retry --all-matching` takes for 1,000
 * failed jobs on the local stack (BENCH_JOBS changes the number), through the same
 * operations module and AWS clients the CLI uses. Prints one JSON line; no thresholds.
 */
import { createApp } from "../lib/index.ts";
import { connect, stackInfoOfApp } from "../lib/ops/connect.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const TYPE = "bench/flaky";

const app = createApp({
  backgroundJobs: { local: { quiet: true, reconcileIntervalMs: 3_600_000 } },
});
app.registerPlugin({
  name: "bench",
  functionsByType: {
    startup: [
      async ({ backgroundJobs }) => {
        await backgroundJobs.addWorker({
          type: TYPE,
          concurrency: 20,
          async worker(job) {
            // The first attempt fails for good (no retries left); a retried one completes.
            if (job._doc.retried === 1) await job.fail("first attempt fails", { fatal: true });
            else await job.done();
          },
        });
      },
    ],
  },
});
await app.start();
const conn = connect(stackInfoOfApp(app), { actor: "bench" });
const { ops } = conn;

async function countOf(status: "failed" | "completed"): Promise<number> {
  return (
    await ops.countMatching({
      action: "retry",
      target: { filter: { type: TYPE, statuses: [status] } },
    })
  ).matched;
}

async function until(status: "failed" | "completed", timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await countOf(status)) < JOBS) {
    if (Date.now() > deadline)
      throw new Error(`bench timed out waiting for ${JOBS} ${status} jobs`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

try {
  for (let i = 0; i < JOBS; i += 1)
    await app.context.backgroundJobs.scheduleJob({
      type: TYPE,
      data: { i },
      retry: { retries: 0 },
    });
  await until("failed", 300_000);
  const request = {
    action: "retry" as const,
    target: { filter: { type: TYPE, statuses: ["failed" as const] } },
  };
  let started = Date.now();
  const count = await ops.countMatching(request);
  const countMs = Date.now() - started;
  started = Date.now();
  const report = await ops.act(request);
  const retryMs = Date.now() - started;
  await until("completed", 300_000);
  const completedMs = Date.now() - started;
  process.stdout.write(
    `${JSON.stringify({
      bench: "bulk-retry",
      jobs: JOBS,
      countMs,
      counted: count.matched,
      retryMs,
      changed: report.changed,
      skipped: report.skipped,
      failed: report.failed,
      read: report.read,
      retriedPerSecond: Math.round((report.changed / retryMs) * 1000),
      allCompletedMs: completedMs,
    })}\n`,
  );
} finally {
  conn.close();
  await app.stop();
}
