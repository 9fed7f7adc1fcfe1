import { describe, expect, it } from "vitest";
import { afterFailure, FOREVER, retryDelay, retryPolicy } from "../../lib/jobs/retry.ts";

describe("retry arithmetic (Reaction's)", () => {
  it("no retry option is one attempt, 5-minute wait, constant", () => {
    expect(retryPolicy(undefined)).toMatchObject({
      retries: 1,
      retryWait: 300_000,
      retryBackoff: "constant",
    });
  });

  it("retries: N stores N + 1 attempts; a number works too", () => {
    expect(retryPolicy({ retries: 5, wait: 5000, backoff: "exponential" })).toMatchObject({
      retries: 6,
      retryWait: 5000,
      retryBackoff: "exponential",
    });
    expect(retryPolicy(3).retries).toBe(4);
    expect(retryPolicy({ retries: 0 }).retries).toBe(1);
  });

  it("an object without retries retries forever", () => {
    expect(retryPolicy({ wait: 1000 }).retries).toBe(FOREVER);
  });

  it("exponential waits are W, 2W, 4W, 8W", () => {
    const job = { retryWait: 5000, retryBackoff: "exponential" as const };
    expect([1, 2, 3, 4].map((retried) => retryDelay(job, retried))).toEqual([
      5000, 10_000, 20_000, 40_000,
    ]);
    expect(retryDelay({ retryWait: 5000, retryBackoff: "constant" }, 4)).toBe(5000);
  });

  it("a failure with attempts left goes back to waiting; the last one, or a fatal one, ends failed", () => {
    const job = {
      retries: 1,
      retried: 2,
      retryWait: 1000,
      retryBackoff: "exponential" as const,
      retryUntil: 8.64e15,
    };
    expect(afterFailure(job, 10_000, false)).toEqual({ status: "waiting", after: 12_000 });
    expect(afterFailure({ ...job, retries: 0 }, 10_000, false)).toEqual({
      status: "failed",
      after: 10_000,
    });
    expect(afterFailure(job, 10_000, true).status).toBe("failed");
    expect(afterFailure({ ...job, retryUntil: 11_000 }, 10_000, false).status).toBe("failed");
  });
});
