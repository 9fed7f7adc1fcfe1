import { listJobs } from "../jobs/list/index.ts";
import { laneFor } from "../jobs/priority.ts";
import type { JobRecord, JobStatus } from "../jobs/types.ts";
import { laneStats, readOpenIndex } from "./lanes.ts";
import type { OpsDeps } from "./ports.ts";
import type { MetricsRow, Overview, TypeCounts } from "./types.ts";

/** How many of a type's newest open jobs are read for their status (all of them up to this). */
export const OPEN_SAMPLE = 200;
/** How many of a type's jobs created in the window are read (newest first). */
export const RECENT_CAP = 500;

/**
 * The overview: per type, the open jobs (exact, from the sparse open index: keys only, no
 * record read) with the status of the newest 200, and the jobs created in the window (the
 * last hour) by status; per type and per lane, throughput, failure rate and the p50/p95 of
 * wait and run times, from those jobs' attempt histories; a per-minute series for the
 * charts; and the lanes. No scan, no write: bounded listing reads (`read` says how many).
 */
export async function overview(
  deps: OpsDeps,
  options: { windowMinutes?: number } = {},
): Promise<Overview> {
  const windowMinutes = options.windowMinutes ?? 60;
  const now = deps.jobs.clock.now();
  const since = now - windowMinutes * 60_000;
  const index = await readOpenIndex(deps);
  let read = index.read;
  const types: TypeCounts[] = [];
  const recent: JobRecord[] = [];
  for (const [type, entries] of index.open) {
    const newest = [...entries].sort((a, b) => b.created - a.created).slice(0, OPEN_SAMPLE);
    const openByStatus: Partial<Record<JobStatus, number>> = {};
    for (const record of await deps.jobs.store.getJobs(newest.map((entry) => entry._id)))
      openByStatus[record.status] = (openByStatus[record.status] ?? 0) + 1;
    read += newest.length;
    const jobs: JobRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await listJobs(deps.jobs.store, {
        type,
        createdFrom: since,
        limit: Math.min(100, RECENT_CAP - jobs.length),
        ...(cursor ? { cursor } : {}),
      });
      read += page.read;
      jobs.push(...page.jobs);
      cursor = page.cursor;
    } while (cursor && jobs.length < RECENT_CAP);
    const recentByStatus: Partial<Record<JobStatus, number>> = {};
    for (const job of jobs) recentByStatus[job.status] = (recentByStatus[job.status] ?? 0) + 1;
    types.push({
      type,
      open: entries.length,
      openByStatus,
      openSampled: newest.length,
      recentByStatus,
      recentCapped: cursor !== undefined,
    });
    recent.push(...jobs);
  }
  const lanes = await laneStats(deps, index);
  read += lanes.read - index.read;
  return {
    at: new Date(now).toISOString(),
    windowMinutes,
    types,
    byType: rows(recent, (job) => job.type, since, windowMinutes),
    byLane: rows(recent, (job) => laneFor(job.priority), since, windowMinutes),
    series: series(recent, since, windowMinutes),
    lanes: lanes.lanes,
    read,
  };
}

/** Metrics rows grouped by `keyOf`, from the attempts that ended in the window. */
function rows(
  jobs: JobRecord[],
  keyOf: (job: JobRecord) => string,
  since: number,
  windowMinutes: number,
): MetricsRow[] {
  const groups = new Map<string, JobRecord[]>();
  for (const job of jobs) groups.set(keyOf(job), [...(groups.get(keyOf(job)) ?? []), job]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, members]) => {
      const attempts = members
        .flatMap((job) => job.attempts ?? [])
        .filter((a) => a.endedAt >= since);
      const completed = attempts.filter((a) => a.outcome === "completed").length;
      const failedAttempts = attempts.filter(
        (a) => a.outcome !== "completed" && a.outcome !== "cancelled",
      );
      const waits = attempts.flatMap((a) => (a.waitMs === undefined ? [] : [a.waitMs]));
      const runs = attempts.map((a) => a.endedAt - a.startedAt);
      const row: MetricsRow = {
        key,
        completed,
        failed: members.filter((job) => job.status === "failed").length,
        failureRate: attempts.length ? failedAttempts.length / attempts.length : 0,
        throughputPerMinute: completed / windowMinutes,
      };
      const waitP50 = percentile(waits, 50);
      const waitP95 = percentile(waits, 95);
      const runP50 = percentile(runs, 50);
      const runP95 = percentile(runs, 95);
      if (waitP50 !== undefined) row.waitP50 = waitP50;
      if (waitP95 !== undefined) row.waitP95 = waitP95;
      if (runP50 !== undefined) row.runP50 = runP50;
      if (runP95 !== undefined) row.runP95 = runP95;
      return row;
    });
}

/** Completed and failed attempts per minute, oldest minute first. */
function series(jobs: JobRecord[], since: number, windowMinutes: number): Overview["series"] {
  const start = Math.floor(since / 60_000) * 60_000;
  const minutes = Array.from({ length: windowMinutes + 1 }, (_, i) => (start + i * 60_000) / 1000);
  const completed = minutes.map(() => 0);
  const failed = minutes.map(() => 0);
  for (const attempt of jobs.flatMap((job) => job.attempts ?? [])) {
    const slot = Math.floor((attempt.endedAt - start) / 60_000);
    if (slot < 0 || slot >= minutes.length) continue;
    if (attempt.outcome === "completed") completed[slot] = (completed[slot] ?? 0) + 1;
    else if (attempt.outcome !== "cancelled") failed[slot] = (failed[slot] ?? 0) + 1;
  }
  return { minutes, completed, failed };
}

/**
 * The nearest-rank percentile of some values, or `undefined` for none.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}
