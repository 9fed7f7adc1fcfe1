import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobValidationError } from "../../lib/errors.ts";
import { type Connection, connect, stackInfoOfApp } from "../../lib/ops/connect.ts";
import type { JobSummary } from "../../lib/ops/types.ts";
import { useLocalApp, waitForStatus, waitUntil } from "../support/local-app.ts";
import { connectTo, opsPlugin } from "./support.ts";

/**
 * The operations on jobs against the local stack, through their own clients and job system
 * (as `bgjobs` runs them): lists, search, detail, single and bulk actions.
 */
const local = useLocalApp({}, [opsPlugin]);
let conn: Connection;
beforeAll(() => {
  conn = connectTo(local.app);
});
afterAll(() => conn?.close());

const jobs = () => local.app.context.backgroundJobs;

async function failedJobs(count: number, data: Record<string, unknown> = {}) {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const job = await jobs().scheduleJob({
      type: "ops/flaky",
      data: { failures: 1, error: `boom ${i}`, ...data },
      retry: { retries: 0 },
    });
    ids.push(job._id);
  }
  for (const id of ids) await waitForStatus(local.app, id, "failed");
  return ids;
}

async function allPages(
  filter: Parameters<Connection["ops"]["listJobs"]>[0],
  limit: number,
): Promise<JobSummary[]> {
  const seen: JobSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await conn.ops.listJobs(filter, { limit, ...(cursor ? { cursor } : {}) });
    expect(page.jobs.length).toBeLessThanOrEqual(limit);
    seen.push(...page.jobs);
    cursor = page.cursor;
  } while (cursor);
  return seen;
}

describe("lists", () => {
  it("pages every type's jobs newest first with a cursor, none twice, none skipped", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 13; i += 1) {
      const type = i % 2 ? "ops/quick" : "ops/held";
      ids.push((await jobs().scheduleJob({ type, data: { shopId: `shop-${i % 3}`, i } }))._id);
    }
    const listed = (await allPages({}, 4)).filter((job) => ids.includes(job.id));
    expect(listed.map((job) => job.id).sort()).toEqual([...ids].sort());
    const order = listed.map((job) => [Date.parse(job.created), job.id] as const);
    for (let i = 1; i < order.length; i += 1) {
      const [prev, cur] = [order[i - 1], order[i]] as [(typeof order)[0], (typeof order)[0]];
      expect(prev[0] > cur[0] || (prev[0] === cur[0] && prev[1] > cur[1])).toBe(true);
    }
    // By tenant, across types; by type and tenant.
    const shop1 = (await allPages({ tenant: "shop-1" }, 3)).filter((j) => ids.includes(j.id));
    expect(shop1.map((j) => j.id).sort()).toEqual(ids.filter((_, i) => i % 3 === 1).sort());
    const quickShop1 = await allPages({ type: "ops/quick", tenant: "shop-1" }, 10);
    expect(quickShop1.map((j) => j.id).sort()).toEqual(
      ids.filter((_, i) => i % 3 === 1 && i % 2 === 1).sort(),
    );
  });

  it("finds what is running from the open index, without reading the type's finished jobs", async () => {
    for (let i = 0; i < 30; i += 1) await jobs().scheduleJob({ type: "ops/hang", data: { i } });
    await waitUntil(async () => {
      const page = await conn.ops.listJobs({ type: "ops/hang", statuses: ["running"] });
      return page.jobs.length === 5;
    });
    // Cancel all but the running ones: 25 cancelled, 5 running.
    const report = await conn.ops.act({
      action: "cancel",
      target: { filter: { type: "ops/hang" } },
    });
    expect(report).toMatchObject({ changed: 25, skipped: 5, skippedBecause: { "is running": 5 } });
    const running = await conn.ops.listJobs({ type: "ops/hang", statuses: ["running"] });
    expect(running.jobs).toHaveLength(5);
    expect(running.jobs.every((job) => job.status === "running")).toBe(true);
    // 5 open index entries and 5 records: none of the 25 cancelled ones.
    expect(running.read).toBe(10);
    const cancelled = await conn.ops.listJobs({ type: "ops/hang", statuses: ["cancelled"] });
    expect(cancelled.jobs).toHaveLength(20);
    expect(cancelled.cursor).toBeDefined();
    // Stop them for the next tests, running ones included.
    const stopped = await conn.ops.act({
      action: "cancel",
      target: { filter: { type: "ops/hang", statuses: ["running"] } },
      includeRunning: true,
    });
    expect(stopped.changed).toBe(5);
  });

  it("searches one data key=value within a type and says how many records it read", async () => {
    const wanted = await jobs().scheduleJob({
      type: "ops/quick",
      data: { order: { id: 4242 }, shopId: "shop-x" },
    });
    for (let i = 0; i < 5; i += 1)
      await jobs().scheduleJob({ type: "ops/quick", data: { order: { id: i } } });
    const page = await conn.ops.listJobs({ type: "ops/quick", data: "order.id=4242" });
    expect(page.jobs.map((job) => job.id)).toEqual([wanted._id]);
    expect(page.read).toBeGreaterThanOrEqual(6);
    const byString = await conn.ops.listJobs({ type: "ops/quick", data: "data.shopId=shop-x" });
    expect(byString.jobs.map((job) => job.id)).toEqual([wanted._id]);
    await expect(conn.ops.listJobs({ data: "order.id=1" })).rejects.toMatchObject({
      name: "JobValidationError",
      field: "data",
    });
    await expect(conn.ops.listJobs({ statuses: ["done" as never] })).rejects.toThrow(
      /statuses: "done" is not a status/,
    );
    await expect(conn.ops.listJobs({}, { cursor: "nonsense" })).rejects.toBeInstanceOf(
      JobValidationError,
    );
  });
});

describe("detail and single actions", () => {
  it("shows each attempt and the operator's retry in the audit trail", async () => {
    const [id] = (await failedJobs(1, { error: "smtp refused" })) as [string];
    const before = await conn.ops.getJob(id);
    expect(before?.attemptHistory).toEqual([
      expect.objectContaining({ outcome: "failed", error: "smtp refused" }),
    ]);
    expect(before?.lastError).toBe("smtp refused");
    const report = await conn.ops.act({ action: "retry", target: { ids: [id] } });
    expect(report).toMatchObject({ matched: 1, changed: 1, changedIds: [id] });
    await waitForStatus(local.app, id, "completed");
    const after = await conn.ops.getJob(id);
    expect(after?.attemptHistory.map((a) => a.outcome)).toEqual(["failed", "completed"]);
    expect(after?.audit).toEqual([
      expect.objectContaining({
        actor: "tester@ci",
        action: "retry",
        from: "failed",
        to: "waiting",
      }),
    ]);
    for (const attempt of after?.attemptHistory ?? []) {
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(attempt.runId).toMatch(/^\w{17}$/);
    }
  });

  it("redacts secrets in data, and answers null for an unknown id", async () => {
    const job = await jobs().scheduleJob({
      type: "ops/held",
      data: { to: "a@b.c", smtp: { password: "hunter2", host: "h" }, apiKey: "k" },
    });
    const detail = await conn.ops.getJob(job._id);
    expect(detail?.data).toEqual({
      to: "a@b.c",
      smtp: { password: "[redacted]", host: "h" },
      apiKey: "[redacted]",
    });
    expect(await conn.ops.getJob("NoSuchJob12345678")).toBeNull();
    // A redaction hook of one's own replaces the default one.
    const custom = connect(stackInfoOfApp(local.app), {
      redact: (data, about) => ({ to: String(data.to).replace(/@.*/, "@…"), type: about.type }),
    });
    try {
      expect((await custom.ops.getJob(job._id))?.data).toEqual({ to: "a@…", type: "ops/held" });
    } finally {
      custom.close();
    }
  });

  it("reschedules priority and due time, moving the job's lane, with the change in the audit", async () => {
    const job = await jobs().scheduleJob({ type: "ops/held", data: {} });
    const due = Date.now() + 3_600_000;
    const report = await conn.ops.act({
      action: "reschedule",
      target: { ids: [job._id] },
      params: { priority: "critical", after: new Date(due).toISOString(), retries: 4 },
    });
    expect(report.changed).toBe(1);
    const detail = await conn.ops.getJob(job._id);
    expect(detail).toMatchObject({
      lane: "critical",
      priority: -15,
      status: "waiting",
      attemptsLeft: 4,
      after: new Date(due).toISOString(),
    });
    expect(detail?.audit[0]?.detail).toContain("priority 0 -> -15 (critical)");
    // Pause, resume, promote (run now), then delete after a cancel.
    for (const [action, status] of [
      ["pause", "paused"],
      ["resume", "waiting"],
      ["promote", "ready"],
      ["cancel", "cancelled"],
    ] as const) {
      const done = await conn.ops.act({ action, target: { ids: [job._id] } });
      expect(done.changed, action).toBe(1);
      expect((await conn.ops.getJob(job._id))?.status, action).toBe(status);
    }
    expect((await conn.ops.getJob(job._id))?.audit.map((a) => a.action)).toEqual([
      "reschedule",
      "pause",
      "resume",
      "promote",
      "cancel",
    ]);
    const deleted = await conn.ops.act({ action: "delete", target: { ids: [job._id] } });
    expect(deleted.changed).toBe(1);
    expect(await conn.ops.getJob(job._id)).toBeNull();
  });

  it("refuses bad input naming the field, and changes nothing", async () => {
    const job = await jobs().scheduleJob({ type: "ops/held", data: {} });
    const bad = [
      { action: "explode", target: { ids: [job._id] } },
      { action: "reschedule", target: { ids: [job._id] } },
      { action: "reschedule", target: { ids: [job._id] }, params: { priority: "urgent" } },
      { action: "reschedule", target: { ids: [job._id] }, params: { after: "soonish" } },
      { action: "retry", target: { ids: [] } },
      { action: "retry", target: {} },
    ];
    const fields: string[] = [];
    for (const request of bad) {
      const error = await conn.ops.act(request as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobValidationError);
      fields.push((error as JobValidationError).field);
    }
    expect(fields).toEqual([
      "action",
      "params",
      "params.priority",
      "params.after",
      "target.ids",
      "target",
    ]);
    const after = await conn.ops.getJob(job._id);
    expect(after).toMatchObject({ status: "ready", priority: 0, audit: [] });
  });
});

describe("bulk actions", () => {
  it("counts before confirming, then retries every matching failed job once, in batches with progress", async () => {
    const ids = await failedJobs(120, { shopId: "bulk-shop" });
    const request = {
      action: "retry" as const,
      target: { filter: { type: "ops/flaky", tenant: "bulk-shop", statuses: ["failed" as const] } },
    };
    const count = await conn.ops.countMatching(request);
    expect(count).toMatchObject({ matched: 120, wouldChange: 120, capped: false });
    const dry = await conn.ops.act({ ...request, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, matched: 120, changed: 120 });
    expect((await conn.ops.getJob(ids[0] as string))?.status).toBe("failed");
    const progress: number[] = [];
    const report = await conn.ops.act(request, {
      onProgress: (so) => progress.push(so.matched),
    });
    expect(report).toMatchObject({ matched: 120, changed: 120, skipped: 0, failed: 0 });
    expect(report.changedIds.sort()).toEqual([...ids].sort());
    expect(progress).toEqual([100, 120]);
    for (const id of ids) await waitForStatus(local.app, id, "completed");
    // Again: nothing failed is left, so nothing is retried twice.
    expect((await conn.ops.act(request)).matched).toBe(0);
  });

  it("stops between batches when interrupted, and says so", async () => {
    await failedJobs(150, { shopId: "stop-shop" });
    const abort = new AbortController();
    const report = await conn.ops.act(
      {
        action: "delete",
        target: { filter: { type: "ops/flaky", tenant: "stop-shop", statuses: ["failed"] } },
      },
      { signal: abort.signal, onProgress: () => abort.abort() },
    );
    expect(report).toMatchObject({ interrupted: true, matched: 100, changed: 100 });
    const left = await conn.ops.countMatching({
      action: "delete",
      target: { filter: { type: "ops/flaky", tenant: "stop-shop" } },
    });
    expect(left.matched).toBe(50);
  });
});
