import { afterEach, describe, expect, it } from "vitest";
import { World } from "./world.ts";

/**
 * `scheduleJob({ type, data, schedule, cancelRepeats: true })` is idempotent by identity: a
 * restart or a redeploy that schedules the same repeating job again keeps it. Reaction
 * cancelled every job of the type and made a new template, losing the running occurrence.
 */
let world: World;
afterEach(() => {
  world.stop();
  expect(world.violations).toEqual([]);
});

/** Awaited with time passing: making a new template waits out the cancel-log cache window. */
const repeating = (data: Record<string, unknown>, schedule = "every 1 minute") =>
  world.meanwhile(world.api.scheduleJob({ type: "B", data, schedule, cancelRepeats: true }));

describe("a repeating job scheduled again with cancelRepeats", () => {
  it("keeps the open template of the same type, data and schedule, its schedule and its running occurrence", async () => {
    world = new World();
    const first = await repeating({ shopId: "s1", plan: ["slow"] });
    world.madeLive(first._id);
    // It fires; its occurrence runs for 20 s.
    await world.advance((world.record(first._id)?.after as number) - world.clock.now() + 1000);
    const running = world.store.all().filter((r) => r.templateId === first._id);
    expect(running.map((r) => r.status)).toEqual(["running"]);
    const schedules = world.scheduler.names();

    // Keys in another order are the same data.
    const again = await repeating({ plan: ["slow"], shopId: "s1" });
    expect(again._id).toBe(first._id);
    expect(world.record(first._id)?.status).toBe("waiting");
    expect(world.record(running[0]?._id as string)?.status).toBe("running");
    expect(world.scheduler.names()).toEqual(schedules);
    await world.advance(30_000);
    expect(world.record(running[0]?._id as string)?.status).toBe("completed");
  });

  it("with other data or another schedule, cancels the type's jobs and makes a new template, as Reaction does", async () => {
    world = new World();
    const first = await repeating({ shopId: "s1" });
    world.madeLive(first._id);
    await world.advance(1000);
    const otherData = await repeating({ shopId: "s2" });
    world.madeLive(otherData._id);
    expect(otherData._id).not.toBe(first._id);
    expect(world.record(first._id)?.status).toBe("cancelled");
    await world.advance(1000);
    const otherSchedule = await repeating({ shopId: "s2" }, "every 2 minutes");
    world.madeLive(otherSchedule._id);
    expect(otherSchedule._id).not.toBe(otherData._id);
    expect(world.record(otherData._id)?.status).toBe("cancelled");
    expect(world.record(otherSchedule._id)?.status).toBe("waiting");
  });

  it("keeps the oldest of identical templates and cancels the others", async () => {
    world = new World();
    // Two made without cancelRepeats (as two servers racing at their first start might).
    const older = await world.meanwhile(
      world.api.scheduleJob({ type: "B", data: {}, schedule: "every 1 minute" }),
    );
    await world.clock.advanceTo(world.clock.now() + 1);
    const newer = await world.meanwhile(
      world.api.scheduleJob({ type: "B", data: {}, schedule: "every 1 minute" }),
    );
    world.madeLive(older._id);
    world.madeLive(newer._id);
    await world.advance(1000);
    const kept = await repeating({});
    expect(kept._id).toBe(older._id);
    expect(world.record(newer._id)?.status).toBe("cancelled");
    expect(world.record(older._id)?.status).toBe("waiting");
  });

  it("does not keep a template a resolved cancelJobs covered while the index hid it: the repeat asked for after it lives", async () => {
    world = new World();
    world.store.indexLagMs = 5000;
    const old = await repeating({});
    world.madeLive(old._id);
    await world.clock.advanceTo(world.clock.now() + 1);
    // The index does not show the template yet: the cancel is logged, applied at claim/firing.
    await world.cancelJobs({ type: "B" });
    await world.advance(6000); // the index has caught up; the reconciler has not run
    const again = await repeating({});
    world.madeLive(again._id);
    expect(world.record(old._id)?.status).toBe("cancelled");
    await world.advance(70_000);
    // The repeat scheduled after the cancel resolved fires: one open template, with an occurrence.
    const open = world.store.all().filter((r) => r.repeat && r.status === "waiting");
    expect(open.map((r) => r._id)).toEqual([again._id]);
    expect(world.store.all().filter((r) => r.templateId === again._id)).toHaveLength(1);
  });

  it("a changed priority or retry is not the same repeating job: the template that says so replaces the old one", async () => {
    world = new World();
    const first = await repeating({ shopId: "s1" });
    world.madeLive(first._id);
    await world.advance(1000);
    const urgent = await world.meanwhile(
      world.api.scheduleJob({
        type: "B",
        data: { shopId: "s1" },
        schedule: "every 1 minute",
        priority: "high",
        cancelRepeats: true,
      }),
    );
    world.madeLive(urgent._id);
    expect(urgent._id).not.toBe(first._id);
    expect(world.record(urgent._id)?.priority).toBe(-10);
    expect(world.record(first._id)?.status).toBe("cancelled");
    await world.advance(1000);
    const retrying = await world.meanwhile(
      world.api.scheduleJob({
        type: "B",
        data: { shopId: "s1" },
        schedule: "every 1 minute",
        priority: "high",
        retry: { retries: 5, wait: 60_000, backoff: "exponential" },
        cancelRepeats: true,
      }),
    );
    world.madeLive(retrying._id);
    expect(retrying._id).not.toBe(urgent._id);
    expect(world.record(retrying._id)?.retryWait).toBe(60_000);
    // And the very same options again keep it.
    await world.advance(1000);
    const same = await world.meanwhile(
      world.api.scheduleJob({
        type: "B",
        data: { shopId: "s1" },
        schedule: "every 1 minute",
        priority: "high",
        retry: { retries: 5, wait: 60_000, backoff: "exponential" },
        cancelRepeats: true,
      }),
    );
    expect(same._id).toBe(retrying._id);
  });

  // Known defect, not fixed: the kept path cancels the other templates the type index shows,
  // and writes nothing to the cancel log, so one made within the index lag survives beside the
  // kept one (two templates of the type). Covering it needs a cancel-log request that spares
  // the kept template and the type's one-off jobs, which the log's filters cannot say yet.
  it.fails("cancels another template of the type made a moment before, which the index does not show yet", async () => {
    world = new World();
    world.store.indexLagMs = 5000;
    const kept = await repeating({ shopId: "s1" });
    world.madeLive(kept._id);
    await world.advance(6000);
    const other = await world.meanwhile(
      world.api.scheduleJob({
        type: "B",
        data: { shopId: "s2" },
        schedule: "every 1 minute",
      }),
    );
    world.madeLive(other._id);
    await world.clock.advanceTo(world.clock.now() + 1);
    expect((await repeating({ shopId: "s1" }))._id).toBe(kept._id);
    await world.advance(70_000);
    expect(world.record(other._id)?.status).toBe("cancelled");
  });
});
