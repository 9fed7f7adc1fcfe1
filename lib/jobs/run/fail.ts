import type { JobChanges, JobDeps, JobLike, RunContext } from "../deps.ts";
import { enqueueSafely } from "../enqueue.ts";
import {
  endedAttempt,
  expiryFor,
  failureValue,
  jobFields,
  withAttempt,
  withFailure,
} from "../records.ts";
import { afterFailure } from "../retry.ts";
import { type AttemptOutcome, type JobRecord, type JsonObject, toDoc } from "../types.ts";

import { fenced } from "./fenced.ts";

/** A run that neither settled nor heartbeated within its `workTimeout` fails with this. */
export const TIMED_OUT = "Failed for exceeding worker set workTimeout";

/**
 * `job.fail(error, { fatal })`: ends the attempt, only if `run.runId` still holds the job.
 * With attempts left (and not fatal) the job waits out its backoff and is sent again;
 * otherwise it is `failed`. Resolves `false` (changing nothing) for a stale run.
 */
export async function failRun(
  deps: JobDeps,
  job: JobLike,
  run: RunContext,
  error: unknown,
  fatal: boolean,
): Promise<boolean> {
  const now = deps.clock.now();
  const failure: JsonObject = { ...failureValue(error), runId: run.runId };
  const changes = failureChanges(
    deps,
    { ...job._doc, retryUntil: job._doc.retryUntil.getTime() },
    failure,
    now,
    fatal,
  );
  changes.attempts = withAttempt(
    run.attempts,
    endedAttempt(run, outcomeOf(changes, failure), now, failure),
  );
  const record = await deps.store.settleRun(job._id, run.runId, changes);
  if (!record) return fenced(deps, job, run, "fail");
  job._doc = toDoc(record);
  // Settled: nothing else may fail or time this run out. But the run ends (and a Lambda
  // invocation may return, freezing its process) only once the retry's message is sent.
  run.settled = true;
  try {
    await afterFailed(deps, record, run.runId, failure.value ?? failure, fatal);
  } finally {
    run.markSettled();
  }
  return true;
}

/** How a failed attempt ended, for the history: retried, failed for good, or timed out. */
export function outcomeOf(changes: JobChanges, failure: JsonObject): AttemptOutcome {
  if (failure.value === TIMED_OUT) return "timed out";
  return changes.status === "waiting" ? "retrying" : "failed";
}

/** The write that ends a failed attempt: back to `waiting` after its backoff, or `failed`. */
export function failureChanges(
  deps: JobDeps,
  job: Pick<
    JobRecord,
    "type" | "retries" | "retried" | "retryWait" | "retryBackoff" | "retryUntil" | "failures"
  >,
  failure: JsonObject,
  now: number,
  fatal: boolean,
): JobChanges {
  const next = afterFailure(job, now, fatal);
  return {
    status: next.status,
    after: next.after,
    runId: null,
    updated: now,
    failures: withFailure(job.failures, failure),
    ...(next.status === "failed" ? expiryFor(deps, job.type, now) : {}),
  };
}

/** Logs and counts a failed attempt, and sends the job again when it retries. */
export async function afterFailed(
  deps: JobDeps,
  record: JobRecord,
  runId: string,
  error: unknown,
  fatal: boolean,
): Promise<void> {
  const fields = { ...jobFields(record, runId), error: String(error).slice(0, 500) };
  if (record.status === "waiting") {
    deps.logger.info("retry", { ...fields, inMs: record.after - deps.clock.now() });
    deps.metrics.count("JobsRetried", record.type);
  } else {
    deps.logger.warn("failed", { ...fields, fatal });
    deps.metrics.count("JobsFailed", record.type);
  }
  await enqueueSafely(deps, record);
}
