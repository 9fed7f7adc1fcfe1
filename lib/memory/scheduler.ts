import type { Clock, JobMessage, ScheduleArmer } from "../jobs/deps.ts";
import { type BookEntry, SCHEDULE_NAME, ScheduleBook } from "../local/scheduler/book.ts";
import type { LaneName } from "../resources.ts";
import {
  atExpression,
  parseScheduleExpression,
  type ScheduleExpression,
} from "../schedule/eventbridge.ts";
import { Faults } from "./faults.ts";
import type { MemoryLanes } from "./lanes.ts";

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

/** What a firing of a memory schedule sends, and where. */
interface MemoryTarget {
  expression: string;
  lane: LaneName;
  message: JobMessage;
}

type Operation = "armRecurring" | "armOnce" | "remove";

/**
 * EventBridge Scheduler in memory, on a (fake) clock: a thin adapter over the schedule book
 * the local Scheduler server uses (`lib/local/scheduler/book.ts`: arming, catch-up, no instant
 * twice, at() deleted once fired), each firing sent to a `MemoryLanes` lane. A recurring
 * firing's message carries `firedAt` = its instant (what EventBridge fills into
 * `<aws.scheduler.scheduled-time>`); an `at()` schedule deletes itself once fired, as the
 * adapter asks (`ActionAfterCompletion: DELETE`).
 *
 * @example
 * const scheduler = new MemoryScheduler(clock, lanes);
 * scheduler.start(); // fires as the clock advances; or call `fireDue()` yourself
 */
export class MemoryScheduler implements ScheduleArmer {
  private readonly book: ScheduleBook<MemoryTarget>;
  private readonly faults = new Faults<Operation>();

  constructor(
    private readonly clock: Clock,
    lanes: MemoryLanes,
  ) {
    this.book = new ScheduleBook<MemoryTarget>(clock, {
      fire: ({ expression, target }, at) => {
        const message =
          expression.kind === "at" ? target.message : { ...target.message, firedAt: iso(at) };
        lanes.put(target.lane, JSON.stringify(message), 0);
        return undefined;
      },
    });
  }

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
    // EventBridge counts a rate() from its creation when it has no StartDate.
    const start = startDate?.getTime() ?? this.book.get(name)?.startDate ?? this.clock.now();
    this.book.set(
      entry(
        name,
        parsed,
        { expression, lane, message: { id: message.id, type: message.type } },
        start,
      ),
    );
  }

  async armOnce(name: string, at: Date, lane: LaneName, message: JobMessage): Promise<void> {
    this.faults.check("armOnce");
    if (this.book.get(name)) return; // the same name is the same job and instant
    const expression = atExpression(at);
    this.book.set(
      entry(name, checked(name, expression), { expression, lane, message: { ...message } }),
    );
  }

  async remove(name: string): Promise<void> {
    this.faults.check("remove");
    this.book.delete(name);
  }

  /** The names of the schedules that exist, sorted. */
  names(): string[] {
    return this.book.entries().map((e) => e.key);
  }

  /** A copy of a schedule, or `undefined`. */
  get(name: string): MemorySchedule | undefined {
    const found = this.book.get(name);
    if (!found) return undefined;
    const { expression, lane, message } = found.target;
    return {
      name,
      expression,
      lane,
      message: { ...message },
      ...(found.startDate !== undefined ? { startDate: new Date(found.startDate) } : {}),
      firedUpTo: this.book.firedUpTo(name) ?? Number.NEGATIVE_INFINITY,
    };
  }

  /** Sends every firing due by now, in time order; returns how many were sent. */
  fireDue(): number {
    return this.book.fireDue();
  }

  /** The next instant any schedule fires for, or `undefined` when none will. */
  nextFireAt(): number | undefined {
    return this.book.nextFireAt();
  }

  /** Fires schedules as the clock reaches them, until `stop()`. */
  start(): void {
    this.book.start();
  }

  stop(): void {
    this.book.stop();
  }
}

function entry(
  key: string,
  expression: ScheduleExpression,
  target: MemoryTarget,
  startDate?: number,
): BookEntry<MemoryTarget> {
  return {
    key,
    expression,
    ...(startDate !== undefined ? { startDate } : {}),
    enabled: true,
    deleteAfterCompletion: expression.kind === "at",
    target,
  };
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
