import { applyLoggedCancels } from "./cancel.ts";
import type { JobDeps, JobSettings } from "./deps.ts";
import { enqueueSafely, forEachLimited } from "./enqueue.ts";
import { deliveryFront } from "./front.ts";
import { openKeysToRead } from "./keys.ts";
import { armNext, fireMissed } from "./repeat/arm.ts";
import { expireRun } from "./run/expire.ts";
import type { JobRecord } from "./types.ts";

/** Reconciler settings a caller may override for one pass (see `JobSettings`). */
export type ReconcileOptions = Partial<
  Pick<JobSettings, "staleAfterMs" | "indexSettleMs" | "reconcileBudgetMs">
>;

export interface ReconcileReport {
  requeued: number;
  expired: number;
  cancelSweeps: number;
  /** Job records read (in batches). */
  read: number;
  /** The index partitions queried. */
  partitions: number;
  /** False when the pass ran out of time; the next one starts where it stopped. */
  complete: boolean;
}

/** Index partitions read at once. */
const PARALLEL_PARTITIONS = 8;

/**
 * One reconciler pass (a scheduled Lambda every minute on AWS; a timer locally). Its work
 * follows what needs action, not what is open: it reads only the `open` index entries due
 * before the delivery front less `staleAfterMs` (see `front.ts`), that is, running jobs and
 * jobs whose message is lost, never a backlog's jobs waiting their turn. Of those:
 * - a running job whose lease ended (its process died) fails that attempt and retries or fails;
 * - a ready or waiting job lost its message: it is sent again, then left alone for 1, 2, 4...
 *   x `staleAfterMs` (each re-send moves it out of the range);
 * - a template whose firing never came fires once;
 * and `cancelJobs` requests are applied again once the type index has caught up, then dropped.
 * The partitions are read 8 at a time, their records 100 to a `BatchGetItem`; a pass stops
 * after `reconcileBudgetMs` and the next starts at the partition it had not finished.
 */
export async function reconcile(
  deps: JobDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const settings = { ...deps.settings, ...options };
  const now = deps.clock.now();
  const report: ReconcileReport = {
    requeued: 0,
    expired: 0,
    cancelSweeps: 0,
    read: 0,
    partitions: 0,
    complete: true,
  };
  const settled = now - settings.indexSettleMs;
  for (const type of await deps.store.typesWithCancels(settled)) {
    if ((await applyLoggedCancels(deps, type, settled)) > 0) report.cancelSweeps += 1;
  }
  const state = await deps.store.reconcilerState();
  const { front, stale } = deliveryFront(settings, state.fronts, now);
  if (stale.length > 0) await deps.store.forgetFronts(stale);
  const cutoff = Math.min(front, now) - settings.staleAfterMs;
  const keys = (await deps.store.knownTypes()).flatMap((type) => openKeysToRead(type));
  // A sweep of every partition may take several passes: this one goes on from where the last
  // stopped, to the end; the next starts again at the beginning.
  const order = keys.slice(Math.max(0, keys.indexOf(state.position ?? "")));
  const deadline = now + settings.reconcileBudgetMs;
  const unfinished = new Set<string>();
  await forEachLimited(order, PARALLEL_PARTITIONS, async (key) => {
    if (deps.clock.now() >= deadline) {
      unfinished.add(key);
      return;
    }
    report.partitions += 1;
    let next: string | undefined;
    do {
      const page = await deps.store.dueIn(key, cutoff, next);
      next = page.next;
      const records = await deps.store.getJobs(page.ids);
      report.read += records.length;
      for (const record of records) await act(deps, record, now, cutoff, settings, report);
      if (next !== undefined && deps.clock.now() >= deadline) unfinished.add(key);
    } while (next !== undefined && !unfinished.has(key));
  });
  const resumeAt = order.find((key) => unfinished.has(key)) ?? null;
  report.complete = resumeAt === null;
  if (resumeAt !== (state.position ?? null)) await deps.store.saveReconcilerPosition(resumeAt);
  return report;
}

/** What a due record needs: its lease checked, or its lost message sent again. */
async function act(
  deps: JobDeps,
  record: JobRecord,
  now: number,
  cutoff: number,
  settings: JobSettings,
  report: ReconcileReport,
): Promise<void> {
  if (record.status === "running") {
    if ((record.leaseUntil ?? 0) < now && (await expireRun(deps, record))) report.expired += 1;
    return;
  }
  if (record.status !== "waiting" && record.status !== "ready") return;
  if ((record.dueAt ?? record.after) > cutoff) return;
  const nudges = record.nudges ?? 0;
  const marked = await deps.store.transition(record._id, [record.status], {
    status: record.status,
    after: record.after,
    dueAt: now + settings.staleAfterMs * (2 ** nudges - 1),
    nudges: nudges + 1,
  });
  if (!marked) return;
  if (marked.repeat) await fireMissed(deps, marked);
  else await enqueueSafely(deps, marked);
  report.requeued += 1;
}

/**
 * After the local queues started empty (they keep no messages across restarts), puts every
 * waiting and ready job's message back, and every chain's next link. Running jobs are left
 * to their lease; recurring schedules are kept by the scheduler itself.
 */
export async function requeueAll(deps: JobDeps): Promise<number> {
  let requeued = 0;
  for (const type of await deps.store.knownTypes()) {
    const ids = (await deps.store.openJobsOfType(type)).map((entry) => entry._id);
    for (const record of await deps.store.getJobs(ids)) {
      if (record.status !== "waiting" && record.status !== "ready") continue;
      if (record.repeat) {
        // A firing missed while stopped fires now, once; a chain's next link is re-armed.
        if (record.after <= deps.clock.now()) await fireMissed(deps, record);
        else if (record.repeat.form === "chain")
          await armNext(deps, record, new Date(record.after));
        else continue;
      } else {
        await enqueueSafely(deps, record);
      }
      requeued += 1;
    }
  }
  return requeued;
}
