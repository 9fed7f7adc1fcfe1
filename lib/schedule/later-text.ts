import later from "@breejs/later";
import { JobValidationError } from "../errors.ts";
import { parseLaterObjectText } from "./later-object.ts";

// Reaction evaluates later.js in UTC; so do we, always.
later.date.UTC();

/** One later.js recurrence: unit (`s`, `m`, `h`, `t`, `D`, `d`, `M`, `Y`, `wy`...) -> allowed values. */
export type LaterRecurrence = Record<string, number[]>;

/** later.js's compiled form: OR of schedules, minus exceptions. */
export interface LaterSchedule {
  schedules: LaterRecurrence[];
  exceptions: LaterRecurrence[];
}

function compile(schedule: LaterSchedule) {
  return later.schedule({ ...schedule, error: -1 } as unknown as later.ScheduleData);
}

export interface ParsedSchedule {
  text: string;
  schedule: LaterSchedule;
  /** Where later.js stopped reading (`-1`: it read everything). */
  errorAt: number;
  /** Set when later.js read only part of the text but still produced a schedule. */
  warning?: string;
}

/**
 * later.js text -> later's schedule, keeping later's meaning (quirks included). A text that
 * gives no schedule, or one with no future occurrence, is refused naming `schedule`; a text
 * later read only part-way is accepted with a warning, as Reaction's own "every day" must work.
 *
 * @example parseScheduleText("every 24 hours").schedule // { schedules: [{ h: [0] }], exceptions: [] }
 */
export function parseScheduleText(text: string, now = new Date()): ParsedSchedule {
  // A job moved over from Reaction's MongoDB keeps later's object form (see later-object.ts).
  const object = parseLaterObjectText(text);
  const parsed = object ? { ...object, error: -1 } : later.parse.text(text);
  const errorAt = typeof parsed.error === "number" ? parsed.error : -1;
  const schedule = {
    schedules: parsed.schedules,
    exceptions: parsed.exceptions,
  } as unknown as LaterSchedule;
  if (parsed.schedules.length === 0 || parsed.schedules.every((s) => Object.keys(s).length === 0)) {
    throw new JobValidationError(
      "schedule",
      `later.js found no schedule in ${JSON.stringify(text)}${errorAt >= 0 ? ` (it stopped at position ${errorAt}: ${JSON.stringify(text.slice(errorAt))})` : ""}; see later.js's text grammar, e.g. "every 24 hours", "at 2:00 am"`,
    );
  }
  if (firstFireAfter(schedule, now) === null) {
    throw new JobValidationError(
      "schedule",
      `${JSON.stringify(text)} has no occurrence after ${now.toISOString()}`,
    );
  }
  const result: ParsedSchedule = { text, schedule, errorAt };
  if (errorAt >= 0) {
    result.warning = `later.js read only ${JSON.stringify(text.slice(0, errorAt))} of ${JSON.stringify(text)} (it stopped at position ${errorAt}, ${JSON.stringify(text.slice(errorAt))} is ignored); its meaning is kept`;
  }
  return result;
}

/** later's schedule for a text already accepted by `parseScheduleText` (no checks). */
export function laterSchedule(text: string): LaterSchedule {
  const object = parseLaterObjectText(text);
  if (object) return object;
  const { schedules, exceptions } = later.parse.text(text);
  return { schedules, exceptions } as unknown as LaterSchedule;
}

/**
 * The first occurrence after `after`, as Reaction computes it (`next(2, prev(1, t))[1]`): the
 * start of the next range strictly after the one `after` is in. A job scheduled inside a
 * range never runs at save time.
 */
export function firstFireAfter(schedule: LaterSchedule, after: Date): Date | null {
  const compiled = compile(schedule);
  const previous = compiled.prev(1, after);
  if (previous instanceof Date) {
    const pair = compiled.next(2, previous);
    const candidate = Array.isArray(pair) ? pair[1] : undefined;
    if (candidate instanceof Date && candidate.getTime() > after.getTime()) return candidate;
  }
  const upcoming = compiled.next(2, after);
  if (!Array.isArray(upcoming))
    return upcoming instanceof Date && upcoming > after ? upcoming : null;
  return upcoming.find((date) => date.getTime() > after.getTime()) ?? null;
}

/** The next `count` fire times after `after`, each the next range start after the one before. */
export function laterFireTimes(schedule: LaterSchedule, after: Date, count: number): Date[] {
  const times: Date[] = [];
  let cursor = after;
  while (times.length < count) {
    const next = firstFireAfter(schedule, cursor);
    if (!next) break;
    times.push(next);
    cursor = next;
  }
  return times;
}
