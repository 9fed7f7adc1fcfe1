import type { JobDeps, JobLike, RunContext } from "../deps.ts";
import type { JobRecord } from "../types.ts";
import { fenced } from "./fenced.ts";

/**
 * `job.log()` and `job.progress()`: saves them and extends the run's lease by its
 * `workTimeout`, only while `run.runId` holds the job. A run that lost the job ends here
 * (its `job.signal` aborts).
 */
export async function heartbeat(
  deps: JobDeps,
  job: JobLike,
  run: RunContext,
  changes: Partial<JobRecord>,
): Promise<boolean> {
  const now = deps.clock.now();
  const leaseUntil = now + run.workTimeout;
  const ok = await deps.store.heartbeat(job._id, run.runId, leaseUntil, {
    ...changes,
    updated: now,
  });
  if (!ok) return fenced(deps, job, run, "heartbeat");
  run.leaseUntil = leaseUntil;
  return true;
}
