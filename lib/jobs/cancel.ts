import type { CancelRequest, JobChanges, JobDeps } from "./deps.ts";
import { forEachLimited } from "./enqueue.ts";
import { matchesFilter } from "./match.ts";
import { endedAttempt, expiryFor, withAttempt, withAudit } from "./records.ts";
import { removeSchedules } from "./repeat/arm.ts";
import { endRunsOf } from "./run/begin.ts";
import { CANCELLABLE, type JobRecord, type OperatorAct } from "./types.ts";
import { type CancelFilter, validateCancelFilter } from "./validate.ts";

const PARALLEL_READS = 16;

/**
 * `cancelJobs(filter)`: resolves when every matching job that can be cancelled is cancelled,
 * including one scheduled a moment before, which the type index may not show yet. For those,
 * the request is first written to the type's cancel log, which every claim and every firing
 * reads (strongly consistent), and the reconciler applies it again once the index has caught
 * up. When the log is full, the call waits out the index lag and looks again itself.
 *
 * @example await cancelJobs(deps, { type: "sitemaps/generate", "data.shopId": "s1" })
 */
export async function cancelJobs(deps: JobDeps, filter: Record<string, unknown>): Promise<void> {
  const valid = validateCancelFilter(filter);
  const at = deps.clock.now();
  if (valid.type !== undefined) deps.cancelledAt.set(valid.type, at);
  if (valid._id !== undefined) {
    await cancelMatching(deps, [valid._id], valid, at);
    return;
  }
  const type = valid.type as string;
  const request: CancelRequest = { filter: JSON.stringify(valid), at };
  const logged = await deps.store.recordCancel(type, request);
  await cancelMatching(deps, await openIds(deps, type), valid, at);
  if (logged === "full") {
    deps.logger.warn("cancel log full; waiting out the index lag", { type });
    await deps.clock.sleep(deps.settings.indexSettleMs);
    await cancelMatching(deps, await openIds(deps, type), valid, at);
  }
}

/**
 * When a job of `type` made live now counts as live from: now, or just after this process's
 * last `cancelJobs` of the type when that was in the same millisecond, so a job scheduled
 * after `cancelJobs` resolved is never covered by it. (Across processes, clocks order them.)
 */
export function liveFrom(deps: JobDeps, type: string): number {
  return Math.max(deps.clock.now(), (deps.cancelledAt.get(type) ?? Number.NEGATIVE_INFINITY) + 1);
}

async function openIds(deps: JobDeps, type: string): Promise<string[]> {
  return (await deps.store.openJobsOfType(type)).map((job) => job._id);
}

/** Cancels, among `ids`, the jobs that match `filter` and were live before `at`. */
export async function cancelMatching(
  deps: JobDeps,
  ids: readonly string[],
  filter: CancelFilter,
  at: number,
): Promise<number> {
  let cancelled = 0;
  await forEachLimited(ids, PARALLEL_READS, async (id) => {
    const record = await deps.store.getJob(id);
    if (!record || !coveredBy(record, filter, at)) return;
    if (await cancelRecord(deps, record)) cancelled += 1;
  });
  return cancelled;
}

/** Does a request made at `at` with `filter` cancel this job? Not one (re)started after it. */
function coveredBy(record: JobRecord, filter: CancelFilter, at: number): boolean {
  return (
    CANCELLABLE.includes(record.status) &&
    (record.liveSince ?? record.created) <= at &&
    matchesFilter(record, filter)
  );
}

/**
 * Cancels one job from whatever cancellable state it is in. A run of it in this process ends
 * at once (its worker's `job.signal` aborts and its slot comes back); elsewhere, the run's
 * next record check notices. A running job is cancelled under its run's fence first, so the
 * run's attempt joins the history as `cancelled`; if that run ended meanwhile, the job is
 * cancelled from wherever it is now. An operator's `act` joins the audit trail in the same write.
 */
export async function cancelRecord(
  deps: JobDeps,
  record: JobRecord,
  act?: OperatorAct,
): Promise<JobRecord | null> {
  const now = deps.clock.now();
  const changes: JobChanges = {
    status: "cancelled",
    runId: null,
    progress: { completed: 0, total: 1, percent: 0 },
    updated: now,
    ...expiryFor(deps, record.type, now),
    ...(act ? { audit: withAudit(record.audit, act, record.status, "cancelled", now) } : {}),
  };
  let cancelled: JobRecord | null = null;
  if (record.status === "running" && record.runId) {
    const run = { runId: record.runId, startedAt: record.runStartedAt ?? record.updated };
    cancelled = await deps.store.settleRun(record._id, record.runId, {
      ...changes,
      attempts: withAttempt(record.attempts, endedAttempt(run, "cancelled", now)),
    });
  }
  cancelled ??= await deps.store.transition(record._id, CANCELLABLE, changes);
  if (!cancelled) return null;
  deps.logger.info("cancelled", { jobId: record._id, type: record.type, was: record.status });
  deps.metrics.count("JobsCancelled", record.type);
  // Any run of it here ends, even one whose claim was written after this cancel read the job.
  endRunsOf(deps, record._id, "the job was cancelled");
  await removeSchedules(deps, cancelled).catch((error: unknown) => {
    // The template is cancelled: a firing that still comes finds it so and does nothing.
    deps.logger.warn("could not delete a cancelled job's schedule", {
      jobId: record._id,
      error: (error as Error).message,
    });
  });
  return cancelled;
}

/**
 * Was this job named by a `cancelJobs` call the index could not show it to? Reads the type's
 * cancel log (strongly consistent) and cancels the job if so. Claims and firings call it.
 */
export async function cancelledByLog(deps: JobDeps, record: JobRecord): Promise<boolean> {
  const requests = await deps.store.cancelsFor(record.type);
  const hit = requests.some((request) =>
    coveredBy(record, JSON.parse(request.filter) as CancelFilter, request.at),
  );
  if (!hit) return false;
  // Covered: cancelled now, or by another canceller already (either way it must not run).
  await cancelRecord(deps, record);
  return true;
}

/**
 * Applies a type's logged cancel requests older than `upTo` (the index has caught up with
 * them), then drops them from the log: the log holds only requests still in their lag window.
 */
export async function applyLoggedCancels(
  deps: JobDeps,
  type: string,
  upTo: number,
): Promise<number> {
  const requests = (await deps.store.cancelsFor(type)).filter((request) => request.at <= upTo);
  if (requests.length === 0) return 0;
  const ids = await openIds(deps, type);
  for (const request of requests) {
    await cancelMatching(deps, ids, JSON.parse(request.filter) as CancelFilter, request.at);
  }
  await deps.store.dropCancels(type, requests);
  return requests.length;
}
