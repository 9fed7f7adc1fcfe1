import type { JobDeps, JobLike, RunContext } from "../deps.ts";

/** A `done`/`fail`/heartbeat that found the job no longer running under its run: `false`. */
export function fenced(deps: JobDeps, job: JobLike, run: RunContext, method: string): false {
  deps.logger.warn("stale", {
    jobId: job._id,
    type: job.type,
    runId: run.runId,
    note: `${method}() ignored: the job is no longer running under this run`,
  });
  run.end("the job is no longer running under this run");
  return false;
}
