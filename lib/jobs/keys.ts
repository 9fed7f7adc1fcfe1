/**
 * Every name the lifecycle derives from a job: schedule names and occurrence ids. One file,
 * so a name is never built two ways (EventBridge schedule names: `[0-9a-zA-Z-_.]`, 64 at most).
 */

/** A template's recurring schedule. */
export function recurringName(templateId: string): string {
  return `job-${templateId}`;
}

/** A one-time schedule for a job at an instant (a long wait, or a chain's next link). */
export function onceName(jobId: string, at: number): string {
  return `at-${jobId}-${Math.floor(at / 1000)}`;
}

/**
 * An occurrence's id: its template's and the instant it fired for, so a duplicate firing
 * makes nothing new.
 *
 * @example occurrenceIdFor("T", Date.UTC(2026, 0, 1)) // "T-20260101T000000Z"
 */
export function occurrenceIdFor(templateId: string, firedAt: number): string {
  return `${templateId}-${new Date(firedAt).toISOString().replace(/[-:]|\.\d{3}/g, "")}`;
}
