import { laterFireTimes, parseScheduleText } from "./later-text.ts";
import { toScheduleForm } from "./translate.ts";

export interface ScheduleDescription {
  text: string;
  /** The EventBridge expression armed for it, or `"chained"` (each firing arms the next). */
  eventBridge: string;
  /** Why it is chained, when it is. */
  chainedBecause?: string;
  /** The next fire times, later.js's own, UTC. */
  next: Date[];
  /** Known surprises: a partial parse, a period that is not what the text seems to say. */
  warnings: string[];
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/**
 * What a later.js schedule text will do here, before you schedule it.
 *
 * @example describeSchedule("every 90 minutes", { count: 3 })
 * // { eventBridge: "cron(0 * * * ? *)", next: [11:00, 12:00, 13:00],
 * //   warnings: ['"every 90 minutes" fires every 1 hour in later.js, not every 90 minutes'] }
 */
export function describeSchedule(
  text: string,
  options: { count?: number; now?: Date } = {},
): ScheduleDescription {
  const now = options.now ?? new Date();
  const parsed = parseScheduleText(text, now);
  const form = toScheduleForm(parsed.schedule);
  // Enough fire times to see a period restart (later's "every N" restarts each hour, day...).
  const next = laterFireTimes(parsed.schedule, now, Math.max(options.count ?? 5, 30));
  const warnings: string[] = [];
  if (parsed.warning) warnings.push(parsed.warning);
  const every = /every\s+(\d+)?\s*(sec|second|s|min|minute|m|hour|h|day|week)s?\b/i.exec(text);
  if (every && next.length >= 3) {
    const stated = Number(every[1] ?? 1) * (UNIT_MS[(every[2] as string).toLowerCase()] ?? 0);
    const gaps = next.slice(1).map((date, i) => date.getTime() - (next[i] as Date).getTime());
    if (stated > 0 && gaps.some((gap) => gap !== stated)) {
      warnings.push(
        `${JSON.stringify(text)} does not fire at a fixed ${every[1] ?? 1} ${every[2]} period in later.js: gaps are ${[...new Set(gaps)].map(human).join(", ")}`,
      );
    }
  }
  const description: ScheduleDescription = {
    text,
    eventBridge: form.kind === "chain" ? "chained" : form.expression,
    next: next.slice(0, options.count ?? 5),
    warnings,
  };
  if (form.kind === "chain") description.chainedBecause = form.reason;
  return description;
}

function human(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
