import { describe, expect, it } from "vitest";
import { useLocalApp, waitUntil } from "../support/local-app.ts";

const local = useLocalApp();

describe("fairness among shops (the local poller; SQS fair queues on AWS)", () => {
  it("shop A schedules 500, then shop B 5: all of B start before 50 more of A's", async () => {
    const { backgroundJobs } = local.app.context;
    const starts: string[] = [];
    await backgroundJobs.addWorker({
      type: "fair/mail",
      concurrency: 3,
      async worker(job) {
        starts.push(job.data.shopId as string);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await job.done();
      },
    });
    const schedule = (shopId: string, count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, n) =>
          backgroundJobs.scheduleJob({ type: "fair/mail", data: { shopId, n } }),
        ),
      );
    await schedule("A", 500);
    // Counted from when B's jobs exist: A's jobs may start while A's 500 are still being written.
    const aStartsBeforeB = starts.length;
    await schedule("B", 5);
    const startsOf = (shop: string) => starts.flatMap((s, i) => (s === shop ? [i] : []));
    // Until B's 5 and 50 more of A's have started: a B job still waiting after that is the
    // unfairness this test is for, and A never reaching 50 is a failure too.
    await waitUntil(
      () => startsOf("B").length === 5 && startsOf("A").length >= aStartsBeforeB + 50,
      60_000,
      "5 starts of B and 50 of A after B was scheduled",
    );
    const fiftiethOfAAfterB = startsOf("A")[aStartsBeforeB + 49] as number;
    const ofB = startsOf("B");
    expect(ofB).toHaveLength(5);
    expect(Math.max(...ofB)).toBeLessThan(fiftiethOfAAfterB);
    await backgroundJobs.cancelJobs({ type: "fair/mail" });
  });
});
