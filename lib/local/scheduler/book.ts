import type { Clock } from "../../jobs/deps.ts";
import { nextFireTimes, type ScheduleExpression } from "../../schedule/eventbridge.ts";

/** EventBridge Scheduler's rule for schedule (and group) names. */
export const SCHEDULE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
/** Firings of one schedule sent per wake at most (a clock moved very far, a long sleep). */
const MAX_CATCH_UP = 10_000;
/** The longest single sleep: `setTimeout` overflows past ~24.8 days, so wake and look again. */
const MAX_SLEEP_MS = 6 * 3600 * 1000;
/** The earliest instant a `Date` can hold: "after the beginning of time". */
const BEGINNING = -8.64e15;

/** A schedule as the book arms it: when it fires, and what it fires (`target`, the owner's). */
export interface BookEntry<T> {
  /** Unique in the book (the local server uses `group/name`). */
  readonly key: string;
  readonly expression: ScheduleExpression;
  /** `rate()` counts from here and nothing fires before it (epoch ms); `rate()` needs one. */
  readonly startDate?: number;
  /** Nothing fires after it (epoch ms). */
  readonly endDate?: number;
  /** A disabled schedule is kept but never fires. */
  readonly enabled: boolean;
  /** `ActionAfterCompletion: DELETE`: removed once it has no instant left, after its last firing. */
  readonly deleteAfterCompletion: boolean;
  readonly target: T;
}

/** An entry with its firing state. */
interface Armed<T> {
  entry: BookEntry<T>;
  /** Fires only for instants after this (epoch ms): its arming, then its last firing. */
  firedUpTo: number;
  /** Its next instant, or `undefined` when none is left (cached: later.js work is not free). */
  next: number | undefined;
}

export interface BookOptions<T> {
  /**
   * Hands one firing to its target (the local server sends to SQS; the memory scheduler puts
   * on a lane). A returned promise is the delivery: a completed schedule is deleted after it.
   */
  fire(entry: BookEntry<T>, at: number): undefined | Promise<void>;
  /** The book changed on its own (a firing recorded, a completed schedule deleted): persist. */
  changed?(): void;
}

/**
 * The schedule book: what is armed, when each schedule fires next, and firing it as a `Clock`
 * reaches each instant. One module for the local EventBridge Scheduler server and the model
 * check's memory scheduler, so both arm alike. `at()`/`rate()`/`cron()` are evaluated by
 * `lib/schedule/eventbridge.ts`; the book decides which instants fire:
 *
 * - No instant fires twice for one key: a firing is recorded before it is delivered, and
 *   replacing an entry keeps what the old one fired for.
 * - A new recurring entry fires for instants after its arming; a one-time `at()` in the past
 *   fires at once (EventBridge fires it late after an outage).
 * - Catch-up: a wake that finds several instants passed (a clock moved far, a process that
 *   slept) fires each of them, oldest first, up to 10,000. Instants passed while the book
 *   was not running (a restart: see `restore`) are not fired: the reconciler fires a missed
 *   template once.
 * - Completion: an entry with `deleteAfterCompletion` and no instant left is deleted once its
 *   last firing was delivered.
 *
 * @example
 * const book = new ScheduleBook(clock, { fire: (entry, at) => send(entry.target, at) });
 * book.set({ key: "job-T", expression: parseScheduleExpression("rate(5 minutes)"), startDate: now,
 *   enabled: true, deleteAfterCompletion: false, target });
 * book.start(); // fires as the clock reaches each instant, until stop()
 */
export class ScheduleBook<T> {
  private readonly armed = new Map<string, Armed<T>>();
  private running = false;
  /** Bumped by each `start()`, so a loop from before a `stop()` never runs beside a new one. */
  private generation = 0;
  private wake = new AbortController();

  constructor(
    private readonly clock: Clock,
    private readonly options: BookOptions<T>,
  ) {}

  /**
   * Arms an entry, or replaces the one with its key. Returns `false` when it was not kept: it
   * is complete already and deletes itself.
   */
  set(entry: BookEntry<T>): boolean {
    const existing = this.armed.get(entry.key);
    const from = entry.expression.kind === "at" ? Number.NEGATIVE_INFINITY : this.clock.now();
    return this.arm(entry, Math.max(from, existing?.firedUpTo ?? Number.NEGATIVE_INFINITY));
  }

  /**
   * Arms an entry kept across a restart, which last fired for `lastFired`. A one-time entry
   * not fired yet fires now if it came due meanwhile; a recurring one goes on from now.
   */
  restore(entry: BookEntry<T>, lastFired: number | undefined): boolean {
    const fired = lastFired ?? Number.NEGATIVE_INFINITY;
    return this.arm(
      entry,
      entry.expression.kind === "at" ? fired : Math.max(fired, this.clock.now()),
    );
  }

  /** Deletes an entry; `false` when there was none. */
  delete(key: string): boolean {
    const had = this.armed.delete(key);
    if (had) this.wake.abort();
    return had;
  }

  get(key: string): BookEntry<T> | undefined {
    return this.armed.get(key)?.entry;
  }

  /**
   * The instant up to which an entry has fired (its last firing, or for a recurring one its
   * arming), or `undefined` for a one-time entry not fired yet.
   */
  firedUpTo(key: string): number | undefined {
    const armed = this.armed.get(key);
    if (!armed || !Number.isFinite(armed.firedUpTo)) return undefined;
    return armed.firedUpTo;
  }

  /** Every entry, in key order. */
  entries(): Array<BookEntry<T>> {
    return [...this.armed.values()]
      .map((armed) => armed.entry)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The next instant any entry fires for, or `undefined` when none will. */
  nextFireAt(): number | undefined {
    let next: number | undefined;
    for (const armed of this.armed.values()) {
      if (armed.next !== undefined && (next === undefined || armed.next < next)) next = armed.next;
    }
    return next;
  }

  /** Fires every instant due by now, in time order (then key order); returns how many. */
  fireDue(): number {
    const now = this.clock.now();
    const firings: Array<{ at: number; armed: Armed<T> }> = [];
    for (const armed of this.armed.values()) {
      if (armed.next === undefined || armed.next > now) continue;
      for (const at of this.instants(armed, now, MAX_CATCH_UP)) firings.push({ at, armed });
    }
    firings.sort((a, b) => a.at - b.at || (a.armed.entry.key < b.armed.entry.key ? -1 : 1));
    let fired = 0;
    for (const { at, armed } of firings) {
      const { key } = armed.entry;
      // Deleted or replaced by an earlier firing's target, or fired already: skip.
      if (this.armed.get(key) !== armed || at <= armed.firedUpTo) continue;
      armed.firedUpTo = at;
      armed.next = this.instants(armed, Number.POSITIVE_INFINITY, 1)[0];
      this.options.changed?.();
      const delivery = this.options.fire(armed.entry, at);
      fired += 1;
      if (armed.next === undefined && armed.entry.deleteAfterCompletion) {
        if (delivery) void delivery.finally(() => this.deleteCompleted(armed));
        else this.deleteCompleted(armed);
      }
    }
    return fired;
  }

  /** Fires entries as the clock reaches them, until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    void this.loop(this.generation);
  }

  stop(): void {
    this.running = false;
    this.wake.abort();
  }

  private arm(entry: BookEntry<T>, firedUpTo: number): boolean {
    const armed: Armed<T> = { entry, firedUpTo, next: undefined };
    armed.next = this.instants(armed, Number.POSITIVE_INFINITY, 1)[0];
    // Complete already (a disabled one is not: it may be enabled again).
    if (armed.next === undefined && entry.enabled && entry.deleteAfterCompletion) {
      this.delete(entry.key);
      return false;
    }
    this.armed.set(entry.key, armed);
    this.wake.abort();
    return true;
  }

  private deleteCompleted(armed: Armed<T>): void {
    if (this.armed.get(armed.entry.key) !== armed) return;
    this.armed.delete(armed.entry.key);
    this.options.changed?.();
  }

  private async loop(generation: number): Promise<void> {
    while (this.running && generation === this.generation) {
      this.fireDue();
      this.wake = new AbortController();
      const next = this.nextFireAt();
      if (next === undefined) {
        // Nothing armed: no timer at all until something is.
        const { signal } = this.wake;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      } else {
        const wait = Math.min(next - this.clock.now(), MAX_SLEEP_MS);
        await this.clock.sleep(wait, this.wake.signal);
      }
    }
  }

  /** An entry's instants after its last firing, up to `until` (at most `count`). */
  private instants(armed: Armed<T>, until: number, count: number): number[] {
    const { entry } = armed;
    if (!entry.enabled) return [];
    const end = Math.min(until, entry.endDate ?? Number.POSITIVE_INFINITY);
    return nextFireTimes(entry.expression, {
      after: new Date(Math.max(armed.firedUpTo, BEGINNING)),
      count,
      ...(entry.startDate !== undefined ? { startDate: new Date(entry.startDate) } : {}),
      ...(Number.isFinite(end) ? { endDate: new Date(end) } : {}),
    }).map((date) => date.getTime());
  }
}
