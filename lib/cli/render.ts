import type { ActionReport, JobDetail, ScheduleNext } from "../ops/types.ts";

/** An ISO time as a table shows it: `2026-01-05 10:00:00` (UTC). */
export function shortTime(value: string | undefined): string {
  return value ? value.slice(0, 19).replace("T", " ") : "";
}

/** Milliseconds as a person reads them: `850 ms`, `12.4 s`, `3 min`. */
export function human(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A job's detail as text: its fields, attempts, audit trail and the end of its log. */
export function renderDetail(job: JobDetail): string {
  const lines = [
    `${job.id}  ${job.type}  ${job.status}`,
    `  lane ${job.lane} (priority ${job.priority})${job.tenant ? `  tenant ${job.tenant}` : ""}`,
    `  created ${shortTime(job.created)}  updated ${shortTime(job.updated)}  due ${shortTime(job.after)}`,
    `  attempts ${job.attempts}, left ${job.attemptsLeft}; retry wait ${human(job.retry.wait)} ${job.retry.backoff}`,
    `  progress ${job.progressDetail.completed}/${job.progressDetail.total} (${Math.round(job.progressDetail.percent)}%)`,
  ];
  if (job.repeat)
    lines.push(`  repeats "${job.repeat.schedule}" as ${job.repeat.expression ?? "a chain"}`);
  if (job.templateId) lines.push(`  occurrence of ${job.templateId}`);
  if (job.expiresAt) lines.push(`  purged after ${shortTime(job.expiresAt)}`);
  lines.push(`  data ${JSON.stringify(job.data)}`);
  if (job.result) lines.push(`  result ${JSON.stringify(job.result)}`);
  lines.push("", "attempts");
  if (job.attemptHistory.length === 0) lines.push("  none yet");
  for (const attempt of job.attemptHistory) {
    lines.push(
      `  ${shortTime(attempt.startedAt)}  ${attempt.outcome.padEnd(9)}  ${human(attempt.durationMs).padStart(8)}  waited ${human(attempt.waitMs) || "?"}  run ${attempt.runId}${attempt.error ? `  ${attempt.error}` : ""}`,
    );
  }
  lines.push("", "audit");
  if (job.audit.length === 0) lines.push("  no operator action");
  for (const entry of job.audit) {
    lines.push(
      `  ${shortTime(entry.at)}  ${entry.actor}  ${entry.action}  ${entry.from} -> ${entry.to}${entry.detail ? `  (${entry.detail})` : ""}`,
    );
  }
  if (job.log.length > 0) {
    lines.push("", `log (last ${Math.min(10, job.log.length)} of ${job.log.length})`);
    for (const entry of job.log.slice(-10))
      lines.push(`  ${shortTime(entry.time)}  ${entry.level.padEnd(7)}  ${entry.message}`);
  }
  return lines.join("\n");
}

/** An action's report as text: the counts, why jobs were skipped, what failed. */
export function renderReport(report: ActionReport): string {
  const verb = report.dryRun ? "would change" : "changed";
  const lines = [
    `${report.action}${report.dryRun ? " (dry run)" : ""}: ${report.matched} matched, ${report.changed} ${verb}, ${report.skipped} skipped, ${report.failed} failed (read ${report.read}, ${human(report.ms)})${report.interrupted ? ", interrupted" : ""}`,
  ];
  for (const [reason, count] of Object.entries(report.skippedBecause))
    lines.push(`  skipped ${count}: ${reason}`);
  for (const failure of report.failures) lines.push(`  failed ${failure.id}: ${failure.error}`);
  if (report.matched <= 20 && report.changedIds.length > 0)
    lines.push(`  ${verb}: ${report.changedIds.join(" ")}`);
  return lines.join("\n");
}

/** A schedule text's description as text. */
export function renderNext(next: ScheduleNext): string {
  return [
    `"${next.text}"`,
    `  EventBridge: ${next.eventBridge}${next.chainedBecause ? ` (${next.chainedBecause})` : ""}`,
    "  next (UTC):",
    ...next.next.map((time) => `    ${shortTime(time)}`),
    ...next.warnings.map((warning) => `  warning: ${warning}`),
  ].join("\n");
}
