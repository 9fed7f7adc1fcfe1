import { describe, expect, it } from "vitest";
import { useLocalApp, waitForStatus } from "../support/local-app.ts";

const stack = useLocalApp();

/** A worker that fails every attempt and records when each started. */
async function alwaysFailing(type: string) {
  const starts: number[] = [];
  await stack.app.context.backgroundJobs.addWorker({
    type,
    async worker(job) {
      starts.push(Date.now());
      await job.fail(`attempt ${starts.length} failed`);
    },
  });
  return starts;
}

function gaps(starts: number[]): number[] {
  return starts.slice(1).map((start, i) => start - (starts[i] as number));
}

describe("retry arithmetic", () => {
  it("retries: N means N + 1 attempts with constant waits, then failed", async () => {
    const starts = await alwaysFailing("retry/constant");
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "retry/constant",
      data: {},
      retry: { retries: 2, wait: 1000 },
    });
    expect(job._doc.retries).toBe(3);
    const doc = await waitForStatus(stack.app, job._id, "failed", 30_000);
    expect(starts).toHaveLength(3);
    expect(doc.retried).toBe(3);
    expect(doc.retries).toBe(0);
    expect(doc.failures.map((f) => f.value)).toEqual([
      "attempt 1 failed",
      "attempt 2 failed",
      "attempt 3 failed",
    ]);
    // Each retry waits at least `wait` after the failure (SQS delays are whole seconds).
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(1000);
  });

  it("exponential backoff waits W, 2W, 4W between attempts", async () => {
    const starts = await alwaysFailing("retry/exponential");
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "retry/exponential",
      data: {},
      retry: { retries: 3, wait: 1000, backoff: "exponential" },
    });
    await waitForStatus(stack.app, job._id, "failed", 40_000);
    expect(starts).toHaveLength(4);
    const [first, second, third] = gaps(starts) as [number, number, number];
    expect(first).toBeGreaterThanOrEqual(1000);
    expect(second).toBeGreaterThanOrEqual(2000);
    expect(third).toBeGreaterThanOrEqual(4000);
    // And the waits grow: the third is clearly longer than the first.
    expect(third).toBeGreaterThan(first + 2000);
  });

  it("a job with no retry option gets one attempt", async () => {
    const starts = await alwaysFailing("retry/none");
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "retry/none",
      data: {},
    });
    const doc = await waitForStatus(stack.app, job._id, "failed");
    expect(starts).toHaveLength(1);
    expect(doc.retries).toBe(0);
  });

  it("a retry object without retries retries until a fatal failure", async () => {
    let attempts = 0;
    await stack.app.context.backgroundJobs.addWorker({
      type: "retry/forever",
      async worker(job) {
        attempts += 1;
        await job.fail("again", { fatal: attempts === 4 });
      },
    });
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "retry/forever",
      data: {},
      retry: { wait: 0 },
    });
    const doc = await waitForStatus(stack.app, job._id, "failed");
    expect(attempts).toBe(4);
    expect(doc.retries).toBeGreaterThan(1e15);
  });
});
