import type { JobRecord, JsonObject, JsonValue } from "../jobs/types.ts";
import { iso, toSummary } from "./list.ts";
import type { OpsDeps, Redact } from "./ports.ts";
import type { AttemptView, JobDetail } from "./types.ts";

/** Keys whose values the default redaction hides, at any depth of a job's data. */
const SECRET_KEY =
  /pass(word)?|secret|token|api[-_]?key|authorization|credential|cvv|card.?number|ssn/i;

/**
 * The default redaction: values under keys that look like secrets (`password`, `apiKey`,
 * `token`, `authorization`, `cardNumber`...) become `"[redacted]"`, at any depth.
 *
 * @example redactSecrets({ to: "a@b.c", smtp: { password: "x" } }) // { to: "a@b.c", smtp: { password: "[redacted]" } }
 */
export const redactSecrets: Redact = (data) => redactValue(data) as JsonObject;

function redactValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value !== "object" || value === null) return value;
  const copy: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) ? "[redacted]" : redactValue(inner);
  }
  return copy;
}

/**
 * A job as its detail page shows it: data (redacted), result, progress, its log, every
 * attempt kept (the running one last, without an end) and its operator audit trail.
 * `null` for an unknown id.
 */
export async function jobDetail(deps: OpsDeps, id: string): Promise<JobDetail | null> {
  const record = await deps.jobs.store.getJob(id);
  return record ? detailOf(deps, record) : null;
}

export function detailOf(deps: OpsDeps, record: JobRecord): JobDetail {
  const detail: JobDetail = {
    ...toSummary(record),
    data: deps.redact(record.data, { id: record._id, type: record.type }),
    progressDetail: record.progress,
    failures: record.failures ?? [],
    log: (record.log ?? []).map((entry) => ({
      time: iso(entry.time),
      level: entry.level,
      message: entry.message,
      runId: entry.runId,
      ...(entry.data ? { data: entry.data } : {}),
    })),
    attemptHistory: attemptsOf(record, deps.jobs.clock.now()),
    audit: (record.audit ?? []).map((entry) => ({
      at: iso(entry.at),
      actor: entry.actor,
      action: entry.action,
      from: entry.from,
      to: entry.to,
      ...(entry.detail ? { detail: entry.detail } : {}),
    })),
    retry: { wait: record.retryWait, backoff: record.retryBackoff, until: iso(record.retryUntil) },
    runId: record.runId ?? null,
  };
  if (record.result !== undefined) detail.result = record.result;
  if (record.status === "running") {
    if (record.leaseUntil !== undefined) detail.leaseUntil = iso(record.leaseUntil);
    if (record.workTimeout !== undefined) detail.workTimeout = record.workTimeout;
  }
  if (record.repeat) detail.repeat = { ...record.repeat };
  if (record.lastOccurrenceId) detail.lastOccurrenceId = record.lastOccurrenceId;
  if (record.expiresAt !== undefined) detail.expiresAt = iso(record.expiresAt * 1000);
  return detail;
}

function attemptsOf(record: JobRecord, now: number): AttemptView[] {
  const views: AttemptView[] = (record.attempts ?? []).map((attempt) => ({
    runId: attempt.runId,
    startedAt: iso(attempt.startedAt),
    endedAt: iso(attempt.endedAt),
    durationMs: attempt.endedAt - attempt.startedAt,
    outcome: attempt.outcome,
    ...(attempt.waitMs !== undefined ? { waitMs: attempt.waitMs } : {}),
    ...(attempt.error !== undefined ? { error: attempt.error } : {}),
  }));
  if (record.status === "running" && record.runId) {
    const startedAt = record.runStartedAt ?? record.updated;
    views.push({
      runId: record.runId,
      startedAt: iso(startedAt),
      durationMs: Math.max(0, now - startedAt),
      outcome: "running",
    });
  }
  return views;
}
