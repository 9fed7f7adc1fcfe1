import { cancelLogRoom } from "./cancel-log.ts";
import type { CancelRequest, JobChanges, JobDeps } from "./deps.ts";
import { forEachLimited } from "./enqueue.ts";
import { matchesFilter } from "./match.ts";
import { endedAttempt, expiryFor, withAttempt, withAudit } from "./records.ts";
import { removeSchedules } from "./repeat/arm.ts";
import { endRunsOf } from "./run/begin.ts";
import { DEFAULT_TENANT_KEY, tenantOf } from "./tenant.ts";
import { CANCELLABLE, type JobRecord, type OperatorAct } from "./types.ts";
import { type CancelFilter, validateCancelFilter } from "./validate.ts";

const PARALLEL_WRITES = 16;

/**
 * `cancelJobs(filter)`: resolves when every matching job that can be cancelled is cancelled,
 * including one scheduled a moment before, which the type index may not show yet. For those,
 * the request is first written to the type's cancel log, which every claim and every firing
 * reads (strongly consistent, or as read within the last `cancelCacheMs`), and the reconciler
 * applies it again once the index has caught up. So that no claim still trusts a log read
 * before the request was written, the call resolves only `cancelCacheMs` after the write.
 * When the log is full, the call waits out the index lag and looks again itself. A filter on
 * the type's tenant key reads only that tenant's index shards.
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
  const space = cancelLogRoom(request);
  // A request bigger than any log may hold is never appended: the index alone must do.
  const logged = space.room < 0 ? "full" : await deps.store.recordCancel(type, request, space);
  const recordedAt = deps.clock.now();
  deps.cancelLogs.delete(type);
  const tenant = tenantOfFilter(deps, type, valid);
  await cancelMatching(deps, await openIds(deps, type, tenant), valid, at);
  if (logged === "full") {
    deps.logger.warn("cancel log full; waiting out the index lag", { type });
    await deps.clock.sleep(deps.settings.indexSettleMs);
    await cancelMatching(deps, await openIds(deps, type, tenant), valid, at);
    return;
  }
  const cacheLeft = recordedAt + deps.settings.cancelCacheMs - deps.clock.now();
  if (cacheLeft > 0) await deps.clock.sleep(cacheLeft);
}

/** The tenant a filter pins (its type's tenant key, as a field or inside `data`), if any. */
function tenantOfFilter(deps: JobDeps, type: string, filter: CancelFilter): string | undefined {
  const path = (deps.tenants.get(type) ?? DEFAULT_TENANT_KEY).split(".").slice(1).join(".");
  const field = filter.fields.find((f) => f.path.join(".") === path);
  if (field) return typeof field.value === "string" && field.value !== "" ? field.value : undefined;
  return filter.data ? tenantOf(deps.tenants, type, filter.data) : undefined;
}

/**
 * When a job of `type` made live now counts as live from: now, or just after this process's
 * last `cancelJobs` of the type when that was in the same millisecond, so a job scheduled
 * after `cancelJobs` resolved is never covered by it. (Across processes, clocks order them.)
 */
export function liveFrom(deps: JobDeps, type: string): number {
  return Math.max(deps.clock.now(), (deps.cancelledAt.get(type) ?? Number.NEGATIVE_INFINITY) + 1);
}

async function openIds(deps: JobDeps, type: string, tenant?: string): Promise<string[]> {
  return (await deps.store.openJobsOfType(type, tenant)).map((job) => job._id);
}

/** Cancels, among `ids`, the jobs that match `filter` and were live before `at`. */
export async function cancelMatching(
  deps: JobDeps,
  ids: readonly string[],
  filter: CancelFilter,
  at: number,
): Promise<number> {
  let cancelled = 0;
  const covered = (await deps.store.getJobs(ids)).filter((record) => coveredBy(record, filter, at));
  await forEachLimited(covered, PARALLEL_WRITES, async (record) => {
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
  const requests = await cancelRequestsOf(deps, record.type);
  const hit = requests.some((request) =>
    coveredBy(record, JSON.parse(request.filter) as CancelFilter, request.at),
  );
  if (!hit) return false;
  // Covered: cancelled now, or by another canceller already (either way it must not run).
  await cancelRecord(deps, record);
  return true;
}

/**
 * A type's cancel requests, as read at most `cancelCacheMs` ago (from when the read began, and
 * checked again once it answered), so a busy type's claims read the log about once a window.
 */
async function cancelRequestsOf(deps: JobDeps, type: string): Promise<CancelRequest[]> {
  const window = deps.settings.cancelCacheMs;
  for (;;) {
    let entry = deps.cancelLogs.get(type);
    if (!entry || deps.clock.now() - entry.readAt >= window) {
      const read = { readAt: deps.clock.now(), requests: deps.store.cancelsFor(type) };
      deps.cancelLogs.set(type, read);
      read.requests.catch(() => {
        if (deps.cancelLogs.get(type) === read) deps.cancelLogs.delete(type);
      });
      entry = read;
    }
    const requests = await entry.requests;
    if (deps.clock.now() - entry.readAt < window || window === 0) return requests;
  }
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
