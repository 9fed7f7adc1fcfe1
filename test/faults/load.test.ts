import { describe, expect, it } from "vitest";
import { startLocalApp, waitUntil } from "../support/local-app.ts";

const JOBS = Number(process.env.LOAD_JOBS ?? 5000);
const TYPES = ["load/images", "load/emails", "load/reports"];
const PRIORITIES = ["critical", "normal", "low"] as const;

/** A small seeded generator, so every run plans the same failures. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("load", () => {
  it(`${JOBS} jobs, 3 types, 3 lanes, random failures: every job ends as its retry rules say`, {
    timeout: 600_000,
  }, async () => {
    const app = await startLocalApp({ reconcileIntervalMs: 1000 });
    try {
      const executions = new Map<string, number>();
      const completions = new Map<string, number>();
      let settled = 0;
      for (const type of TYPES) {
        await app.context.backgroundJobs.addWorker({
          type,
          concurrency: 10,
          async worker(job) {
            const count = (executions.get(job._id) ?? 0) + 1;
            executions.set(job._id, count);
            if (count <= (job.data.failures as number)) {
              await job.fail(`planned failure ${count}`);
              if (job._doc.status === "failed") settled += 1;
              return;
            }
            await job.done();
            completions.set(job._id, (completions.get(job._id) ?? 0) + 1);
            settled += 1;
          },
        });
      }
      const next = random(42);
      const plan = new Map<string, { failures: number; retries: number }>();
      const started = Date.now();
      let scheduled = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (scheduled < JOBS) {
            scheduled += 1;
            const failures = next() < 0.7 ? 0 : Math.floor(next() * 3) + 1; // 30% fail 1-3 times
            const retries = Math.floor(next() * 3); // 0-2 retries: 1-3 attempts
            const job = await app.context.backgroundJobs.scheduleJob({
              type: TYPES[scheduled % 3] as string,
              data: { failures },
              priority: PRIORITIES[Math.floor(next() * 3)],
              retry: { retries, wait: 0 },
            });
            plan.set(job._id, { failures, retries });
          }
        }),
      );
      await waitUntil(() => settled >= JOBS, 540_000, "every job to settle");
      const seconds = (Date.now() - started) / 1000;

      let expectedCompleted = 0;
      let expectedFailed = 0;
      let wrongExecutions = 0;
      let completedTwice = 0;
      for (const [id, { failures, retries }] of plan) {
        const attempts = retries + 1;
        const succeeds = failures < attempts;
        if (succeeds) expectedCompleted += 1;
        else expectedFailed += 1;
        if ((executions.get(id) ?? 0) !== (succeeds ? failures + 1 : attempts))
          wrongExecutions += 1;
        if ((completions.get(id) ?? 0) > 1) completedTwice += 1;
      }
      const lost = [...plan.keys()].filter((id) => !executions.has(id)).length;
      const totalExecutions = [...executions.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(
        `load: ${JOBS} jobs, ${totalExecutions} executions in ${seconds.toFixed(1)} s ` +
          `(${(totalExecutions / seconds).toFixed(0)} executions/s): completed ${completions.size} (expected ${expectedCompleted}), ` +
          `failed ${JOBS - completions.size} (expected ${expectedFailed}), lost ${lost}, completed twice ${completedTwice}, ` +
          `wrong execution counts ${wrongExecutions}\n`,
      );
      expect(lost).toBe(0);
      expect(completedTwice).toBe(0);
      expect(wrongExecutions).toBe(0);
      expect(completions.size).toBe(expectedCompleted);
      // The records agree with what the workers saw (a sample, read back strongly consistent).
      for (const id of [...plan.keys()].slice(0, 200)) {
        const doc = (await app.context.backgroundJobs.getJob(id))?._doc;
        expect(doc?.status).toBe(completions.has(id) ? "completed" : "failed");
        expect(doc?.retried).toBe(executions.get(id));
      }
    } finally {
      await app.stop();
    }
  });
});
