import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JobBackend, startJobBackend } from "../../lib/backend.ts";
import { createJobSystem } from "../../lib/jobs/api.ts";
import { silentLogger } from "../../lib/log.ts";
import { type Connection, connect, type StackInfo } from "../../lib/ops/connect.ts";
import { onSharedDynamoDb, waitUntil } from "../support/local-app.ts";

/**
 * Lanes, dead letters and the overview, on a local backend that does not consume until a
 * test says so (so messages wait, as with no dispatcher deployed).
 */
let backend: JobBackend;
let info: StackInfo;
let conn: Connection;
let sqs: SQSClient;
beforeAll(async () => {
  backend = await startJobBackend({ backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) } });
  info = { source: "local", ...backend.local, ...backend.localScheduling };
  conn = connect(info, { actor: "ops@ci" });
  sqs = conn.clients.sqs;
});
afterAll(async () => {
  conn?.close();
  await backend?.stop();
});

const api = () => backend.system.backgroundJobs;

describe("lanes", () => {
  it('says "no workers" when due jobs wait with nothing receiving, and not once a consumer runs', async () => {
    await api().scheduleJob({ type: "lanes/work", data: {}, priority: "critical" });
    await api().scheduleJob({ type: "lanes/work", data: {} });
    // Seen a minute later: the jobs have waited 60 s with nothing in flight.
    const later = connect(info, {
      deps: createJobSystem({
        store: backend.system.deps.store,
        lanes: backend.system.deps.lanes,
        logger: silentLogger,
        cleanup: new Map(),
        clock: { now: () => Date.now() + 60_000, sleep: async () => {} },
      }).deps,
    });
    try {
      const lanes = await later.ops.laneStats();
      const critical = lanes.find((lane) => lane.lane === "critical");
      expect(critical).toMatchObject({ visible: 1, inFlight: 0, noWorkers: true });
      expect(critical?.oldestWaitingMs).toBeGreaterThanOrEqual(60_000);
      expect(lanes.find((lane) => lane.lane === "low")).toMatchObject({
        visible: 0,
        noWorkers: false,
        oldestWaitingMs: null,
      });
    } finally {
      later.close();
    }
    await api().addWorker({
      type: "lanes/work",
      async worker(job) {
        await job.done();
      },
    });
    await api().addWorker({
      type: "lanes/fail",
      async worker(job) {
        await job.fail("nope", { fatal: true });
      },
    });
    backend.consume();
    await waitUntil(async () => (await conn.ops.laneStats()).every((lane) => lane.visible === 0));
    expect((await conn.ops.laneStats()).some((lane) => lane.noWorkers)).toBe(false);
  });
});

describe("dead letters", () => {
  it("lists a DLQ's messages with what a redrive would do, leaving them there; redrives with progress", async () => {
    // A job that can still run: its type's worker is paused here, so it stays ready.
    const held = await api().addWorker({
      type: "lanes/held",
      async worker(job) {
        await job.done();
      },
    });
    held.pause();
    const live = await api().scheduleJob({ type: "lanes/held", data: {}, priority: "low" });
    const done = await api().scheduleJob({ type: "lanes/work", data: {} });
    await waitUntil(async () => (await conn.ops.getJob(done._id))?.status === "completed");
    const dlq = info.deadLetterQueueUrls?.low as string;
    for (const body of [
      "not json",
      JSON.stringify({ id: live._id, type: "lanes/held" }),
      JSON.stringify({ id: done._id, type: "lanes/work" }),
    ])
      await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: body }));
    const letters = await conn.ops.deadLetters({ lane: "low" });
    expect(letters).toHaveLength(3);
    const byBody = (needle: string) => letters.find((letter) => letter.body.includes(needle));
    expect(byBody("not json")).toMatchObject({ redrive: "drop", reason: "not a job message" });
    expect(byBody(live._id)).toMatchObject({ redrive: "redrive", jobId: live._id });
    expect(byBody(done._id)).toMatchObject({
      redrive: "drop",
      jobStatus: "completed",
      reason: `job ${done._id} is already completed`,
    });
    // Peeking left them in place, visible at once.
    expect((await conn.ops.laneStats()).find((lane) => lane.lane === "low")?.deadLetters).toBe(3);
    expect(await conn.ops.deadLetters({ lane: "low" })).toHaveLength(3);

    const progress: number[] = [];
    const report = await conn.ops.redriveDeadLetters({
      lanes: ["low"],
      onMessage: (n) => progress.push(n),
    });
    expect(report.redriven).toEqual([{ jobId: live._id, lane: "low" }]);
    expect(report.dropped.map((d) => d.reason).sort()).toEqual(
      [`job ${done._id} is already completed`, "not a job message"].sort(),
    );
    expect(progress).toEqual([1, 2, 3]);
    expect(await conn.ops.deadLetters({ lane: "low" })).toEqual([]);
  });
});

describe("overview", () => {
  it("counts open jobs exactly and recent ones by status, with throughput, failure rate and p50/p95", async () => {
    // With the 3 of the tests above: 9 jobs of lanes/work, all completed within the hour.
    for (let i = 0; i < 6; i += 1) await api().scheduleJob({ type: "lanes/work", data: { i } });
    for (let i = 0; i < 2; i += 1)
      await api().scheduleJob({ type: "lanes/fail", data: { i }, retry: { retries: 0 } });
    // Its worker is paused (above): it stays open, ready, as the dead letters test's job does.
    await api().scheduleJob({ type: "lanes/held", data: {}, priority: "low" });
    await waitUntil(async () => {
      const page = await conn.ops.listJobs({ type: "lanes/fail", statuses: ["failed"] });
      return page.jobs.length === 2;
    });
    await waitUntil(async () => {
      const page = await conn.ops.listJobs({ type: "lanes/work", statuses: ["completed"] });
      return page.jobs.length === 9;
    });
    const overview = await conn.ops.overview();
    const work = overview.types.find((t) => t.type === "lanes/work");
    expect(work).toMatchObject({ open: 0, recentByStatus: { completed: 9 }, recentCapped: false });
    expect(overview.types.find((t) => t.type === "lanes/held")).toMatchObject({
      open: 2,
      openByStatus: { ready: 2 },
      openSampled: 2,
    });
    const failing = overview.types.find((t) => t.type === "lanes/fail");
    expect(failing?.recentByStatus).toEqual({ failed: 2 });
    const row = overview.byType.find((r) => r.key === "lanes/work");
    // The run and wait figures are the nearest-rank percentiles of the 9 attempts the records keep.
    const page = await conn.ops.listJobs({ type: "lanes/work", statuses: ["completed"] });
    const attempts = (
      await Promise.all(page.jobs.map((job) => backend.system.deps.store.getJob(job.id)))
    ).flatMap((record) => record?.attempts ?? []);
    expect(attempts).toHaveLength(9);
    const runs = attempts.map((attempt) => attempt.endedAt - attempt.startedAt);
    const waits = attempts.map((attempt) => attempt.waitMs as number);
    expect(row).toEqual({
      key: "lanes/work",
      completed: 9,
      failed: 0,
      failureRate: 0,
      throughputPerMinute: 9 / 60,
      runP50: nearestRank(runs, 50),
      runP95: nearestRank(runs, 95),
      waitP50: nearestRank(waits, 50),
      waitP95: nearestRank(waits, 95),
    });
    expect(overview.byType.find((r) => r.key === "lanes/fail")).toMatchObject({
      completed: 0,
      failed: 2,
      failureRate: 1,
    });
    // One of them was critical (the first test's).
    expect(overview.byLane.find((r) => r.key === "normal")?.completed).toBe(8);
    expect(overview.byLane.find((r) => r.key === "critical")?.completed).toBe(1);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum(overview.series.completed)).toBe(9);
    expect(sum(overview.series.failed)).toBe(2);
    expect(overview.series.minutes).toHaveLength(61);
    expect(overview.lanes).toHaveLength(3);
    expect(overview.read).toBeGreaterThan(0);
  });
});

/** The nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
function nearestRank(values: number[], p: number): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}
