import { ManualClock } from "../../../lib/local/clock.ts";

/**
 * The model check's clock: the local stack's `ManualClock` (one manual clock in the project),
 * stepping to quiet at each timer. `advance` moves time to each pending timer in order and
 * `settle`s there (everything it wakes runs, and what that wakes, until nothing new is
 * registered) before the next, so a test sees exactly the interleavings real time could
 * produce, without waiting. `ManualClock.advance` instead gives each wake-up a few turns and
 * waits for tracked work, as the local stack's servers need.
 *
 * @example
 * const clock = new FakeClock();
 * const slept = clock.sleep(5_000);
 * await clock.advance(5_000); // `slept` has resolved, clock.now() is 5 s later
 */
export class FakeClock extends ManualClock {
  constructor(start: number = Date.UTC(2026, 0, 1)) {
    super(start);
  }

  /** Moves time forward by `ms` (negative: not at all), settling at each timer on the way. */
  override async advance(ms: number): Promise<void> {
    const target = this.now() + Math.max(0, ms);
    await this.settle();
    for (;;) {
      const next = this.nextTimerAt();
      if (next === undefined || next > target) break;
      this.moveTo(next);
      await this.settle();
    }
    this.moveTo(target);
    await this.settle();
  }

  /** Moves time to `instant` (epoch ms), like `advance`. */
  async advanceTo(instant: number): Promise<void> {
    await this.advance(instant - this.now());
  }
}
