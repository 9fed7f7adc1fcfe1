/**
 * EventBridge Scheduler expressions: `at(...)`, `rate(...)`, `cron(...)` in UTC. Parses and
 * validates them as AWS does (for the forms this project and its local server use) and
 * evaluates their next fire times. The local Scheduler server and the tests run on it.
 */

export class ScheduleExpressionError extends Error {
  override name = "ValidationException";
}

export type ScheduleExpression =
  | { kind: "at"; at: number }
  | { kind: "rate"; periodMs: number }
  | { kind: "cron"; cron: CronFields };

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  months: Set<number>;
  years: Set<number> | null;
  /** Day-of-month rule, or null when `?`. */
  dayOfMonth: DayRule | null;
  /** Day-of-week rule, or null when `?`. */
  dayOfWeek: DayRule | null;
}

type DayRule = (year: number, month: number, day: number) => boolean;

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const RATE_UNITS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Parses an expression, throwing a `ScheduleExpressionError` that says what is wrong. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const match = /^(at|rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!match) throw new ScheduleExpressionError(`Invalid Schedule Expression ${expression}.`);
  const [, kind, body = ""] = match;
  if (kind === "at") {
    const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
    if (!at)
      throw new ScheduleExpressionError(
        `Invalid at() expression ${expression}: use at(yyyy-mm-ddThh:mm:ss).`,
      );
    const [, y, mo, d, h, mi, s] = at.map(Number) as number[];
    const time = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
    if (Number.isNaN(time) || new Date(time).getUTCDate() !== d) {
      throw new ScheduleExpressionError(`Invalid date in ${expression}.`);
    }
    return { kind: "at", at: time };
  }
  if (kind === "rate") {
    const rate = /^(\d+) (minutes?|hours?|days?)$/.exec(body);
    const value = Number(rate?.[1]);
    if (!rate || !Number.isSafeInteger(value) || value <= 0) {
      throw new ScheduleExpressionError(
        `Invalid rate() expression ${expression}: use rate(value unit), unit minute(s), hour(s) or day(s).`,
      );
    }
    return { kind: "rate", periodMs: value * (RATE_UNITS[rate[2] as string] as number) };
  }
  return { kind: "cron", cron: parseCron(body, expression) };
}

function parseCron(body: string, expression: string): CronFields {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      `Invalid cron() expression ${expression}: it needs 6 fields, got ${fields.length}.`,
    );
  }
  const [min, hour, dom, month, dow, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dom === "?") === (dow === "?")) {
    throw new ScheduleExpressionError(
      `Invalid cron() expression ${expression}: exactly one of day-of-month and day-of-week must be "?".`,
    );
  }
  return {
    minutes: values(min, 0, 59, expression),
    hours: values(hour, 0, 23, expression),
    months: values(month, 1, 12, expression, MONTHS),
    years: year === "*" ? null : values(year, 1970, 2199, expression),
    dayOfMonth: dom === "?" ? null : dayOfMonthRule(dom, expression),
    dayOfWeek: dow === "?" ? null : dayOfWeekRule(dow, expression),
  };
}

function values(
  field: string,
  min: number,
  max: number,
  expression: string,
  names?: string[],
): Set<number> {
  const result = new Set<number>();
  for (const part of field.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw bad(expression, field);
    let from: number;
    let to: number;
    if (range === "*") {
      from = min;
      to = max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      from = number(a, names, expression, field);
      to = number(b, names, expression, field);
    } else {
      from = number(range, names, expression, field);
      to = stepText === undefined ? from : max;
    }
    if (from < min || to > max || from > to) throw bad(expression, field);
    for (let value = from; value <= to; value += step) result.add(value);
  }
  return result;
}

function number(
  text: string,
  names: string[] | undefined,
  expression: string,
  field: string,
): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(text)) throw bad(expression, field);
  return Number(text);
}

function dayOfMonthRule(field: string, expression: string): DayRule {
  if (field === "L") return (y, m, d) => d === daysInMonth(y, m);
  if (field.includes("W")) {
    throw new ScheduleExpressionError(
      `Unsupported day-of-month ${field} in ${expression} (W is not evaluated locally).`,
    );
  }
  const days = values(field, 1, 31, expression);
  return (_y, _m, d) => days.has(d);
}

function dayOfWeekRule(field: string, expression: string): DayRule {
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const weekday = number(nth[1] as string, DAYS, expression, field);
    const n = Number(nth[2]);
    return (y, m, d) => weekdayOf(y, m, d) === weekday && Math.ceil(d / 7) === n;
  }
  const last = /^(\w+)L$/.exec(field);
  if (last) {
    const weekday = number(last[1] as string, DAYS, expression, field);
    return (y, m, d) => weekdayOf(y, m, d) === weekday && d + 7 > daysInMonth(y, m);
  }
  if (field.includes("/")) {
    throw new ScheduleExpressionError(
      `Invalid cron() expression ${expression}: day-of-week takes no "/".`,
    );
  }
  if (field.includes("#")) {
    throw new ScheduleExpressionError(
      `Invalid cron() expression ${expression}: only one # expression is allowed.`,
    );
  }
  const days = values(field, 1, 7, expression, DAYS);
  return (y, m, d) => days.has(weekdayOf(y, m, d));
}

function bad(expression: string, field: string): ScheduleExpressionError {
  return new ScheduleExpressionError(
    `Invalid cron() expression ${expression}: field ${JSON.stringify(field)}.`,
  );
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = Sunday ... 7 = Saturday, as EventBridge (and later.js) count. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

export interface FireTimeOptions {
  /** Fire times strictly after this instant. */
  after: Date;
  count: number;
  /** A `rate()` counts from here; required for rate. */
  startDate?: Date;
  endDate?: Date;
}

/**
 * The next fire times of an expression, as EventBridge Scheduler computes them in UTC (before
 * its up-to-60-second delivery jitter).
 *
 * @example nextFireTimes("cron(0/7 * * * ? *)", { after: new Date("2026-01-01T10:40:00Z"), count: 2 })
 * // [10:42, 10:49]
 */
export function nextFireTimes(
  expression: string | ScheduleExpression,
  options: FireTimeOptions,
): Date[] {
  const parsed = typeof expression === "string" ? parseScheduleExpression(expression) : expression;
  const after = options.after.getTime();
  const end = options.endDate?.getTime() ?? Number.POSITIVE_INFINITY;
  const start = options.startDate?.getTime() ?? Number.NEGATIVE_INFINITY;
  const times: number[] = [];
  if (parsed.kind === "at") {
    if (parsed.at > after && parsed.at <= end) times.push(parsed.at);
  } else if (parsed.kind === "rate") {
    if (options.startDate === undefined)
      throw new ScheduleExpressionError("rate() needs a StartDate to be evaluated");
    const origin = options.startDate.getTime();
    let k = after < origin ? 0 : Math.floor((after - origin) / parsed.periodMs) + 1;
    while (times.length < options.count) {
      const time = origin + k * parsed.periodMs;
      if (time > end) break;
      if (time > after) times.push(time);
      k += 1;
    }
  } else {
    cronTimes(parsed.cron, Math.max(after, start - 1), end, options.count, times);
  }
  return times.slice(0, options.count).map((time) => new Date(time));
}

function cronTimes(
  cron: CronFields,
  after: number,
  end: number,
  count: number,
  out: number[],
): void {
  const from = new Date(after);
  const minutes = [...cron.minutes].sort((a, b) => a - b);
  const hours = [...cron.hours].sort((a, b) => a - b);
  const months = [...cron.months].sort((a, b) => a - b);
  for (let year = from.getUTCFullYear(); year <= 2199; year += 1) {
    if (cron.years && !cron.years.has(year)) continue;
    for (const month of months) {
      if (Date.UTC(year, month, 1) <= after) continue; // the whole month is past
      for (let day = 1; day <= daysInMonth(year, month); day += 1) {
        if (Date.UTC(year, month - 1, day + 1) <= after) continue;
        if (cron.dayOfMonth && !cron.dayOfMonth(year, month, day)) continue;
        if (cron.dayOfWeek && !cron.dayOfWeek(year, month, day)) continue;
        for (const hour of hours) {
          for (const minute of minutes) {
            const time = Date.UTC(year, month - 1, day, hour, minute);
            if (time <= after) continue;
            if (time > end || out.length >= count) return;
            out.push(time);
          }
        }
      }
    }
  }
}

/** `at(...)` for an instant, to the second (EventBridge fires within the following minute). */
export function atExpression(date: Date): string {
  return `at(${date.toISOString().slice(0, 19)})`;
}
