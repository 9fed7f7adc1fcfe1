import type { JobSystem } from "./system.ts";
import type { CancelFilter } from "./validate.ts";

export interface ReconcileOptions {
  /** A due job with no run for this long is taken to have lost its message. */
  staleAfterMs?: number;
  /** A cancel request is swept again once the index has had this long to catch up. */
  indexSettleMs?: number;
}

export interface ReconcileReport {
  requeued: number;
  expired: number;
  cancelSweeps: number;
}

export const DEFAULT_STALE_AFTER_MS = 60_000;
export const DEFAULT_INDEX_SETTLE_MS = 10_000;
const TOMBSTONE_PREFIX = "#cancels#";

/**
 * One reconciler pass (a scheduled Lambda every minute on AWS; a timer locally):
 * - a running job whose lease ended (its process died) fails that attempt and retries or fails;
 * - a job due longer than `staleAfterMs` with nobody running it lost its message (a crash
 *   between the record write and the send): it is enqueued again;
 * - a `cancelJobs` call is swept again once the type index has caught up, so a job the index
 *   did not show at the time, running or not, is still cancelled.
 */
export async function reconcile(
  system: JobSystem,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const staleAfter = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const settle = options.indexSettleMs ?? DEFAULT_INDEX_SETTLE_MS;
  const now = system.now();
  const report: ReconcileReport = { requeued: 0, expired: 0, cancelSweeps: 0 };
  for (const id of await system.store.dueJobs(now)) {
    if (id.startsWith(TOMBSTONE_PREFIX)) {
      if (await sweepCancels(system, id.slice(TOMBSTONE_PREFIX.length), now - settle))
        report.cancelSweeps += 1;
      continue;
    }
    const record = await system.store.getJob(id);
    if (!record) continue;
    if (record.status === "running") {
      if ((record.leaseUntil ?? 0) < now && (await system.expireRun(record))) report.expired += 1;
    } else if (
      (record.status === "waiting" || record.status === "ready") &&
      (record.dueAt ?? record.after) <= now - staleAfter
    ) {
      // Sent again, then left alone for 1, 2, 4... x staleAfter: a long backlog (whose
      // messages are only waiting their turn) is not flooded with copies.
      const nudges = record.nudges ?? 0;
      const marked = await system.store.transition(record._id, [record.status], {
        status: record.status,
        after: record.after,
        dueAt: now + staleAfter * (2 ** nudges - 1),
        nudges: nudges + 1,
      });
      if (marked) {
        if (marked.repeat) await system.fireMissed(marked);
        else await system.enqueueSafely(marked);
        report.requeued += 1;
      }
    }
  }
  return report;
}

/** Re-applies a type's recorded cancel requests older than `upTo`, then drops them. */
async function sweepCancels(system: JobSystem, type: string, upTo: number): Promise<boolean> {
  const requests = (await system.store.cancelsFor(type)).filter((request) => request.at <= upTo);
  if (requests.length === 0) return false;
  const open = await system.store.openJobsOfType(type);
  for (const request of requests) {
    await system.cancelMatching(
      open.map((job) => job._id),
      JSON.parse(request.filter) as CancelFilter,
      request.at,
    );
  }
  await system.store.clearCancels(type, Math.max(...requests.map((request) => request.at)));
  return true;
}

/**
 * After the local queues started empty (they keep no messages across restarts), puts every
 * waiting and ready job's message back, and every chain's next link. Running jobs are left
 * to their lease.
 */
export async function requeueAll(system: JobSystem): Promise<number> {
  let requeued = 0;
  for (const id of await system.store.dueJobs(Number.MAX_SAFE_INTEGER)) {
    if (id.startsWith(TOMBSTONE_PREFIX)) continue;
    const record = await system.store.getJob(id);
    if (!record || (record.status !== "waiting" && record.status !== "ready")) continue;
    if (record.repeat) {
      // A firing missed while stopped fires now; a chain's next link (an SQS delay) is re-armed.
      // Recurring schedules are kept by the scheduler itself.
      if (record.after <= system.now()) await system.fireMissed(record);
      else if (record.repeat.form === "chain") await system.armNext(record, new Date(record.after));
      else continue;
    } else {
      await system.enqueueSafely(record);
    }
    requeued += 1;
  }
  return requeued;
}
