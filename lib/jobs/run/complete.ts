import type { JobChanges, JobDeps, JobLike, RunContext } from "../deps.ts";
import { endedAttempt, expiryFor, jobFields, resultValue, withAttempt } from "../records.ts";
import { toDoc } from "../types.ts";
import { fenced } from "./fenced.ts";

/**
 * `job.done(result)`: completes the run, only if `run.runId` still holds the job. Resolves
 * `false` (and changes nothing) when the job was cancelled, timed out or taken over.
 */
export async function completeRun(
  deps: JobDeps,
  job: JobLike,
  run: RunContext,
  result: unknown,
): Promise<boolean> {
  const now = deps.clock.now();
  const changes: JobChanges = {
    status: "completed",
    result: resultValue(result),
    progress: { completed: job._doc.progress.total, total: job._doc.progress.total, percent: 100 },
    updated: now,
    attempts: withAttempt(run.attempts, endedAttempt(run, "completed", now)),
    ...expiryFor(deps, job.type, now),
  };
  const record = await deps.store.settleRun(job._id, run.runId, changes);
  if (!record) return fenced(deps, job, run, "done");
  job._doc = toDoc(record);
  run.markSettled();
  deps.logger.info("completed", { ...jobFields(record, run.runId), ms: now - run.startedAt });
  deps.metrics.count("JobsCompleted", record.type);
  deps.metrics.time("JobDuration", record.type, now - run.startedAt);
  return true;
}
