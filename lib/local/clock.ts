import { JobValidationError } from "../errors.ts";
import { type Clock, systemClock } from "../jobs/deps.ts";

/**
 * The local stack's clock: `app.local.clock`. In the default `"real"` mode it is the system
 * clock and nothing can move it. With `backgroundJobs: { local: { clock: "manual" } }` time
 * stands still until a test moves it (`advance`, `set`), and every part of the local stack that
 * decides *when* reads it:
 *
 * - the local EventBridge Scheduler server's schedule book fires from it;
 * - the job system's lifecycle (`createJobSystem({ clock })`): due times, leases, retry
 *   waits, a repeat's firing instant and its next one, the reconciler's view of "now";
 * - the job table's TTL filter on reads;
 * - SQS `DelaySeconds`: fauxqs delays in real time, so under a manual clock the app's delayed
 *   sends (a chain's next link within 900 s, a short retry wait) are held on this clock and
 *   sent with no delay once it reaches them (`ClockHeldLanes`).
 *
 * What stays real time, even under a manual clock (none of it decides a fire time):
 * - the poller's long polls and the SQS visibility timeout, so a message a handler failed
 *   comes back after `redeliveryDelaySeconds` of real time;
 * - the reconciler's timer (`reconcileIntervalMs`): each pass reads this clock's time;
 * - the scheduler's retries of a failed delivery to SQS (0.5 s, then 1 s);
 * - DynamoDB Local's own TTL deletion (reads filter by this clock anyway);
 * - worker capacity waits in the poller.
 *
 * EventBridge `at()` has whole seconds: a retry due at 10:20:00.500 fires at 10:20:00, finds
 * its job not due yet and hops once more by a second (as on AWS), so move the clock a second
 * past such a due time.
 *
 * Under a manual clock a wait the lifecycle makes on the clock (`cancelJobs`' cancel-cache
 * wait, a run's lease, `simulateIndexLagMs`) ends only when the test moves time past it; the
 * local backend sets `cancelCacheMs` to 0 there, so `cancelJobs` never waits on it.
 *
 * @example
 * const app = createApp({ backgroundJobs: { local: { clock: "manual" } } });
 * await app.start();
 * await app.context.backgroundJobs.scheduleJob({ type: "t", data: {}, schedule: "every 1 minute" });
 * await app.local.clock.advance(60_000); // the next minute fired; its occurrence now runs
 */
export interface LocalClock extends Clock {
  readonly mode: "real" | "manual";
  /**
   * Moves time forward by `ms` (manual mode only), stopping at each pending wake-up on the
   * way, in time order; resolves once every firing due by then was handed to its queue.
   */
  advance(ms: number): Promise<void>;
  /** Moves time forward to `instant` (manual mode only), like `advance`. */
  set(instant: number | Date): Promise<void>;
  /** @internal Work a wake-up started (a delivery to SQS): `advance` waits for it. */
  track(work: Promise<unknown>): void;
}

/** The real clock, as the local stack's clock: it cannot be moved. */
export const realLocalClock: LocalClock = {
  mode: "real",
  now: systemClock.now,
  sleep: systemClock.sleep,
  advance: () => Promise.reject(notManual()),
  set: () => Promise.reject(notManual()),
  track: () => {},
};

function notManual(): JobValidationError {
  return new JobValidationError(
    "clock",
    'is real time; start the local stack with backgroundJobs.local.clock "manual" to move it',
  );
}

interface Wakeup {
  at: number;
  seq: number;
  fire(): void;
}

/** Rounds of `setImmediate` after each wake-up, so what it woke arms its next wait first. */
const YIELD_ROUNDS = 3;
/** More steps than this at one instant in `settle` is a loop that never waits (`sleep(0)` forever). */
const MAX_STEPS_PER_INSTANT = 10_000;

/**
 * A clock that moves only when told. `sleep` registers a wake-up; `advance` sets time to each
 * pending wake-up in order, fires it and lets what it woke run (a few event-loop turns, and any
 * work it `track`ed) before the next, so a schedule fires for each instant it passes. It does
 * not wait for the rest of the stack (the poller, the handlers): tests wait for the effect.
 *
 * @example
 * const clock = new ManualClock(Date.parse("2026-01-05T10:00:00Z"));
 * await clock.advance(60_000); // every schedule due by 10:01 has fired, in order
 */
export class ManualClock implements LocalClock {
  readonly mode = "manual";
  private time: number;
  private seq = 0;
  private wakeups: Wakeup[] = [];
  private readonly work = new Set<Promise<unknown>>();
  /** Bumped whenever a wake-up is registered: a `settle` step that registered one is not quiet. */
  private registered = 0;

  constructor(start: number = Date.now()) {
    this.time = start;
  }

  /** Bound, so it can be handed around as a function (`{ now: clock.now }`). */
  readonly now = (): number => this.time;

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wakeup: Wakeup = {
        at: this.time + Math.max(0, Number.isFinite(ms) ? ms : 0),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.wakeups = this.wakeups.filter((w) => w !== wakeup);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.wakeups.push(wakeup);
      this.registered += 1;
    });
  }

  /** Wake-ups not yet fired. */
  get pendingTimers(): number {
    return this.wakeups.length;
  }

  /** When the earliest pending wake-up is due, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    return this.earliest()?.at;
  }

  /**
   * Lets everything runnable now run, to quiet: flushes microtasks and immediates and fires
   * the wake-ups due now, until a round registers no new one (the model check steps by it).
   * Throws, naming the instant, when it never gets quiet (a loop that never waits).
   */
  async settle(): Promise<void> {
    for (let step = 0; step < MAX_STEPS_PER_INSTANT; step += 1) {
      const before = this.registered;
      await turns();
      const due = this.earliest();
      if (due && due.at <= this.time) {
        this.wakeups = this.wakeups.filter((w) => w !== due);
        due.fire();
        continue;
      }
      if (this.registered === before) return;
    }
    throw new Error(
      `ManualClock.settle: still busy after ${MAX_STEPS_PER_INSTANT} steps at ${new Date(this.time).toISOString()} (a loop that never waits?)`,
    );
  }

  /** Sets the time without firing anything (a subclass's own stepping; `advance` fires on the way). */
  protected moveTo(instant: number): void {
    this.time = Math.max(this.time, instant);
  }

  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.work.add(settled);
    void settled.then(() => this.work.delete(settled));
  }

  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new JobValidationError("ms", "must be a number >= 0: time only moves on");
    const target = this.time + ms;
    for (;;) {
      await turns();
      const next = this.earliest();
      if (next && next.at <= target) {
        this.wakeups = this.wakeups.filter((w) => w !== next);
        this.time = Math.max(this.time, next.at);
        next.fire();
        continue;
      }
      if (this.work.size === 0) break;
      await Promise.all([...this.work]);
    }
    this.time = target;
  }

  async set(instant: number | Date): Promise<void> {
    const at = typeof instant === "number" ? instant : instant.getTime();
    if (!(at >= this.time)) {
      throw new JobValidationError(
        "instant",
        `${new Date(at).toISOString()} is before the clock's ${new Date(this.time).toISOString()}: time only moves on`,
      );
    }
    await this.advance(at - this.time);
  }

  private earliest(): Wakeup | undefined {
    let best: Wakeup | undefined;
    for (const w of this.wakeups) {
      if (!best || w.at < best.at || (w.at === best.at && w.seq < best.seq)) best = w;
    }
    return best;
  }
}

async function turns(): Promise<void> {
  for (let round = 0; round < YIELD_ROUNDS; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
