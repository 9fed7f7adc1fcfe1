/**
 * The in-memory world the model-based lifecycle tests run on: the fake clock, the lanes and the
 * scheduler do what the real services do, in fake time. (The job store has its contract suite
 * in `job-store.test.ts`.)
 */
import { describe, expect, it } from "vitest";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { MemoryScheduler } from "../../lib/memory/scheduler.ts";
import { FakeClock } from "../support/memory/clock.ts";

const T0 = Date.UTC(2026, 0, 1);

describe("FakeClock", () => {
  it("wakes sleepers in time order, each at its own instant, and what they start runs too", async () => {
    const clock = new FakeClock(T0);
    const seen: Array<[string, number]> = [];
    const sleeper = async (name: string, ms: number) => {
      await clock.sleep(ms);
      seen.push([name, clock.now() - T0]);
      await clock.sleep(ms);
      seen.push([`${name} again`, clock.now() - T0]);
    };
    void sleeper("b", 300);
    void sleeper("a", 200);
    await clock.advance(500);
    expect(seen).toEqual([
      ["a", 200],
      ["b", 300],
      ["a again", 400],
    ]);
    expect(clock.now()).toBe(T0 + 500);
    await clock.advance(100);
    expect(seen.at(-1)).toEqual(["b again", 600]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("resolves an aborted sleep at once, without moving time", async () => {
    const clock = new FakeClock(T0);
    const controller = new AbortController();
    let woke = false;
    void clock.sleep(60_000, controller.signal).then(() => {
      woke = true;
    });
    controller.abort();
    await clock.settle();
    expect([woke, clock.now(), clock.pendingTimers]).toEqual([true, T0, 0]);
    await expect(clock.sleep(1000, controller.signal)).resolves.toBeUndefined();
  });

  it("`settle` runs what is due now (a zero sleep) but nothing in the future", async () => {
    const clock = new FakeClock(T0);
    const order: string[] = [];
    void clock.sleep(0).then(() => order.push("now"));
    void clock.sleep(1).then(() => order.push("later"));
    await clock.settle();
    expect(order).toEqual(["now"]);
    expect(clock.nextTimerAt()).toBe(T0 + 1);
  });
});

describe("MemoryLanes", () => {
  it("delays by whole seconds, hides a received message, counts receives", async () => {
    const clock = new FakeClock(T0);
    const lanes = new MemoryLanes(clock);
    await lanes.send("normal", { id: "J1", type: "t" }, 1.2);
    expect(lanes.receive("normal", 10, 30_000)).toEqual([]);
    await clock.advance(2000);
    const [first] = lanes.receive("normal", 10, 30_000);
    expect(first).toMatchObject({ message: { id: "J1", type: "t" }, receiveCount: 1 });
    expect(lanes.receive("normal", 10, 30_000)).toEqual([]);
    await clock.advance(30_000);
    const [second] = lanes.receive("normal", 10, 5000);
    expect(second).toMatchObject({ messageId: first?.messageId, receiveCount: 2 });
    lanes.changeVisibility("normal", second?.messageId ?? "", 0);
    expect(lanes.receive("normal", 10, 5000)).toHaveLength(1);
    expect(lanes.delete("normal", second?.messageId ?? "")).toBe(true);
    expect(lanes.messages("normal")).toEqual([]);
  });

  it("duplicates, fails a send on request, and gives a poison body a null message", async () => {
    const clock = new FakeClock(T0);
    const lanes = new MemoryLanes(clock);
    lanes.duplicateNext();
    await lanes.sendMany(
      "low",
      [
        { id: "A", type: "t" },
        { id: "B", type: "t" },
      ],
      0,
    );
    expect(lanes.messages("low").map((m) => JSON.parse(m.body).id)).toEqual(["A", "A", "B"]);
    lanes.failNext("send");
    await expect(lanes.send("low", { id: "C", type: "t" }, 0)).rejects.toThrow(/send/);
    expect(lanes.messages("low")).toHaveLength(3);
    lanes.put("critical", "not json");
    expect(lanes.receive("critical", 1, 1000)).toEqual([
      expect.objectContaining({ message: null, body: "not json" }),
    ]);
  });

  it("moves a message received too often to the dead letters", async () => {
    const clock = new FakeClock(T0);
    const lanes = new MemoryLanes(clock, { maxReceiveCount: 2 });
    await lanes.send("normal", { id: "J", type: "t" }, 0);
    for (let i = 0; i < 2; i += 1) {
      expect(lanes.receive("normal", 1, 0)).toHaveLength(1);
    }
    expect(lanes.receive("normal", 1, 0)).toEqual([]);
    expect(lanes.deadLetters("normal")).toHaveLength(1);
  });

  it("shuffles a lane with the given randomness", async () => {
    const lanes = new MemoryLanes(new FakeClock(T0));
    const ids = ["A", "B", "C", "D"];
    for (const id of ids) await lanes.send("normal", { id, type: "t" }, 0);
    lanes.shuffle("normal", () => 0);
    expect(lanes.messages("normal").map((m) => JSON.parse(m.body).id)).toEqual([
      "B",
      "C",
      "D",
      "A",
    ]);
  });
});

describe("MemoryScheduler", () => {
  const bodies = (lanes: MemoryLanes) =>
    lanes.messages("normal").map((m) => JSON.parse(m.body) as Record<string, string>);

  it("fires a cron schedule for each instant with EventBridge's firedAt, never twice", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 10, 40, 30));
    const lanes = new MemoryLanes(clock);
    const scheduler = new MemoryScheduler(clock, lanes);
    await scheduler.armRecurring("job-T", "cron(0/7 * * * ? *)", undefined, "normal", {
      id: "T",
      type: "t",
    });
    await clock.advance(10 * 60_000); // to 10:50:30
    expect(scheduler.fireDue()).toBe(2);
    // Re-arming (an update) does not fire 10:42 or 10:49 again.
    await scheduler.armRecurring("job-T", "cron(0/7 * * * ? *)", undefined, "normal", {
      id: "T",
      type: "t",
    });
    await clock.advance(6 * 60_000); // to 10:56:30
    scheduler.fireDue();
    scheduler.fireDue();
    expect(bodies(lanes)).toEqual([
      { id: "T", type: "t", firedAt: "2026-01-01T10:42:00Z" },
      { id: "T", type: "t", firedAt: "2026-01-01T10:49:00Z" },
      { id: "T", type: "t", firedAt: "2026-01-01T10:56:00Z" },
    ]);
  });

  it("fires an at() once, keeping its message, then deletes it; arming the name again is a no-op", async () => {
    const clock = new FakeClock(T0);
    const lanes = new MemoryLanes(clock);
    const scheduler = new MemoryScheduler(clock, lanes);
    const at = new Date(T0 + 3_600_000);
    await scheduler.armOnce("at-J-1", at, "normal", { id: "J", type: "t" });
    await scheduler.armOnce("at-J-1", new Date(T0 + 60_000), "normal", { id: "X", type: "t" });
    expect(scheduler.names()).toEqual(["at-J-1"]);
    await clock.advanceTo(at.getTime() - 1);
    expect(scheduler.fireDue()).toBe(0);
    await clock.advance(1);
    scheduler.fireDue();
    expect(bodies(lanes)).toEqual([{ id: "J", type: "t" }]);
    expect(scheduler.names()).toEqual([]);
  });

  it("driven by the clock: fires as time reaches each instant, and stops when told", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 11, 0, 0));
    const lanes = new MemoryLanes(clock);
    const scheduler = new MemoryScheduler(clock, lanes);
    scheduler.start();
    const start = new Date(Date.UTC(2026, 0, 1, 11, 0, 0));
    await scheduler.armRecurring("job-R", "rate(15 minutes)", start, "normal", {
      id: "R",
      type: "t",
    });
    await clock.advance(20 * 60_000);
    expect(bodies(lanes).map((b) => b.firedAt)).toEqual(["2026-01-01T11:15:00Z"]);
    await clock.advance(10 * 60_000);
    expect(bodies(lanes)).toHaveLength(2);
    scheduler.stop();
    await clock.advance(60 * 60_000);
    expect(bodies(lanes)).toHaveLength(2);
  });

  it("refuses what EventBridge refuses: a bad name or expression", async () => {
    const scheduler = new MemoryScheduler(new FakeClock(T0), new MemoryLanes(new FakeClock(T0)));
    const message = { id: "T", type: "t" };
    await expect(
      scheduler.armRecurring("job T", "rate(5 minutes)", undefined, "normal", message),
    ).rejects.toThrow(/name/);
    await expect(
      scheduler.armRecurring("job-T", "rate(5 mins)", undefined, "normal", message),
    ).rejects.toThrow(/rate/);
    expect(scheduler.names()).toEqual([]);
  });
});
