import { applyLoggedCancels } from "./cancel.ts";
import type { JobDeps, JobSettings } from "./deps.ts";
import { enqueueSafely } from "./enqueue.ts";
import { armNext, fireMissed } from "./repeat/arm.ts";
import { expireRun } from "./run/expire.ts";

/** Reconciler settings a caller may override for one pass (see `JobSettings`). */
export type ReconcileOptions = Partial<Pick<JobSettings, "staleAfterMs" | "indexSettleMs">>;

export interface ReconcileReport {
  requeued: number;
  expired: number;
  cancelSweeps: number;
}

/**
 * One reconciler pass (a scheduled Lambda every minute on AWS; a timer locally):
 * - a running job whose lease ended (its process died) fails that attempt and retries or fails;
 * - a job due longer than `staleAfterMs` with nobody running it lost its message (a crash
 *   between the record write and the send): it is sent again, then left alone for 1, 2, 4...
 *   x `staleAfterMs`, so a long backlog (whose messages only wait their turn) is not flooded;
 * - a template whose firing never came fires once;
 * - `cancelJobs` requests are applied again once the type index has caught up, then dropped.
 */
export async function reconcile(
  deps: JobDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const { staleAfterMs, indexSettleMs } = { ...deps.settings, ...options };
  const now = deps.clock.now();
  const report: ReconcileReport = { requeued: 0, expired: 0, cancelSweeps: 0 };
  for (const type of await deps.store.typesWithCancels(now - indexSettleMs)) {
    if ((await applyLoggedCancels(deps, type, now - indexSettleMs)) > 0) report.cancelSweeps += 1;
  }
  for (const id of await deps.store.dueJobs(now)) {
    const record = await deps.store.getJob(id);
    if (!record) continue;
    if (record.status === "running") {
      if ((record.leaseUntil ?? 0) < now && (await expireRun(deps, record))) report.expired += 1;
    } else if (
      (record.status === "waiting" || record.status === "ready") &&
      (record.dueAt ?? record.after) <= now - staleAfterMs
    ) {
      const nudges = record.nudges ?? 0;
      const marked = await deps.store.transition(record._id, [record.status], {
        status: record.status,
        after: record.after,
        dueAt: now + staleAfterMs * (2 ** nudges - 1),
        nudges: nudges + 1,
      });
      if (marked) {
        if (marked.repeat) await fireMissed(deps, marked);
        else await enqueueSafely(deps, marked);
        report.requeued += 1;
      }
    }
  }
  return report;
}

/**
 * After the local queues started empty (they keep no messages across restarts), puts every
 * waiting and ready job's message back, and every chain's next link. Running jobs are left
 * to their lease; recurring schedules are kept by the scheduler itself.
 */
export async function requeueAll(deps: JobDeps): Promise<number> {
  let requeued = 0;
  for (const id of await deps.store.dueJobs(Number.MAX_SAFE_INTEGER)) {
    const record = await deps.store.getJob(id);
    if (!record || (record.status !== "waiting" && record.status !== "ready")) continue;
    if (record.repeat) {
      // A firing missed while stopped fires now, once; a chain's next link is re-armed.
      if (record.after <= deps.clock.now()) await fireMissed(deps, record);
      else if (record.repeat.form === "chain") await armNext(deps, record, new Date(record.after));
      else continue;
    } else {
      await enqueueSafely(deps, record);
    }
    requeued += 1;
  }
  return requeued;
}
