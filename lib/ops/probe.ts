/**
 * The post-deploy probe (`bgjobs doctor --probe`): one job of the built-in probe type per lane,
 * scheduled as any job is, waited for through the operations module, then deleted. A probe
 * that completes has crossed everything a job crosses: the table, the lane, the event source
 * mapping (locally the poller), the dispatcher and a worker.
 */
import { scheduleJob } from "../jobs/schedule-job.ts";
import { PROBE_JOB_TYPE } from "../probe-plugin.ts";
import { LANES, type LaneName } from "../resources.ts";
import type { Connection } from "./connect.ts";
import type { JobDetail } from "./types.ts";

export const DEFAULT_PROBE_TIMEOUT_MS = 60_000;
/** How often the probe reads its jobs: one GetItem each, a few a second. */
const POLL_MS = 250;

/** One lane's probe job: when it started and completed, counted from its scheduling. */
export interface LaneProbe {
  lane: LaneName;
  jobId: string;
  /** Its last status read: `completed` when it went through. */
  status: string;
  /** From scheduling to the worker's start, as the job's record says (ms). */
  startedAfterMs?: number;
  /** From scheduling to completion (ms). */
  completedAfterMs?: number;
}

export interface ProbeReport {
  ok: boolean;
  timeoutMs: number;
  lanes: LaneProbe[];
  /** The probe jobs deleted afterwards (all of them, unless the deletes failed). */
  removed: number;
  /** Why it did not go through, for people. */
  problem?: string;
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** Aborts the wait (Ctrl-C): the jobs are still deleted. */
  signal?: AbortSignal;
}

/**
 * Schedules a probe job in each lane, polls them until each has completed or `timeoutMs` has
 * passed (real time: the deployment's dispatcher runs on it), then deletes them, as they are.
 *
 * @example const report = await probe(conn, { timeoutMs: 30_000 }); if (!report.ok) console.error(report.problem)
 */
export async function probe(conn: Connection, options: ProbeOptions = {}): Promise<ProbeReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const jobs = await Promise.all(
    LANES.map(async (lane) => {
      const job = await scheduleJob(conn.deps.jobs, {
        type: PROBE_JOB_TYPE,
        data: {},
        priority: lane, // each lane's name is the priority that puts a job in it (laneFor)
        retry: { retries: 0 },
      });
      return { lane, jobId: job._id };
    }),
  );
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, JobDetail | null>();
  let removed = 0;
  try {
    for (;;) {
      const open = jobs.filter((job) => !isSettled(last.get(job.jobId)));
      for (const job of open) last.set(job.jobId, await conn.ops.getJob(job.jobId));
      const settled = jobs.every((job) => isSettled(last.get(job.jobId)));
      if (settled || Date.now() >= deadline || options.signal?.aborted) break;
      await pause(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), options.signal);
    }
  } finally {
    // Deleted whatever became of them: a probe leaves nothing for a later dispatcher to run.
    removed = await removeJobs(
      conn,
      jobs.map((job) => job.jobId),
    );
  }
  const lanes = jobs.map(({ lane, jobId }) => laneProbe(lane, jobId, last.get(jobId)));
  const stuck = lanes.filter((lane) => lane.status !== "completed");
  return {
    ok: stuck.length === 0,
    timeoutMs,
    lanes,
    removed,
    ...(stuck.length > 0 ? { problem: explain(stuck, timeoutMs, options.signal?.aborted) } : {}),
  };
}

function isSettled(detail: JobDetail | null | undefined): boolean {
  return detail ? ["completed", "failed", "cancelled"].includes(detail.status) : false;
}

function laneProbe(lane: LaneName, jobId: string, detail: JobDetail | null | undefined): LaneProbe {
  const status = detail === undefined ? "not read" : detail === null ? "missing" : detail.status;
  const attempt = detail?.attemptHistory.at(-1);
  const scheduled = detail ? Date.parse(detail.created) : Number.NaN;
  const after = (iso: string | undefined) =>
    iso === undefined ? undefined : Math.max(0, Date.parse(iso) - scheduled);
  const started = after(attempt?.startedAt);
  const completed = detail?.status === "completed" ? after(attempt?.endedAt) : undefined;
  return {
    lane,
    jobId,
    status,
    ...(started !== undefined ? { startedAfterMs: started } : {}),
    ...(completed !== undefined ? { completedAfterMs: completed } : {}),
  };
}

function explain(stuck: LaneProbe[], timeoutMs: number, aborted = false): string {
  const lanes = stuck.map((lane) => `${lane.lane} (${lane.status})`).join(", ");
  if (aborted) return `interrupted before the probe jobs completed: ${lanes}`;
  const waiting = stuck.some((lane) => ["ready", "waiting"].includes(lane.status));
  return `not completed within ${timeoutMs / 1000} s: ${lanes}${
    waiting
      ? `: nothing ran them (is the dispatcher's event source mapping enabled, or the local stack's poller running? does the deployment's version register ${PROBE_JOB_TYPE}?)`
      : ""
  }`;
}

async function removeJobs(conn: Connection, ids: string[]): Promise<number> {
  try {
    const report = await conn.ops.act({
      action: "delete",
      target: { ids },
      includeRunning: true,
    });
    return report.changed;
  } catch {
    return 0; // reported as fewer removed; the cleanup rule purges them
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
