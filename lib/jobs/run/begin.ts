import type { JobDeps, RunContext, RunningJob } from "../deps.ts";
import { type JobRecord, toDoc } from "../types.ts";

/** Why a run's signal aborted: `job.signal.reason`. */
export class RunEndedError extends Error {
  override name = "RunEndedError";
}

/**
 * Registers a run in this process *before* its claim is written, so a cancel in this process
 * that lands between the claim and the worker's start ends it (the worker then never starts).
 * The context fences `done`/`fail`, carries the lease, and ends the run (aborting
 * `job.signal`) when the job is cancelled, taken over or past its `workTimeout`.
 */
export function prepareRun(
  deps: JobDeps,
  jobId: string,
  runId: string,
  workTimeout: number,
): RunContext {
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
    jobId,
    workTimeout,
    leaseUntil: now + workTimeout,
    startedAt: now,
    attempts: [],
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
  return run;
}

/** The claim was written: the run starts now, under the record's lease. Returns the worker's `Job`. */
export function beginRun(deps: JobDeps, run: RunContext, record: JobRecord): RunningJob {
  run.startedAt = record.runStartedAt ?? deps.clock.now();
  run.waitMs = run.startedAt - record.after;
  run.attempts = record.attempts ?? [];
  run.leaseUntil = record.leaseUntil ?? run.leaseUntil;
  return deps.jobs.running(toDoc(record), run);
}

/** Ends every run of a job in this process (it was cancelled): signals abort, slots come back. */
export function endRunsOf(deps: JobDeps, jobId: string, reason: string): void {
  for (const run of [...deps.runs.values()]) if (run.jobId === jobId) run.end(reason);
}
