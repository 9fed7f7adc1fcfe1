import type { JobDeps, RunContext, RunningJob, WorkerFunction } from "../deps.ts";
import { TIMED_OUT } from "./expire.ts";

/**
 * Runs the worker and holds its slot until the run is over for this process:
 * - it settled (`done`/`fail`, possibly after the worker returned, as Reaction's email
 *   plugin does);
 * - the record says it is no longer this run's (cancelled, taken over): noticed at once for
 *   a cancel in this process, when the worker returns, at each heartbeat, and by a record
 *   check every `runCheckIntervalMs`;
 * - its lease ran out: `job.signal` aborts and the attempt fails as timed out.
 * A worker that throws has failed with the error's message.
 */
export async function superviseRun(
  deps: JobDeps,
  job: RunningJob,
  run: RunContext,
  worker: WorkerFunction,
  stopping?: AbortSignal,
): Promise<void> {
  const returned = Promise.resolve()
    .then(() => worker(job))
    .then(
      () => (run.settled ? undefined : checkRecord(deps, run)),
      async (error: unknown) => {
        // A throw is `fail(message)`; after `done` it changes nothing (fenced).
        if (run.settled || run.controller.signal.aborted) return;
        await job
          .fail(error instanceof Error ? error : String(error))
          .catch((failError: unknown) => {
            deps.logger.error("could not record a worker's failure", {
              jobId: job._id,
              error: (failError as Error).message,
            });
          });
      },
    );
  returned.catch(() => {});
  // One wake-up for the whole run (not one listener per check): the run ended, or the app stops.
  const wake = new AbortController();
  const woken = () => wake.abort();
  stopping?.addEventListener("abort", woken, { once: true });
  void run.ended.then(woken);
  try {
    for (;;) {
      // Settled, the run is over once what settling sends is sent (a retry's message).
      if (run.settled) return await run.ended;
      if (isOver(run) || stopping?.aborted) return;
      const remaining = run.leaseUntil - deps.clock.now();
      if (remaining <= 0) break;
      await deps.clock.sleep(Math.min(remaining, deps.settings.runCheckIntervalMs), wake.signal);
      if (run.settled) return await run.ended;
      if (isOver(run) || stopping?.aborted) return;
      if (run.leaseUntil > deps.clock.now()) await checkRecord(deps, run);
    }
  } finally {
    stopping?.removeEventListener("abort", woken);
  }
  run.end("the run is past its workTimeout");
  if (!run.settled) {
    await job.fail(TIMED_OUT).catch((error: unknown) => {
      deps.logger.error("could not record a timeout", {
        jobId: job._id,
        error: (error as Error).message,
      });
    });
  }
}

function isOver(run: RunContext): boolean {
  return run.settled || run.controller.signal.aborted;
}

/** Reads the record: a run that no longer holds it (cancelled, taken over) ends here. */
async function checkRecord(deps: JobDeps, run: RunContext): Promise<void> {
  if (isOver(run)) return;
  const record = await deps.store.getJob(run.jobId).catch(() => undefined);
  if (record === undefined || run.settled) return; // a failed read changes nothing
  if (record?.status !== "running" || record.runId !== run.runId) {
    run.end(record?.status === "cancelled" ? "the job was cancelled" : "the job was taken over");
  }
}
