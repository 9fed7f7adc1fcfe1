import { describe, expect, it } from "vitest";
import type { JobValidationError } from "../../lib/errors.ts";
import { FOREVER } from "../../lib/jobs/retry.ts";
import { PROMOTER_FAILURE, planDocument, type RepeatPlan } from "../../lib/migrate/plan.ts";
import { laterObjectText } from "../../lib/schedule/later-object.ts";
import { laterFireTimes, laterSchedule, parseScheduleText } from "../../lib/schedule/later-text.ts";

// What one job-collection document becomes, without a store: the rules behind the
// integration test (test/integration/migrate.test.ts), case by case.
const now = Date.UTC(2026, 11, 5, 8, 0, 0);
const context = { now, tenants: new Map<string, string>(), cleanup: new Map<string, number>() };
const base = {
  type: "t",
  data: { shopId: "s1" },
  retries: 1,
  retried: 0,
  retryWait: 1000,
  retryBackoff: "constant",
  created: new Date(now - 60_000),
  after: new Date(now - 60_000),
};
const plan = (doc: Record<string, unknown>, ctx = context) =>
  planDocument({ _id: "j1", ...base, ...doc }, ctx);
const fieldOf = (doc: Record<string, unknown>) => {
  try {
    plan(doc);
  } catch (error) {
    return (error as JobValidationError).field;
  }
  return "no error";
};

describe("planDocument", () => {
  it("a run left by a dead server fails as the promoter does: exponential wait from expiresAfter, or failed when retryUntil comes first", () => {
    const running = {
      status: "running",
      runId: "r9",
      retries: 2,
      retried: 3,
      retryBackoff: "exponential",
      expiresAfter: new Date(now + 10_000),
    };
    const retry = plan(running);
    expect(retry).toMatchObject({ kind: "job", status: "running" });
    if (retry.kind !== "job") throw new Error("a job");
    // Failed at its expiry (later than now), then 1000 x 2^(3-1).
    expect(retry.record).toMatchObject({ status: "waiting", after: now + 14_000, runId: null });
    expect(retry.record.failures).toEqual([{ value: PROMOTER_FAILURE, runId: "r9" }]);
    const cutOff = plan({ ...running, retryUntil: new Date(now + 12_000) });
    expect(cutOff.kind === "job" && cutOff.record.status).toBe("failed");
  });

  it("job-collection's Job.forever is FOREVER; Dates in data become ISO text", () => {
    const p = plan({ status: "waiting", retries: 2 ** 53, data: { at: new Date(0) } });
    expect(p.kind === "job" && p.record).toMatchObject({
      retries: FOREVER,
      status: "ready",
      data: { at: "1970-01-01T00:00:00.000Z" },
    });
  });

  it("a finished job gets its cleanup TTL from `updated`, and is not imported once that has passed", () => {
    const cleanup = new Map([["t", 3]]);
    const fresh = plan(
      { status: "completed", updated: new Date(now - 86_400_000) },
      { ...context, cleanup },
    );
    expect(fresh.kind === "job" && fresh.record.expiresAt).toBe(
      (now - 86_400_000) / 1000 + 3 * 86_400,
    );
    const old = plan(
      { status: "completed", updated: new Date(now - 4 * 86_400_000) },
      { ...context, cleanup },
    );
    expect(old.kind).toBe("expired");
  });

  it("a repeating job with exceptions is a chained template; a paused one stays paused", () => {
    const repeatWait = { schedules: [{ h: [9] }], exceptions: [{ d: [1, 7] }] };
    const p = plan({
      status: "waiting",
      repeats: 2 ** 53,
      repeatWait,
      after: new Date(now + 3_600_000),
    }) as RepeatPlan;
    expect(p).toMatchObject({ kind: "repeat", due: false, form: { kind: "chain" } });
    expect(p.template.repeat?.schedule).toBe(laterObjectText(repeatWait));
    const paused = plan({ status: "paused", repeats: 2 ** 53, repeatWait }) as RepeatPlan;
    expect(paused.template.status).toBe("paused");
  });

  it("a repeating job's running occurrence is kept as the occurrence of the instant it ran for, the template armed for the next", () => {
    const p = plan({
      status: "running",
      runId: "r1",
      repeats: 2 ** 53,
      repeatWait: { schedules: [{ m: [0] }], exceptions: [] },
      after: new Date(Date.UTC(2026, 11, 5, 7, 0, 0)),
    }) as RepeatPlan;
    expect(p.occurrence).toMatchObject({
      _id: "j1-20261205T070000Z",
      templateId: "j1",
      status: "waiting",
      failures: [{ value: PROMOTER_FAILURE, runId: "r1" }],
    });
    expect(p.template).toMatchObject({
      status: "waiting",
      after: Date.UTC(2026, 11, 5, 9, 0, 0),
      lastOccurrenceId: "j1-20261205T070000Z",
    });
  });

  it("names the field of a document it cannot import", () => {
    expect(fieldOf({ status: "lost" })).toBe("status");
    expect(fieldOf({ status: "waiting", _id: 42 })).toBe("_id");
    expect(fieldOf({ status: "waiting", data: { id: new (class ObjectID {})() } })).toBe("data.id");
    expect(fieldOf({ status: "waiting", repeats: 5, repeatWait: 60_000 })).toBe("repeatWait");
    expect(fieldOf({ status: "waiting", repeats: 5, repeatWait: { schedules: [] } })).toBe(
      "repeatWait.schedules",
    );
    expect(fieldOf({ status: "waiting", priority: "urgent" })).toBe("priority");
    expect(fieldOf({ status: "waiting", after: "tomorrow" })).toBe("after");
  });
});

describe("later's object form as a schedule text", () => {
  it("fires as later.js does for the text it came from", () => {
    const { schedule } = parseScheduleText("at 10:15 am except on Sat and Sun");
    const text = laterObjectText(schedule);
    const from = new Date(now);
    expect(laterFireTimes(laterSchedule(text), from, 10)).toEqual(
      laterFireTimes(schedule, from, 10),
    );
    expect(parseScheduleText(text, from).errorAt).toBe(-1);
  });
});
