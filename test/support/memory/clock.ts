import type { Clock } from "../../../lib/jobs/deps.ts";

interface Timer {
  at: number;
  seq: number;
  fire(): void;
}

/** Rounds of `setImmediate` per flush: each drains every queued microtask chain. */
const FLUSH_ROUNDS = 3;
/** More steps than this at one instant is a loop that never waits (e.g. `sleep(0)` forever). */
const MAX_STEPS_PER_INSTANT = 10_000;

/**
 * A clock that moves only when a test says so. `sleep` registers a timer; `advance` moves time
 * to each pending timer in order, resolving it and letting everything it wakes run before the
 * next, so a test sees exactly the interleavings real time could produce, without waiting.
 *
 * @example
 * const clock = new FakeClock();
 * const slept = clock.sleep(5_000);
 * await clock.advance(5_000); // `slept` has resolved, clock.now() is 5 s later
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Timer[] = [];
  /** Bumped whenever a timer is registered: a flush that registered one is not yet quiet. */
  private registered = 0;

  constructor(start: number = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer: Timer = {
        at: this.time + Math.max(0, Number.isFinite(ms) ? ms : 0),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
      this.registered += 1;
    });
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the earliest pending timer fires, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    return this.earliest()?.at;
  }

  /**
   * Moves time forward by `ms`, stopping at each pending timer on the way (in time order,
   * then in the order they were set): time is set to its instant, it fires, and everything it
   * wakes runs (`settle`) before the next one.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + Math.max(0, ms);
    await this.settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.time = Math.max(this.time, next.at);
      await this.settle();
    }
    this.time = target;
    await this.settle();
  }

  /** Moves time to `instant` (epoch ms), like `advance`. */
  async advanceTo(instant: number): Promise<void> {
    await this.advance(instant - this.time);
  }

  /**
   * Lets everything runnable run: flushes microtasks and immediates, and fires timers due now,
   * until only future timers are pending.
   */
  async settle(): Promise<void> {
    for (let step = 0; step < MAX_STEPS_PER_INSTANT; step += 1) {
      const before = this.registered;
      for (let round = 0; round < FLUSH_ROUNDS; round += 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const due = this.earliest();
      if (due && due.at <= this.time) {
        this.timers = this.timers.filter((t) => t !== due);
        due.fire();
        continue;
      }
      if (this.registered === before) return;
    }
    throw new Error(
      `FakeClock.settle: still busy after ${MAX_STEPS_PER_INSTANT} steps at ${new Date(this.time).toISOString()} (a loop that never waits?)`,
    );
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers) {
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq))
        best = timer;
    }
    return best;
  }
}
