import { afterEach, describe, expect, it } from "vitest";
import { cancelRecord } from "../../lib/jobs/cancel.ts";
import { control, rerun, restart } from "../../lib/jobs/control.ts";
import { MAX_ATTEMPTS_KEPT, MAX_AUDIT_KEPT } from "../../lib/jobs/records.ts";
import { type JobRecord, toDoc } from "../../lib/jobs/types.ts";
import { World } from "./world.ts";

/**
 * Each record keeps its last attempts (start, end, outcome, error, run id, wait) and what
 * operators did to it: written in the same conditional write as the settle or the action,
 * so a lost race writes neither.
 */
let world: World;
afterEach(() => {
  world.stop();
  expect(world.violations).toEqual([]);
});

async function scheduled(type: "A" | "B", plan: string[], options: Record<string, unknown> = {}) {
  const job = await world.api.scheduleJob({ type, data: { shopId: "s1", plan }, ...options });
  world.madeLive(job._id);
  return job;
}

function record(id: string): JobRecord {
  const found = world.record(id);
  if (!found) throw new Error(`no record ${id}`);
  return found;
}

/** A `Job` handle on the record as stored now (what an operator acts on). */
function handle(id: string) {
  return world.deps.jobs.of(toDoc(record(id)));
}

const operator = { actor: "ada@laptop", action: "retry" };

describe("attempt history", () => {
  it("lists every attempt with its run, times, wait and outcome, matching the failures", async () => {
    world = new World();
    const job = await scheduled("B", ["fail", "throw", "done"], {
      retry: { retries: 5, wait: 1000 },
    });
    await world.advance(10_000);
    const stored = record(job._id);
    expect(stored.status).toBe("completed");
    expect(stored.attempts?.map((a) => a.outcome)).toEqual(["retrying", "retrying", "completed"]);
    expect(stored.attempts?.map((a) => a.error)).toEqual([
      "planned failure",
      "planned throw",
      undefined,
    ]);
    expect(stored.attempts?.slice(0, 2).map((a) => a.runId)).toEqual(
      stored.failures.map((f) => f.runId),
    );
    for (const attempt of stored.attempts ?? []) {
      expect(attempt.endedAt).toBeGreaterThanOrEqual(attempt.startedAt);
      expect(attempt.waitMs).toBeGreaterThanOrEqual(0);
    }
    // The second attempt waited out the 1 s backoff after the first ended.
    const [first, second] = stored.attempts ?? [];
    expect(second?.startedAt).toBeGreaterThanOrEqual((first?.endedAt ?? 0) + 1000);
  });

  it("says `timed out` for a run past its workTimeout and for a run whose process died", async () => {
    world = new World();
    const hung = await scheduled("B", ["hang"], { retry: { retries: 0 } });
    await world.pump();
    await world.advance(31_000);
    expect(record(hung._id).attempts?.map((a) => a.outcome)).toEqual(["timed out"]);

    const orphan = await scheduled("B", ["hang"], { retry: { retries: 0 } });
    await world.pump();
    const claimedAt = record(orphan._id).runStartedAt;
    world.crash();
    // Its lease (30 s) ends; the reconciler finds it once it is due past staleAfter (60 s).
    await world.advance(100_000);
    await world.reconcile();
    const [attempt] = record(orphan._id).attempts ?? [];
    expect(attempt?.outcome).toBe("timed out");
    expect(attempt?.startedAt).toBe(claimedAt);
    expect(attempt?.error).toMatch(/workTimeout/);
  });

  it("says `cancelled` for the run a cancel ended, under that run's id", async () => {
    world = new World();
    const job = await scheduled("B", ["hang"]);
    await world.pump();
    const runId = record(job._id).runId;
    await world.cancelJobs({ _id: job._id });
    const stored = record(job._id);
    expect(stored.status).toBe("cancelled");
    expect(stored.attempts).toEqual([expect.objectContaining({ runId, outcome: "cancelled" })]);
  });

  it(`keeps the last ${MAX_ATTEMPTS_KEPT} attempts`, async () => {
    world = new World();
    const plan = Array.from({ length: 25 }, () => "fail");
    const job = await scheduled("B", plan, { retry: { retries: 30, wait: 1000 } });
    for (let step = 0; step < 40; step += 1) await world.advance(2000);
    const stored = record(job._id);
    expect(stored.retried).toBeGreaterThanOrEqual(26);
    expect(stored.attempts).toHaveLength(MAX_ATTEMPTS_KEPT);
    expect(stored.attempts?.at(-1)?.outcome).toBe("completed");
    expect(stored.attempts?.at(-1)?.runId).toBe(stored.runId ?? stored.attempts?.at(-1)?.runId);
  });

  it("is not copied to an occurrence or a rerun", async () => {
    world = new World();
    const job = await scheduled("B", ["fail", "done"], { retry: { retries: 1, wait: 1000 } });
    await world.advance(5000);
    await world.store.transition(job._id, ["completed"], {
      status: "completed",
      audit: [{ at: 1, actor: "x", action: "y", from: "failed", to: "waiting" }],
    });
    const copy = await rerun(world.deps, handle(job._id));
    expect(copy).toBeTypeOf("string");
    const fresh = record(copy as string);
    expect(fresh.attempts).toBeUndefined();
    expect(fresh.audit).toBeUndefined();
  });
});

describe("operator audit trail", () => {
  it("records who did what, from which status to which, in the action's own write", async () => {
    world = new World();
    const job = await scheduled("B", ["fatal", "done"]);
    await world.pump();
    world.madeLive(job._id);
    expect(await restart(world.deps, handle(job._id), 1, operator)).toBe(true);
    await world.pump();
    const stored = record(job._id);
    expect(stored.status).toBe("completed");
    expect(stored.audit).toEqual([
      {
        at: expect.any(Number),
        actor: "ada@laptop",
        action: "retry",
        from: "failed",
        to: "waiting",
      },
    ]);
  });

  it("writes nothing for an action that did not apply", async () => {
    world = new World();
    const job = await scheduled("B", []);
    await world.pump();
    const act = { actor: "ada", action: "pause" };
    expect(await control(world.deps, handle(job._id), "pause", act)).toBe(false);
    expect(record(job._id).audit).toBeUndefined();
  });

  it("keeps pause, resume and cancel with their detail, and the last 50 only", async () => {
    world = new World();
    const job = await scheduled("B", [], { retry: { retries: 0 } });
    for (let i = 0; i < 30; i += 1) {
      expect(
        await control(world.deps, handle(job._id), "pause", { actor: "ada", action: "pause" }),
      ).toBe(true);
      expect(
        await control(world.deps, handle(job._id), "resume", {
          actor: "bob",
          action: "resume",
          detail: `round ${i}`,
        }),
      ).toBe(true);
    }
    world.intendCancel({ _id: job._id });
    expect(
      await cancelRecord(world.deps, record(job._id), { actor: "cy", action: "cancel" }),
    ).not.toBeNull();
    const audit = record(job._id).audit ?? [];
    expect(audit).toHaveLength(MAX_AUDIT_KEPT);
    expect(audit.at(-1)).toMatchObject({ actor: "cy", action: "cancel", to: "cancelled" });
    expect(audit.at(-2)).toMatchObject({ actor: "bob", detail: "round 29", from: "paused" });
    expect(audit[0]?.detail).toBe("round 5");
  });
});
