import { describe, expect, it } from "vitest";
import { useLocalApp, waitForStatus, waitUntil } from "../support/local-app.ts";

// Retry waits pass on the local stack's clock: the test moves it, so a wait costs no real time
// and each attempt starts exactly when its wait ends.
const stack = useLocalApp({ clock: "manual" });

/** A worker that fails every attempt and records when each started. */
async function alwaysFailing(type: string) {
  const starts: number[] = [];
  await stack.app.context.backgroundJobs.addWorker({
    type,
    async worker(job) {
      starts.push(stack.app.local.clock.now());
      await job.fail(`attempt ${starts.length} failed`);
    },
  });
  return starts;
}

function gaps(starts: number[]): number[] {
  return starts.slice(1).map((start, i) => start - (starts[i] as number));
}

/**
 * Moves the clock by each of `waits` once the attempt before has failed and the job waits
 * again, so an attempt that started before its wait ended would show a shorter gap.
 */
async function retryAfter(starts: number[], id: string, waits: number[]) {
  for (const [i, wait] of waits.entries()) {
    await waitUntil(() => starts.length === i + 1, 20_000, `attempt ${i + 1}`);
    await waitForStatus(stack.app, id, "waiting");
    await stack.app.local.clock.advance(wait);
  }
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
    await retryAfter(starts, job._id, [1000, 1000]);
    const doc = await waitForStatus(stack.app, job._id, "failed", 30_000);
    expect(starts).toHaveLength(3);
    expect(doc.retried).toBe(3);
    expect(doc.retries).toBe(0);
    expect(doc.failures.map((f) => f.value)).toEqual([
      "attempt 1 failed",
      "attempt 2 failed",
      "attempt 3 failed",
    ]);
    // Each retry waits `wait` after the failure, no less.
    expect(gaps(starts)).toEqual([1000, 1000]);
  });

  it("exponential backoff waits W, 2W, 4W between attempts", async () => {
    const starts = await alwaysFailing("retry/exponential");
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "retry/exponential",
      data: {},
      retry: { retries: 3, wait: 1000, backoff: "exponential" },
    });
    await retryAfter(starts, job._id, [1000, 2000, 4000]);
    await waitForStatus(stack.app, job._id, "failed", 40_000);
    expect(starts).toHaveLength(4);
    expect(gaps(starts)).toEqual([1000, 2000, 4000]);
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
