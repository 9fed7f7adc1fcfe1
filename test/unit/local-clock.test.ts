/**
 * The local stack's manual clock and the lanes that hold SQS delays on it: no network.
 */
import { describe, expect, it } from "vitest";
import { JobValidationError } from "../../lib/errors.ts";
import type { JobMessage, LaneQueue } from "../../lib/jobs/deps.ts";
import { ManualClock, realLocalClock } from "../../lib/local/clock.ts";
import { ClockHeldLanes } from "../../lib/local/held-lanes.ts";
import type { JobLane } from "../../lib/resources.ts";

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

/** Lanes that record what was sent, with the clock's time it was sent at. */
function recordingLanes(clock: ManualClock) {
  const sent: Array<{ lane: JobLane; id: string; delay: number; at: number }> = [];
  const lanes: LaneQueue = {
    async send(lane, message, delaySeconds) {
      sent.push({ lane, id: message.id, delay: delaySeconds, at: clock.now() });
    },
    async sendMany(lane, messages, delaySeconds) {
      for (const message of messages) await this.send(lane, message, delaySeconds);
    },
  };
  return { lanes, sent };
}

describe("ManualClock", () => {
  it("stands still until moved, then wakes sleepers in time order, each at its instant", async () => {
    const clock = new ManualClock(T0);
    const woke: Array<[string, number]> = [];
    void clock.sleep(2000).then(() => woke.push(["b", clock.now() - T0]));
    void clock.sleep(1000).then(() => woke.push(["a", clock.now() - T0]));
    expect(clock.now()).toBe(T0);
    await clock.advance(1500);
    expect(woke).toEqual([["a", 1000]]);
    expect(clock.now()).toBe(T0 + 1500);
    await clock.set(new Date(T0 + 5000));
    expect(woke).toEqual([
      ["a", 1000],
      ["b", 2000],
    ]);
    expect(clock.now()).toBe(T0 + 5000);
  });

  it("waits for work a wake-up tracked before it resolves", async () => {
    const clock = new ManualClock(T0);
    let delivered = false;
    void clock.sleep(1000).then(() => {
      // Work longer than the clock's own few event-loop turns (as a delivery to SQS is).
      clock.track(
        (async () => {
          for (let turn = 0; turn < 20; turn += 1)
            await new Promise((resolve) => setImmediate(resolve));
          delivered = true;
        })(),
      );
    });
    await clock.advance(1000);
    expect(delivered).toBe(true);
  });

  it("an aborted sleep resolves at once and never fires later", async () => {
    const clock = new ManualClock(T0);
    const abort = new AbortController();
    let woke = 0;
    const slept = clock.sleep(1000, abort.signal).then(() => {
      woke += 1;
    });
    abort.abort();
    await slept;
    await clock.advance(5000);
    expect(woke).toBe(1);
  });

  it("only moves forward; the real clock cannot be moved at all", async () => {
    const clock = new ManualClock(T0);
    await expect(clock.set(T0 - 1)).rejects.toBeInstanceOf(JobValidationError);
    await expect(clock.advance(-1)).rejects.toMatchObject({ field: "ms" });
    await expect(realLocalClock.advance(1000)).rejects.toMatchObject({ field: "clock" });
    expect(realLocalClock.mode).toBe("real");
  });
});

describe("ClockHeldLanes", () => {
  const message = (id: string): JobMessage => ({ id, type: "t" });

  it("sends an undelayed message at once, and holds a delayed one until the clock reaches it", async () => {
    const clock = new ManualClock(T0);
    const { lanes, sent } = recordingLanes(clock);
    const held = new ClockHeldLanes(lanes, clock);
    await held.send("normal", message("now"), 0);
    await held.send("normal", message("later"), 14.2); // SQS rounds up: 15 s
    await held.sendMany("low", [message("m1"), message("m2")], 900);
    expect(sent).toEqual([{ lane: "normal", id: "now", delay: 0, at: T0 }]);
    await clock.advance(14_999);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent[1]).toEqual({ lane: "normal", id: "later", delay: 0, at: T0 + 15_000 });
    await clock.set(T0 + 900_000);
    expect(sent.slice(2)).toEqual([
      { lane: "low", id: "m1", delay: 0, at: T0 + 900_000 },
      { lane: "low", id: "m2", delay: 0, at: T0 + 900_000 },
    ]);
  });

  it("drops what it holds when stopped", async () => {
    const clock = new ManualClock(T0);
    const { lanes, sent } = recordingLanes(clock);
    const held = new ClockHeldLanes(lanes, clock);
    await held.send("critical", message("held"), 5);
    held.stop();
    await clock.advance(60_000);
    expect(sent).toEqual([]);
  });
});
