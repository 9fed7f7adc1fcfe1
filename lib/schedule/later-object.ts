import { JobValidationError } from "../errors.ts";
import type { LaterRecurrence, LaterSchedule } from "./later-text.ts";

/**
 * later.js's compiled schedule (`{ schedules, exceptions }`) as a repeating job's schedule
 * text. Reaction's original stored only this form (`repeatWait`), never the text it was parsed
 * from, so a job moved over from MongoDB keeps it as its JSON: `parseScheduleText` and
 * `laterSchedule` read that text back (no later.js text starts with `{`).
 *
 * @example laterObjectText({ schedules: [{ h: [0] }], exceptions: [] }) // '{"schedules":[{"h":[0]}],"exceptions":[]}'
 */
export function laterObjectText(schedule: LaterSchedule): string {
  return JSON.stringify({ schedules: schedule.schedules, exceptions: schedule.exceptions });
}

/** The schedule a `laterObjectText` holds; `undefined` for later.js text. Bad JSON names `field`. */
export function parseLaterObjectText(text: string, field = "schedule"): LaterSchedule | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JobValidationError(field, "starts with { but is not JSON");
  }
  return laterObject(value, field);
}

/**
 * Checks later.js's schedule object: `schedules` (at least one) and `exceptions` (optional),
 * each a list of recurrences mapping a unit (`h`, `m`, `D`, `h_a`...) to a list of numbers.
 *
 * @example laterObject({ schedules: [{ h: [0] }], exceptions: [] }, "repeatWait")
 */
export function laterObject(value: unknown, field: string): LaterSchedule {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new JobValidationError(field, "must be later.js's { schedules, exceptions }");
  const { schedules, exceptions } = value as Record<string, unknown>;
  const schedule: LaterSchedule = {
    schedules: recurrences(schedules, `${field}.schedules`),
    exceptions: exceptions === undefined ? [] : recurrences(exceptions, `${field}.exceptions`),
  };
  if (schedule.schedules.length === 0 || schedule.schedules.every(isEmpty))
    throw new JobValidationError(`${field}.schedules`, "is empty: later.js found no schedule");
  return schedule;
}

function recurrences(value: unknown, field: string): LaterRecurrence[] {
  if (!Array.isArray(value)) throw new JobValidationError(field, "must be an array");
  return value.map((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw new JobValidationError(`${field}[${i}]`, "must be an object of unit -> values");
    const recurrence: LaterRecurrence = {};
    for (const [unit, values] of Object.entries(item)) {
      if (
        !Array.isArray(values) ||
        !values.every((v) => typeof v === "number" && Number.isFinite(v))
      )
        throw new JobValidationError(`${field}[${i}].${unit}`, "must be an array of numbers");
      recurrence[unit] = values as number[];
    }
    return recurrence;
  });
}

function isEmpty(recurrence: LaterRecurrence): boolean {
  return Object.keys(recurrence).length === 0;
}
