import { JobValidationError } from "../../errors.ts";
import { LANES, type LaneName } from "../../resources.ts";
import { deepEqual } from "../match.ts";
import { laneFor } from "../priority.ts";
import { JOB_STATUSES, type JobRecord, type JobStatus, type JsonValue } from "../types.ts";

/**
 * A filter as every surface gives it (the CLI's flags, the dashboard's query string, an
 * operations call): times as text or epoch ms, statuses as a list or comma-separated text.
 */
export interface JobFilter {
  type?: string;
  /** Reaction's shop (the job's tenant). */
  tenant?: string;
  /** A list, or comma-separated text (`"failed,ready"`). */
  statuses?: JobStatus[] | string;
  lane?: LaneName;
  /** Created at or after / at or before (ISO 8601, epoch ms, or a duration such as `1h`). */
  createdFrom?: string | number;
  createdTo?: string | number;
  /** One `data` field equal to a value (`"shopId=s1"`, `"order.id=42"`); needs `type`. */
  data?: string;
}

/** A filter as checked: times as epoch ms, the data condition parsed. */
export interface ListFilter {
  type?: string;
  tenant?: string;
  statuses?: ReadonlySet<JobStatus>;
  lane?: LaneName;
  from?: number;
  to?: number;
  data?: { path: string[]; value: JsonValue; text: string };
}

/** The raw filter's fields, in the order the surfaces name them. */
export const FILTER_FIELDS = [
  "type",
  "tenant",
  "statuses",
  "lane",
  "createdFrom",
  "createdTo",
  "data",
] as const;
const OPEN: readonly JobStatus[] = ["waiting", "ready", "running", "paused"];
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The one filter parser: checks a raw filter (from any surface) and returns the valid one; a
 * bad field throws a `JobValidationError` naming it. Empty text counts as not given. `now`
 * anchors durations (`1h` ago, `+10m` ahead); without it only absolute times are accepted.
 * `indexed` names a wrong status by its place in the list (`statuses[2]`), as the store's
 * `listJobs` always has; the operator surfaces name the field (`statuses`).
 *
 * @example validateFilter({ type: "sendEmail", statuses: "failed", createdFrom: "1h" }, now)
 */
export function validateFilter(
  filter: unknown,
  now?: number,
  options: { indexed?: boolean } = {},
): ListFilter {
  if (filter === undefined || filter === null) return {};
  if (typeof filter !== "object" || Array.isArray(filter))
    throw new JobValidationError("filter", "must be an object such as { type, statuses }");
  const input = filter as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(key))
      throw new JobValidationError(key, `is not a filter; use ${FILTER_FIELDS.join(", ")}`);
  }
  const given = (field: string) => input[field] !== undefined && input[field] !== "";
  const valid: ListFilter = {};
  for (const field of ["type", "tenant"] as const) {
    if (!given(field)) continue;
    const value = input[field];
    if (typeof value !== "string") throw new JobValidationError(field, "must be a string");
    valid[field] = value;
  }
  if (given("statuses")) valid.statuses = statusesOf(input.statuses, options.indexed === true);
  if (given("lane")) {
    if (!LANES.includes(input.lane as LaneName))
      throw new JobValidationError("lane", `must be one of ${LANES.join(", ")}`);
    valid.lane = input.lane as LaneName;
  }
  if (given("createdFrom")) valid.from = instant(input.createdFrom, "createdFrom", now);
  if (given("createdTo")) valid.to = instant(input.createdTo, "createdTo", now);
  if (valid.from !== undefined && valid.to !== undefined && valid.from > valid.to)
    throw new JobValidationError("createdFrom", `(${valid.from}) is after createdTo (${valid.to})`);
  if (given("data")) {
    if (valid.type === undefined)
      throw new JobValidationError("data", "a data search is within one type: give type too");
    valid.data = dataCondition(input.data);
  }
  return valid;
}

/** Only unfinished statuses asked for: the sparse open index finds them without the rest. */
export function onlyOpen(filter: ListFilter): boolean {
  return filter.statuses !== undefined && [...filter.statuses].every((s) => OPEN.includes(s));
}

/** Does a record pass the filter? (The listing reads apply type, tenant and times already.) */
export function passes(record: JobRecord, filter: ListFilter): boolean {
  if (filter.statuses && !filter.statuses.has(record.status)) return false;
  if (filter.tenant !== undefined && record.tenant !== filter.tenant) return false;
  if (filter.type !== undefined && record.type !== filter.type) return false;
  if (filter.lane && laneFor(record.priority) !== filter.lane) return false;
  if (filter.from !== undefined && record.created < filter.from) return false;
  if (filter.to !== undefined && record.created > filter.to) return false;
  if (filter.data) {
    const found = valueAt(record.data, filter.data.path);
    if (!deepEqual(found, filter.data.value) && found !== filter.data.text) return false;
  }
  return true;
}

/**
 * An instant: epoch ms, ISO 8601, or (given `now`) a duration back from now (`90s`, `15m`,
 * `1h`, `7d`), or ahead of now with a plus (`+10m`).
 *
 * @example instant("1h", "createdFrom", Date.UTC(2026, 0, 1, 12)) // Date.UTC(2026, 0, 1, 11)
 */
export function instant(value: unknown, field: string, now?: number): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string") {
    const relative = /^([+-]?)(\d+)\s*([smhd])$/.exec(value.trim());
    if (relative && now !== undefined) {
      const ms = Number(relative[2]) * (UNIT_MS[relative[3] as string] as number);
      return relative[1] === "+" ? now + ms : now - ms;
    }
    if (/^\d+$/.test(value)) return Number(value);
    const parsed = Date.parse(value);
    if (!relative && !Number.isNaN(parsed)) return parsed;
  }
  throw new JobValidationError(
    field,
    now === undefined
      ? `must be epoch milliseconds (an integer) or an ISO 8601 time, got ${String(value)}`
      : `must be an ISO 8601 time, epoch milliseconds, a duration ago such as 15m, 1h, 7d, or ahead such as +10m; got ${JSON.stringify(value)}`,
  );
}

/** Statuses as comma-separated text (a surface's) or a list; a wrong one is named. */
function statusesOf(value: unknown, indexed: boolean): ReadonlySet<JobStatus> {
  const list = typeof value === "string" ? value.split(",").map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new JobValidationError("statuses", `must list some of ${JOB_STATUSES.join(", ")}`);
  for (const [i, status] of list.entries()) {
    if (!JOB_STATUSES.includes(status as JobStatus))
      throw new JobValidationError(
        indexed ? `statuses[${i}]` : "statuses",
        `"${String(status)}" is not a status; use ${JOB_STATUSES.join(", ")}`,
      );
  }
  return new Set(list as JobStatus[]);
}

/** `key=value`: a dotted path below `data` (a leading `data.` is allowed) and a JSON value. */
function dataCondition(value: unknown): NonNullable<ListFilter["data"]> {
  const text = typeof value === "string" ? value : "";
  const at = text.indexOf("=");
  if (at <= 0)
    throw new JobValidationError(
      "data",
      `must be key=value (such as shopId=s1), got ${JSON.stringify(value)}`,
    );
  const key = text
    .slice(0, at)
    .trim()
    .replace(/^data\./, "");
  const raw = text.slice(at + 1);
  const path = key.split(".");
  if (path.some((part) => part === ""))
    throw new JobValidationError("data", `"${key}" is not a dotted key such as order.id`);
  let parsed: JsonValue = raw;
  try {
    parsed = JSON.parse(raw) as JsonValue;
  } catch {
    // not JSON: the text itself
  }
  return { path, value: parsed, text: raw };
}

function valueAt(value: JsonValue | undefined, path: string[]): JsonValue | undefined {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = Object.hasOwn(current, key) ? current[key] : undefined;
  }
  return current;
}
