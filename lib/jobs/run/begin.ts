import type { JobDeps, RunContext, RunningJob } from "../deps.ts";
import { type JobRecord, toDoc } from "../types.ts";

/** Why a run's signal aborted: `job.signal.reason`. */
export class RunEndedError extends Error {
  override name = "RunEndedError";
}

/**
 * Starts a run in this process for a record just claimed under `runId`: the context that
 * fences `done`/`fail`, carries the lease, and ends the run (aborting `job.signal`) when the
 * job is cancelled, taken over or past its `workTimeout`. Returns the `Job` for the worker.
 */
export function beginRun(deps: JobDeps, record: JobRecord): { job: RunningJob; run: RunContext } {
  const runId = record.runId as string;
  const controller = new AbortController();
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const finish = () => {
    deps.runs.delete(runId);
    resolveEnded();
  };
  const now = deps.clock.now();
  const run: RunContext = {
    runId,
    jobId: record._id,
    workTimeout: record.workTimeout ?? 0,
    leaseUntil: record.leaseUntil ?? now,
    startedAt: now,
    log: [],
    settled: false,
    ended,
    controller,
    markSettled() {
      run.settled = true;
      finish();
    },
    end(reason) {
      if (!controller.signal.aborted) controller.abort(new RunEndedError(reason));
      finish();
    },
  };
  deps.runs.set(runId, run);
  return { job: deps.jobs.running(toDoc(record), run), run };
}
