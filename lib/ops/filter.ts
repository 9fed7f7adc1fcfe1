import { JobValidationError } from "../errors.ts";
import { deepEqual } from "../jobs/match.ts";
import { laneFor } from "../jobs/priority.ts";
import { JOB_STATUSES, type JobRecord, type JobStatus, type JsonValue } from "../jobs/types.ts";
import { LANES, type LaneName } from "../resources.ts";

/** A filter as checked: times as epoch ms, the data condition parsed. */
export interface ValidFilter {
  type?: string;
  tenant?: string;
  statuses?: ReadonlySet<JobStatus>;
  lane?: LaneName;
  from?: number;
  to?: number;
  data?: { path: string[]; value: JsonValue; text: string };
}

const FILTER_KEYS = new Set([
  "type",
  "tenant",
  "statuses",
  "lane",
  "createdFrom",
  "createdTo",
  "data",
]);
const OPEN: readonly JobStatus[] = ["waiting", "ready", "running", "paused"];
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Checks a filter; a bad one throws a `JobValidationError` naming the field.
 *
 * @example validateFilter({ type: "sendEmail", statuses: ["failed"], createdFrom: "1h" }, now)
 */
export function validateFilter(filter: unknown, now: number): ValidFilter {
  if (filter === undefined || filter === null) return {};
  if (typeof filter !== "object" || Array.isArray(filter))
    throw new JobValidationError("filter", "must be an object such as { type, statuses }");
  const input = filter as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!FILTER_KEYS.has(key))
      throw new JobValidationError(key, `is not a filter; use ${[...FILTER_KEYS].join(", ")}`);
  }
  const valid: ValidFilter = {};
  for (const field of ["type", "tenant"] as const) {
    const value = input[field];
    if (value === undefined || value === "") continue;
    if (typeof value !== "string") throw new JobValidationError(field, "must be a string");
    valid[field] = value;
  }
  if (input.statuses !== undefined) valid.statuses = statusesOf(input.statuses);
  if (input.lane !== undefined && input.lane !== "") {
    if (!LANES.includes(input.lane as LaneName))
      throw new JobValidationError("lane", `must be one of ${LANES.join(", ")}`);
    valid.lane = input.lane as LaneName;
  }
  if (input.createdFrom !== undefined && input.createdFrom !== "")
    valid.from = instant(input.createdFrom, "createdFrom", now);
  if (input.createdTo !== undefined && input.createdTo !== "")
    valid.to = instant(input.createdTo, "createdTo", now);
  if (valid.from !== undefined && valid.to !== undefined && valid.from > valid.to)
    throw new JobValidationError("createdFrom", "is after createdTo");
  if (input.data !== undefined && input.data !== "") {
    if (valid.type === undefined)
      throw new JobValidationError("data", "a data search is within one type: give type too");
    valid.data = dataCondition(input.data);
  }
  return valid;
}

/** Only unfinished statuses asked for: the sparse open index finds them without the rest. */
export function onlyOpen(filter: ValidFilter): boolean {
  return filter.statuses !== undefined && [...filter.statuses].every((s) => OPEN.includes(s));
}

/** Does a record pass the parts of the filter the listing index cannot apply? */
export function passes(record: JobRecord, filter: ValidFilter): boolean {
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
 * An instant: epoch ms, ISO 8601, or a duration back from now (`90s`, `15m`, `1h`, `7d`), or
 * ahead of now with a plus (`+10m`).
 *
 * @example instant("1h", Date.UTC(2026, 0, 1, 12)) // Date.UTC(2026, 0, 1, 11)
 */
export function instant(value: unknown, field: string, now: number): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string") {
    const relative = /^([+-]?)(\d+)\s*([smhd])$/.exec(value.trim());
    if (relative) {
      const ms = Number(relative[2]) * (UNIT_MS[relative[3] as string] as number);
      return relative[1] === "+" ? now + ms : now - ms;
    }
    if (/^\d+$/.test(value)) return Number(value);
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new JobValidationError(
    field,
    `must be an ISO 8601 time, epoch milliseconds, a duration ago such as 15m, 1h, 7d, or ahead such as +10m; got ${JSON.stringify(value)}`,
  );
}

function statusesOf(value: unknown): ReadonlySet<JobStatus> {
  const list = typeof value === "string" ? value.split(",").filter(Boolean) : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new JobValidationError("statuses", `must list some of ${JOB_STATUSES.join(", ")}`);
  for (const status of list) {
    if (!JOB_STATUSES.includes(status as JobStatus))
      throw new JobValidationError(
        "statuses",
        `"${String(status)}" is not a status; use ${JOB_STATUSES.join(", ")}`,
      );
  }
  return new Set(list as JobStatus[]);
}

/** `key=value`: a dotted path below `data` (a leading `data.` is allowed) and a JSON value. */
function dataCondition(value: unknown): NonNullable<ValidFilter["data"]> {
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
