import { laneFor } from "../jobs/priority.ts";
import { FOREVER } from "../jobs/retry.ts";
import type { JobRecord } from "../jobs/types.ts";
import type { JobSummary } from "./types.ts";

/** A job as lists show it. */
export function toSummary(record: JobRecord): JobSummary {
  const summary: JobSummary = {
    id: record._id,
    type: record.type,
    status: record.status,
    lane: laneFor(record.priority),
    priority: record.priority,
    created: iso(record.created),
    updated: iso(record.updated),
    after: iso(record.after),
    attempts: record.retried,
    attemptsLeft: record.retries >= FOREVER - 1 ? "forever" : record.retries,
    progress: record.progress?.percent ?? 0,
  };
  if (record.tenant !== undefined) summary.tenant = record.tenant;
  const error = record.failures?.at(-1)?.value;
  if (error !== undefined) summary.lastError = String(error).slice(0, 300);
  if (record.repeat) summary.schedule = record.repeat.schedule;
  if (record.templateId) summary.templateId = record.templateId;
  return summary;
}

export function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
