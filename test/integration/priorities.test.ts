import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { LANES, type LaneName } from "../../lib/index.ts";
import { captureLogger } from "../support/capture-logger.ts";
import {
  deferred,
  queueDepth,
  sleep,
  useLocalApp,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

const stack = useLocalApp();

/** Resolves when the poller has received every message sent to the lanes so far. */
async function lanesRead(): Promise<void> {
  await waitUntil(
    async () => {
      const depths = await Promise.all(
        LANES.map((lane) => queueDepth(stack.sqs, stack.app.local.queueUrls[lane])),
      );
      return depths.every((depth) => depth.visible === 0);
    },
    20_000,
    "the poller to receive every lane's messages",
  );
}

describe("priority lanes under contention", () => {
  it("starts every waiting critical job before any normal one, and every normal before any low", async () => {
    const { backgroundJobs } = stack.app.context;
    const started: string[] = [];
    const release = deferred();
    await backgroundJobs.addWorker({
      type: "prio/work",
      concurrency: 2,
      async worker(job) {
        if (job.data.blocker) await release.promise;
        else started.push(job.data.lane as string);
        await new Promise((resolve) => setTimeout(resolve, 10));
        await job.done();
      },
    });
    // Two blockers fill both slots, so everything after them queues up in the lanes.
    const blockers = [];
    for (let i = 0; i < 2; i += 1) {
      blockers.push(
        await backgroundJobs.scheduleJob({
          type: "prio/work",
          data: { blocker: true },
          priority: "low",
        }),
      );
    }
    for (const blocker of blockers) await waitForStatus(stack.app, blocker._id, "running");
    const plan: Array<[string, string | number]> = [];
    for (let i = 0; i < 8; i += 1) {
      plan.push(
        ["low", i % 2 ? "low" : 15],
        ["normal", i % 2 ? "normal" : "medium"],
        ["critical", i % 2 ? "critical" : "high"],
      );
    }
    // Interleaved, so arrival order says nothing about priority.
    for (const [lane, priority] of plan) {
      await backgroundJobs.scheduleJob({ type: "prio/work", data: { lane }, priority });
    }
    // Every job waits in the poller's hands, not on a lane it has not read yet.
    await lanesRead();
    release.resolve();
    await waitUntil(() => started.length === plan.length, 30_000, "all jobs started");
    expect(started).toEqual([
      ...Array(8).fill("critical"),
      ...Array(8).fill("normal"),
      ...Array(8).fill("low"),
    ]);
  });

  it("keeps strict priority per type while another type's worker sits idle", async () => {
    const { backgroundJobs } = stack.app.context;
    // Free slots of another type must not let the poller take "prio/one"'s low messages early.
    await backgroundJobs.addWorker({
      type: "prio/idle",
      concurrency: 3,
      worker: (job) => job.done(),
    });
    const started: string[] = [];
    const first = deferred();
    await backgroundJobs.addWorker({
      type: "prio/one",
      async worker(job) {
        started.push(job.data.label as string);
        await (job.data.label === "first" ? first.promise : sleep(300));
        await job.done();
      },
      concurrency: 1,
    });
    const opening = await backgroundJobs.scheduleJob({
      type: "prio/one",
      data: { label: "first" },
      priority: "low",
    });
    await waitForStatus(stack.app, opening._id, "running");
    const later: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      later.push(
        (
          await backgroundJobs.scheduleJob({
            type: "prio/one",
            data: { label: "low" },
            priority: "low",
          })
        )._id,
      );
    }
    await lanesRead(); // the poller holds the low messages
    const critical = await backgroundJobs.scheduleJob({
      type: "prio/one",
      data: { label: "critical" },
      priority: "critical",
    });
    await lanesRead(); // and the critical one
    first.resolve();
    for (const id of [critical._id, ...later]) await waitForStatus(stack.app, id, "completed");
    expect(started).toEqual(["first", "critical", "low", "low", "low"]);
  });
});

describe("the lane a priority puts a job's message in", () => {
  // This stack's poller receives nothing, so every message stays on the lane it was sent to.
  const held = useLocalApp(
    {
      injectFault: (operation) =>
        operation === "SQS.ReceiveMessage" ? new Error("poller held off") : undefined,
    },
    [],
    { logger: captureLogger() },
  );

  async function drain(lane: LaneName): Promise<string[]> {
    const ids: string[] = [];
    for (;;) {
      const { Messages = [] } = await held.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: held.app.local.queueUrls[lane],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) return ids;
      for (const message of Messages) ids.push(JSON.parse(message.Body ?? "{}").id);
    }
  }

  it("accepts integer priorities and puts them in the lane their number falls in", async () => {
    const { backgroundJobs } = held.app.context;
    const plan: Array<[string | number, number, LaneName]> = [
      [-12, -12, "critical"],
      ["high", -10, "critical"],
      [-9, -9, "normal"],
      ["medium", -5, "normal"],
      [9, 9, "normal"],
      ["low", 10, "low"],
      [15, 15, "low"],
    ];
    const expected: Record<LaneName, string[]> = { critical: [], normal: [], low: [] };
    for (const [priority, stored, lane] of plan) {
      const job = await backgroundJobs.scheduleJob({ type: "prio/none", data: {}, priority });
      expect(job._doc.priority).toBe(stored);
      expected[lane].push(job._id);
    }
    for (const lane of LANES) {
      expect((await drain(lane)).sort(), lane).toEqual(expected[lane].sort());
    }
  });
});
