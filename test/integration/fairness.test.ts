import { describe, expect, it } from "vitest";
import { useLocalApp } from "../support/local-app.ts";

const local = useLocalApp();

describe("fairness among shops (the local poller; SQS fair queues on AWS)", () => {
  it("shop A schedules 500, then shop B 5: all of B start before A's 50th", async () => {
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
    await schedule("B", 5);
    const deadline = Date.now() + 60_000;
    while (starts.filter((shop) => shop === "B").length < 5 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const fiftiethOfA = starts.flatMap((shop, i) => (shop === "A" ? [i] : []))[49];
    const ofB = starts.flatMap((shop, i) => (shop === "B" ? [i] : []));
    expect(ofB).toHaveLength(5);
    expect(Math.max(...ofB)).toBeLessThan(fiftiethOfA ?? Number.POSITIVE_INFINITY);
    await backgroundJobs.cancelJobs({ type: "fair/mail" });
  });
});
