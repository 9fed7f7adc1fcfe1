/**
 * Which index keys and run attributes a record carries for its status: a lifecycle rule both
 * job stores apply the same way, each with its own statements.
 */
import { NEVER_DUE, openKeyFor, typeKeyFor } from "./keys.ts";
import type { JobChanges } from "./ports.ts";
import { type JobRecord, TERMINAL } from "./types.ts";

/**
 * Index keys for a freshly written record. `typeKey` and `openKey` are never written again;
 * `dueAt` is present while the job is open (the `open` index is sparse on it).
 *
 * @example { ...record, ...indexKeys(record) } // what an insert writes
 */
export function indexKeys(record: JobRecord): Partial<JobRecord> {
  const keys: Partial<JobRecord> = {
    typeKey: typeKeyFor(record.type, record._id, record.tenant),
    openKey: openKeyFor(record.type, record._id, record.tenant),
  };
  if (TERMINAL.includes(record.status)) return keys;
  return { ...keys, dueAt: record.status === "paused" ? NEVER_DUE : record.after };
}

/** What a status change does to the attributes that follow the status, beyond the changes. */
export interface StatusFollowers {
  /**
   * The new `dueAt`: a number, or `"after"` for the record's `after` as it was before the
   * write (DynamoDB's `SET dueAt = after` reads the old value). Absent: `dueAt` as it is.
   */
  dueAt?: number | "after";
  /** Attributes removed, after the changes are applied (a removal wins over a change). */
  remove: Array<keyof JobRecord>;
}

/**
 * Keeps `dueAt` in step with a status change: removed when the job ends (it leaves the
 * `open` index), never due while paused, unchanged by a claim, else `dueAt` or `after` as
 * given, or the record's `after`. An open job loses its TTL unless one is given, and a job
 * that is not running loses its lease; a fresh due time restarts the re-send backoff.
 *
 * @example followStatus({ status: "paused" }).dueAt // NEVER_DUE
 */
export function followStatus(changes: JobChanges): StatusFollowers {
  const { status } = changes;
  if (TERMINAL.includes(status)) return { remove: ["dueAt", "leaseUntil", "workTimeout"] };
  const remove: Array<keyof JobRecord> = changes.expiresAt === undefined ? ["expiresAt"] : [];
  if (status === "paused") {
    return { dueAt: NEVER_DUE, remove: [...remove, "leaseUntil", "workTimeout"] };
  }
  if (status === "running") return { remove };
  // A fresh due time starts the reconciler's re-send backoff again.
  if (changes.nudges === undefined) remove.push("nudges");
  remove.push("leaseUntil", "workTimeout");
  if (changes.dueAt !== undefined) return { remove };
  return { dueAt: changes.after ?? "after", remove };
}
