import { GetScheduleCommand } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recurringName } from "../../lib/jobs/keys.ts";
import type { Connection } from "../../lib/ops/connect.ts";
import { useLocalApp, waitForStatus, waitUntil } from "../support/local-app.ts";
import { connectTo, opsPlugin } from "./support.ts";

/** Repeating jobs as operators see and steer them, on the local stack's Scheduler server. */
const local = useLocalApp({}, [opsPlugin]);
let conn: Connection;
beforeAll(() => {
  conn = connectTo(local.app, "ops@ci");
});
afterAll(() => conn?.close());

const jobs = () => local.app.context.backgroundJobs;

async function schedulerState(name: string) {
  const schedule = await local.scheduler.send(
    new GetScheduleCommand({ Name: name, GroupName: local.app.localScheduling.scheduleGroup }),
  );
  return schedule.State;
}

describe("schedules", () => {
  it("lists each template with its EventBridge form or chained, warnings and next 5 fire times", async () => {
    const daily = await jobs().scheduleJob({
      type: "ops/quick",
      data: { shopId: "s1" },
      schedule: "every 24 hours",
    });
    const chained = await jobs().scheduleJob({
      type: "ops/quick",
      data: { shopId: "s2" },
      schedule: "every 2 weeks",
    });
    const odd = await jobs().scheduleJob({
      type: "ops/quick",
      data: { shopId: "s3" },
      schedule: "every 90 minutes",
    });
    const { schedules, orphans } = await conn.ops.listSchedules();
    const byId = new Map(schedules.map((s) => [s.id, s]));
    expect(byId.get(daily._id)).toMatchObject({
      text: "every 24 hours",
      eventBridge: "cron(0 0 * * ? *)",
      scheduler: { name: recurringName(daily._id), state: "ENABLED" },
      status: "waiting",
      tenant: "s1",
      warnings: [],
    });
    expect(byId.get(daily._id)?.next).toHaveLength(5);
    expect(byId.get(daily._id)?.next.every((t) => t.endsWith("T00:00:00.000Z"))).toBe(true);
    expect(byId.get(chained._id)).toMatchObject({ eventBridge: "chained" });
    expect(byId.get(chained._id)?.chainedBecause).toBeTruthy();
    expect(byId.get(odd._id)?.warnings.join(" ")).toMatch(
      /does not fire at a fixed 90 minute period in later.js: gaps are 1 h/,
    );
    expect(orphans).toEqual([]);

    const next = await conn.ops.scheduleNext("at 5:00 pm on Mon-Fri");
    expect(next.eventBridge).toBe("cron(0 17 ? * 2-6 *)");
    expect(next.next).toHaveLength(5);
    expect((await conn.ops.scheduleNext(daily._id)).text).toBe("every 24 hours");
    await expect(conn.ops.scheduleNext("foo bar")).rejects.toMatchObject({ field: "schedule" });
  });

  it("pauses a schedule without deleting it (State DISABLED), resumes it, and audits both", async () => {
    const template = await jobs().scheduleJob({
      type: "ops/quick",
      data: { shopId: "p1" },
      schedule: "every 1 minute",
    });
    const name = recurringName(template._id);
    expect(await schedulerState(name)).toBe("ENABLED");
    expect(await conn.ops.scheduleAction(template._id, "pause")).toMatchObject({
      outcome: "changed",
      from: "waiting",
      to: "paused",
    });
    expect(await schedulerState(name)).toBe("DISABLED");
    const paused = (await conn.ops.listSchedules()).schedules.find((s) => s.id === template._id);
    expect(paused).toMatchObject({ status: "paused", scheduler: { state: "DISABLED" } });
    expect(await conn.ops.scheduleAction(template._id, "pause")).toMatchObject({
      outcome: "skipped",
    });
    expect(await conn.ops.scheduleAction(template._id, "resume")).toMatchObject({
      outcome: "changed",
      to: "waiting",
    });
    expect(await schedulerState(name)).toBe("ENABLED");
    const detail = await conn.ops.getJob(template._id);
    expect(Date.parse(detail?.after ?? "")).toBeGreaterThan(Date.now());
    expect(detail?.audit.map((a) => `${a.actor} ${a.action} ${a.from}->${a.to}`)).toEqual([
      "ops@ci pause waiting->paused",
      "ops@ci resume paused->waiting",
    ]);
  });

  it("triggers a template now: one occurrence runs, and cancel deletes its schedule", async () => {
    const template = await jobs().scheduleJob({
      type: "ops/quick",
      data: { shopId: "t1" },
      schedule: "every 24 hours",
    });
    const fired = await conn.ops.scheduleAction(template._id, "trigger");
    expect(fired.outcome).toBe("changed");
    expect(fired.id.startsWith(`${template._id}-`)).toBe(true);
    await waitForStatus(local.app, fired.id, "completed");
    const view = (await conn.ops.listSchedules()).schedules.find((s) => s.id === template._id);
    expect(view?.lastOccurrence).toEqual({ id: fired.id, status: "completed" });
    expect((await conn.ops.getJob(template._id))?.audit.at(-1)).toMatchObject({
      action: "trigger",
      detail: `occurrence ${fired.id}`,
    });

    expect(await conn.ops.scheduleAction(template._id, "cancel")).toMatchObject({
      outcome: "changed",
      to: "cancelled",
    });
    await expect(schedulerState(recurringName(template._id))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    expect((await conn.ops.listSchedules()).schedules.map((s) => s.id)).not.toContain(template._id);
    expect(await conn.ops.scheduleAction("NoSuchTemplate123", "pause")).toMatchObject({
      outcome: "skipped",
      reason: "no repeating job with this id",
    });
  });

  it("does not fire a paused template, and does not overlap a running occurrence", async () => {
    const template = await jobs().scheduleJob({
      type: "ops/hang",
      data: { shopId: "h1" },
      schedule: "every 24 hours",
    });
    const first = await conn.ops.scheduleAction(template._id, "trigger");
    await waitForStatus(local.app, first.id, "running");
    await waitUntil(async () => {
      const again = await conn.ops.scheduleAction(template._id, "trigger");
      return again.outcome === "skipped" && /still running/.test(again.reason ?? "");
    });
    await conn.ops.act({ action: "cancel", target: { ids: [first.id] }, includeRunning: true });
    await conn.ops.scheduleAction(template._id, "pause");
    expect(await conn.ops.scheduleAction(template._id, "trigger")).toMatchObject({
      outcome: "skipped",
      reason: "is paused (resume it first)",
    });
    await conn.ops.scheduleAction(template._id, "cancel");
  });
});
