import type { Clock, JobMessage, ScheduleArmer } from "../../../lib/jobs/deps.ts";
import type { LaneName } from "../../../lib/resources.ts";
import {
  atExpression,
  nextFireTimes,
  parseScheduleExpression,
  type ScheduleExpression,
} from "../../../lib/schedule/eventbridge.ts";
import { Faults } from "./faults.ts";
import type { MemoryLanes } from "./lanes.ts";

/** EventBridge Scheduler's rule for schedule names. */
const SCHEDULE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
/** Firings of one schedule delivered per `fireDue` at most (a clock jumped very far). */
const MAX_CATCH_UP = 10_000;

/** A schedule as the memory scheduler keeps it. */
export interface MemorySchedule {
  name: string;
  expression: string;
  lane: LaneName;
  /** What each firing sends (a recurring one adds `firedAt`). */
  message: JobMessage;
  startDate?: Date;
  /** Fires only for instants after this (epoch ms): its creation, then its last firing. */
  firedUpTo: number;
}

type Operation = "armRecurring" | "armOnce" | "remove";

/**
 * EventBridge Scheduler in memory, on a (fake) clock: `cron()`, `rate()` and `at()` evaluated
 * as `lib/schedule/eventbridge.ts` evaluates them, each firing sent to a `MemoryLanes` lane.
 * A recurring firing's message carries `firedAt` = its instant (what EventBridge fills into
 * `<aws.scheduler.scheduled-time>`); an `at()` schedule is deleted once it fired, as the
 * adapter asks (`ActionAfterCompletion: DELETE`). No instant fires twice for one schedule.
 *
 * @example
 * const scheduler = new MemoryScheduler(clock, lanes);
 * scheduler.start(); // fires as the clock advances; or call `fireDue()` yourself
 */
export class MemoryScheduler implements ScheduleArmer {
  private readonly schedules = new Map<string, MemorySchedule & { parsed: ScheduleExpression }>();
  private readonly faults = new Faults<Operation>();
  private running = false;
  /** Bumped by each `start()`, so a loop from before a `stop()` never runs beside a new one. */
  private generation = 0;
  private wake = new AbortController();

  constructor(
    private readonly clock: Clock,
    private readonly lanes: MemoryLanes,
  ) {}

  /** The next `count` calls of `operation` throw, having changed nothing. */
  failNext(operation: Operation, count = 1): void {
    this.faults.failNext(operation, count);
  }

  async armRecurring(
    name: string,
    expression: string,
    startDate: Date | undefined,
    lane: LaneName,
    message: JobMessage,
  ): Promise<void> {
    this.faults.check("armRecurring");
    const parsed = checked(name, expression);
    const existing = this.schedules.get(name);
    const now = this.clock.now();
    this.schedules.set(name, {
      name,
      expression,
      parsed,
      lane,
      message: { id: message.id, type: message.type },
      // EventBridge counts a rate() from its creation when it has no StartDate.
      startDate: startDate ?? existing?.startDate ?? new Date(now),
      // Updating a schedule must not make it fire again for an instant it fired for.
      firedUpTo: Math.max(now, existing?.firedUpTo ?? now),
    });
    this.wake.abort();
  }

  async armOnce(name: string, at: Date, lane: LaneName, message: JobMessage): Promise<void> {
    this.faults.check("armOnce");
    if (this.schedules.has(name)) return; // the same name is the same job and instant
    const expression = atExpression(at);
    const parsed = checked(name, expression);
    // One that is past already fires at once (after an outage, EventBridge fires it late).
    this.schedules.set(name, {
      name,
      expression,
      parsed,
      lane,
      message: { ...message },
      firedUpTo: Number.NEGATIVE_INFINITY,
    });
    this.wake.abort();
  }

  async remove(name: string): Promise<void> {
    this.faults.check("remove");
    this.schedules.delete(name);
  }

  /** The names of the schedules that exist, sorted. */
  names(): string[] {
    return [...this.schedules.keys()].sort();
  }

  /** A copy of a schedule, or `undefined`. */
  get(name: string): MemorySchedule | undefined {
    const schedule = this.schedules.get(name);
    if (!schedule) return undefined;
    const { parsed: _parsed, ...rest } = schedule;
    return { ...rest, message: { ...rest.message } };
  }

  /** Sends every firing due by now, in time order; returns how many were sent. */
  fireDue(): number {
    const now = this.clock.now();
    const firings: Array<{ at: number; name: string }> = [];
    for (const schedule of this.schedules.values()) {
      for (const at of this.instants(schedule, now)) firings.push({ at, name: schedule.name });
    }
    firings.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
    let sent = 0;
    for (const { at, name } of firings) {
      const schedule = this.schedules.get(name);
      if (!schedule || at <= schedule.firedUpTo) continue;
      schedule.firedUpTo = at;
      const message =
        schedule.parsed.kind === "at"
          ? schedule.message
          : { ...schedule.message, firedAt: iso(at) };
      this.lanes.put(schedule.lane, JSON.stringify(message), 0);
      sent += 1;
      if (schedule.parsed.kind === "at") this.schedules.delete(name);
    }
    return sent;
  }

  /** The next instant any schedule fires for, or `undefined` when none will. */
  nextFireAt(): number | undefined {
    let next: number | undefined;
    for (const schedule of this.schedules.values()) {
      const [at] = this.instants(schedule, Number.POSITIVE_INFINITY, 1);
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** Fires schedules as the clock reaches them, until `stop()`. */
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

  private async loop(generation: number): Promise<void> {
    while (this.running && generation === this.generation) {
      this.fireDue();
      this.wake = new AbortController();
      const next = this.nextFireAt();
      if (next === undefined) {
        const { signal } = this.wake;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      } else {
        await this.clock.sleep(next - this.clock.now(), this.wake.signal);
      }
    }
  }

  /** A schedule's instants after its last firing, up to `until`. */
  private instants(
    schedule: MemorySchedule & { parsed: ScheduleExpression },
    until: number,
    count = MAX_CATCH_UP,
  ): number[] {
    if (schedule.parsed.kind === "at") {
      return schedule.parsed.at <= until && schedule.parsed.at > schedule.firedUpTo
        ? [schedule.parsed.at]
        : [];
    }
    return nextFireTimes(schedule.parsed, {
      after: new Date(schedule.firedUpTo),
      count,
      ...(schedule.startDate ? { startDate: schedule.startDate } : {}),
      ...(Number.isFinite(until) ? { endDate: new Date(until) } : {}),
    }).map((date) => date.getTime());
  }
}

/** Validates as CreateSchedule does: the name, then the expression. */
function checked(name: string, expression: string): ScheduleExpression {
  if (!SCHEDULE_NAME.test(name)) {
    throw Object.assign(new Error(`Invalid schedule name ${JSON.stringify(name)}`), {
      name: "ValidationException",
    });
  }
  return parseScheduleExpression(expression);
}

/** The instant as EventBridge writes `<aws.scheduler.scheduled-time>`: whole seconds, no ms. */
function iso(at: number): string {
  return new Date(at).toISOString().replace(/\.000Z$/, "Z");
}
