import { cancelRecord } from "../cancel.ts";
import type { JobDeps } from "../deps.ts";
import type { JobRecord, JsonValue } from "../types.ts";

/**
 * `scheduleJob({ type, data, schedule, cancelRepeats: true })` when an open template of the
 * same type, data and schedule text exists: that template is kept (same id, its schedule and
 * any running occurrence untouched) and returned, and any other open template of the type is
 * cancelled. A server that restarts, or a deploy that runs startup again, then churns nothing.
 * Reaction instead cancelled every job of the type and made a new template, losing the
 * running occurrence. `null` when there is no such template (then Reaction's way applies).
 */
export async function keepIdenticalTemplate(
  deps: JobDeps,
  wanted: { type: string; data: JsonValue; schedule: string },
): Promise<JobRecord | null> {
  const open = await deps.store.openJobsOfType(wanted.type);
  const records = await Promise.all(open.map(({ _id }) => deps.store.getJob(_id)));
  const templates = records
    .filter((record): record is JobRecord => record?.repeat !== undefined)
    .filter((record) => record.status === "waiting" || record.status === "paused")
    .sort((a, b) => a.created - b.created || (a._id < b._id ? -1 : 1));
  const identity = sameIdentity(wanted);
  const kept = templates.find(identity);
  if (!kept) return null;
  for (const other of templates) if (other !== kept) await cancelRecord(deps, other);
  return kept;
}

function sameIdentity(wanted: {
  data: JsonValue;
  schedule: string;
}): (record: JobRecord) => boolean {
  const data = canonical(wanted.data);
  return (record) => record.repeat?.schedule === wanted.schedule && canonical(record.data) === data;
}

/** JSON text with object keys sorted, so `{a, b}` and `{b, a}` compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}
