import type { LaterRecurrence, LaterSchedule } from "./later-text.ts";

/**
 * How a later.js schedule is armed on EventBridge Scheduler: one recurring `cron()`, an aligned
 * `rate()` (with `StartDate` on later's grid), or a chain (each firing arms the next) when
 * EventBridge cannot express later's occurrences exactly.
 */
export type ScheduleForm =
  | { kind: "cron"; expression: string }
  | { kind: "rate"; expression: string }
  | { kind: "chain"; reason: string };

const SUPPORTED_UNITS = new Set(["s", "m", "h", "t", "D", "d", "M", "Y"]);
/** later's units from the smallest up, with their ranges. */
const RANK = { s: 0, m: 1, h: 2, day: 3, M: 4, Y: 5 } as const;

/**
 * The EventBridge form of a later.js schedule whose fire times equal later's own.
 *
 * @example toScheduleForm({ schedules: [{ m: [0, 7, 14, 21, 28, 35, 42, 49, 56] }], exceptions: [] })
 * // { kind: "cron", expression: "cron(0/7 * * * ? *)" }
 */
export function toScheduleForm(schedule: LaterSchedule): ScheduleForm {
  if (schedule.exceptions.length > 0)
    return chain("exceptions (except ...) do not fold into one expression");
  if (schedule.schedules.length !== 1)
    return chain("several schedules (also ...) would need several expressions");
  const r = schedule.schedules[0] as LaterRecurrence;
  for (const [unit, vals] of Object.entries(r)) {
    if (!SUPPORTED_UNITS.has(unit))
      return chain(`later's "${unit}" constraint has no EventBridge field`);
    if (vals.length === 0)
      return chain(`later's "${unit}" constraint is empty (later reads it its own way)`);
  }
  if (r.s && !(r.s.length === 1 && r.s[0] === 0))
    return chain("seconds: EventBridge fires at most once a minute");
  if (r.D && r.d)
    return chain("day of month together with day of week (EventBridge needs one of them to be ?)");
  let minutes = r.m;
  let hours = r.h;
  if (r.t) {
    if (minutes || hours) return chain("a time of day together with minutes or hours");
    if (r.t.some((t) => t % 60 !== 0)) return chain("a time of day with seconds");
    const mins = unique(r.t.map((t) => Math.floor((t % 3600) / 60)));
    const hrs = unique(r.t.map((t) => Math.floor(t / 3600)));
    if (mins.length * hrs.length !== unique(r.t).length) {
      return chain(
        "several times of day with different minutes (cron would cross hours and minutes)",
      );
    }
    minutes = mins;
    hours = hrs;
  }
  if (r.D?.includes(0) && r.D.length > 1)
    return chain("the last day of the month together with other days");
  if (r.Y?.some((y) => y < 1970 || y > 2199)) return chain("years outside EventBridge's 1970-2199");

  const rate = alignedRate(r, minutes, hours);
  if (rate) return { kind: "rate", expression: rate };

  // later fixes every unit below the lowest constrained one at its minimum; above, any value.
  const lowest = Math.min(
    ...[
      r.s ? RANK.s : Number.POSITIVE_INFINITY,
      minutes ? RANK.m : Number.POSITIVE_INFINITY,
      hours ? RANK.h : Number.POSITIVE_INFINITY,
      r.D || r.d ? RANK.day : Number.POSITIVE_INFINITY,
      r.M ? RANK.M : Number.POSITIVE_INFINITY,
      r.Y ? RANK.Y : Number.POSITIVE_INFINITY,
    ],
  );
  const field = (vals: number[] | undefined, rank: number, min: number, max: number) =>
    vals ? compact(vals, min, max) : rank < lowest ? String(min) : "*";
  const minuteField = field(minutes, RANK.m, 0, 59);
  const hourField = field(hours, RANK.h, 0, 23);
  let dom = "?";
  let dow = "?";
  if (r.d) dow = compact(r.d, 1, 7, false);
  else if (r.D) dom = r.D[0] === 0 ? "L" : compact(r.D, 1, 31);
  else dom = RANK.day < lowest ? "1" : "*";
  const monthField = field(r.M, RANK.M, 1, 12);
  const yearField = r.Y ? compact(r.Y, 1970, 2199) : "*";
  return {
    kind: "cron",
    expression: `cron(${minuteField} ${hourField} ${dom} ${monthField} ${dow} ${yearField})`,
  };
}

/**
 * `rate()` only where later's grid is a whole number of periods per enclosing unit and
 * nothing else is constrained: every N minutes with N dividing 60, every N hours with N
 * dividing 24, every day. (`every 7 minutes` is not a rate: later restarts at each hour.)
 */
function alignedRate(r: LaterRecurrence, minutes?: number[], hours?: number[]): string | null {
  const others = Object.keys(r).filter((unit) => unit !== "s" && unit !== "t");
  if (r.t) return null;
  if (others.length !== 1) return null;
  const grid = (vals: number[], size: number): number | null => {
    if (vals.length < 2 || vals[0] !== 0) return null;
    const step = (vals[1] as number) - (vals[0] as number);
    if (size % step !== 0 || vals.length !== size / step) return null;
    return vals.every((v, i) => v === i * step) ? step : null;
  };
  if (others[0] === "m" && minutes) {
    const step = grid(minutes, 60);
    return step ? `rate(${step} ${step === 1 ? "minute" : "minutes"})` : null;
  }
  if (others[0] === "h" && hours) {
    const step = grid(hours, 24);
    return step ? `rate(${step} ${step === 1 ? "hour" : "hours"})` : null;
  }
  if (others[0] === "D" && r.D && r.D.length === 31 && r.D.every((v, i) => v === i + 1))
    return "rate(1 day)";
  return null;
}

/** A cron field for a set of values: `*`, `a/step` (not allowed in day-of-week), `a-b`, or a list. */
function compact(vals: number[], min: number, max: number, steps = true): string {
  const sorted = unique(vals).sort((a, b) => a - b);
  if (sorted.length === max - min + 1) return "*";
  const first = sorted[0] as number;
  if (sorted.length >= 2) {
    const step = (sorted[1] as number) - first;
    const progression = sorted.every((v, i) => v === first + i * step);
    if (progression && step === 1) return `${first}-${sorted.at(-1)}`;
    if (steps && progression && (sorted.at(-1) as number) + step > max) return `${first}/${step}`;
  }
  return sorted.join(",");
}

function unique(vals: number[]): number[] {
  return [...new Set(vals)];
}

function chain(reason: string): ScheduleForm {
  return { kind: "chain", reason };
}
