/**
 * What a move did (or, dry, would do): counts, counts by the status each job had in MongoDB
 * and by the status it has here, and one warning per document not imported, naming its
 * `_id` and the field at fault.
 */
import type { JobStatus } from "../jobs/types.ts";
import type { ImportOutcome } from "./import.ts";
import type { ImportPlan } from "./plan.ts";

export interface MigrationWarning {
  /** The document's `_id` (as text). */
  id: string;
  /** The field at fault (`status`, `repeatWait`, `data.total`...), or `_id`. */
  field: string;
  message: string;
}

export interface MigrationReport {
  /** Nothing was written: the counts say what a real run would do now. */
  dryRun: boolean;
  /** Documents in the `Jobs` collection. */
  read: number;
  /** Written here under their own ids (a dry run: would be). */
  imported: number;
  /** Already here under that id (a run before this one): left as they are. */
  skipped: number;
  /**
   * Repeating jobs not imported because one of the same type and data is already scheduled
   * here (a plugin's startup made it again, as Reaction's sitemap plugin does per shop).
   */
  duplicates: number;
  /** Finished jobs their type's cleanup rule would already have purged: not imported. */
  expired: number;
  /** Documents not imported for a field this system cannot store: see `warnings`. */
  invalid: number;
  /** Imported jobs by their status in MongoDB. */
  byStatus: Partial<Record<JobStatus, number>>;
  /** Imported jobs by their status here (`running` ones became `waiting` or `failed`). */
  asImported: Partial<Record<JobStatus, number>>;
  /** Repeating jobs imported as templates (armed on EventBridge Scheduler). */
  repeating: number;
  warnings: MigrationWarning[];
  /** Other things to know, one line each (duplicates, documents with ids that are not strings). */
  notes: string[];
  /** How long the move took, in ms. */
  durationMs: number;
  /** Stopped early (Ctrl-C): the documents after `read` were not looked at; run it again. */
  interrupted?: boolean;
}

/** An empty report to add a run's pages to. */
export function emptyReport(dryRun: boolean): MigrationReport {
  return {
    dryRun,
    read: 0,
    imported: 0,
    skipped: 0,
    duplicates: 0,
    expired: 0,
    invalid: 0,
    byStatus: {},
    asImported: {},
    repeating: 0,
    warnings: [],
    notes: [],
    durationMs: 0,
  };
}

/** Counts one planned document's outcome. */
export function countOutcome(
  report: MigrationReport,
  plan: Exclude<ImportPlan, { kind: "expired" }>,
  outcome: ImportOutcome,
): void {
  switch (outcome.outcome) {
    case "skipped":
      report.skipped += 1;
      return;
    case "duplicate":
      report.duplicates += 1;
      report.notes.push(
        `${plan.id}: not imported, the repeating ${plan.type} job ${outcome.existing} with the same data is scheduled here already`,
      );
      return;
    case "failed":
      addWarning(report, { id: plan.id, field: outcome.field, message: outcome.message });
      return;
    case "imported": {
      report.imported += 1;
      bump(report.byStatus, plan.status);
      bump(report.asImported, plan.kind === "repeat" ? plan.template.status : plan.record.status);
      if (plan.kind === "repeat") report.repeating += 1;
    }
  }
}

export function addWarning(report: MigrationReport, warning: MigrationWarning): void {
  report.invalid += 1;
  report.warnings.push(warning);
}

function bump(counts: Partial<Record<JobStatus, number>>, status: JobStatus): void {
  counts[status] = (counts[status] ?? 0) + 1;
}

/**
 * The report as an operator reads it.
 *
 * @example console.log(reportText(report))
 */
export function reportText(report: MigrationReport): string {
  const verb = report.dryRun ? "would import" : "imported";
  const statuses = (counts: Partial<Record<JobStatus, number>>) =>
    Object.entries(counts)
      .map(([status, n]) => `${status} ${n}`)
      .join(", ") || "none";
  const lines = [
    `${report.dryRun ? "dry run: nothing written. " : ""}${report.read} documents read: ${verb} ${report.imported}, skipped ${report.skipped} (already here), ${report.duplicates} duplicate repeats, ${report.expired} expired, ${report.invalid} not importable`,
    `  from MongoDB: ${statuses(report.byStatus)}`,
    `  here:         ${statuses(report.asImported)} (${report.repeating} repeating, armed on EventBridge Scheduler)`,
  ];
  for (const warning of report.warnings)
    lines.push(`  warning ${warning.id}: ${warning.field}: ${warning.message}`);
  for (const note of report.notes) lines.push(`  note ${note}`);
  if (report.interrupted)
    lines.push("  interrupted: the documents after these were not read; run it again to go on");
  lines.push(`  took ${(report.durationMs / 1000).toFixed(1)} s`);
  return `${lines.join("\n")}\n`;
}
