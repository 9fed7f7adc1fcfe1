import type { JobDeps } from "../deps.ts";
import { endedAttempt, withAttempt } from "../records.ts";
import type { JobRecord } from "../types.ts";
import { afterFailed, failureChanges, TIMED_OUT } from "./fail.ts";

export { TIMED_OUT } from "./fail.ts";

/**
 * A run whose lease ended with nobody settling it (its process died, or Lambda stopped it):
 * the attempt counts as failed, then the job retries or fails under its rules. Only that run,
 * only once its lease is over.
 */
export async function expireRun(deps: JobDeps, record: JobRecord): Promise<boolean> {
  const now = deps.clock.now();
  const runId = record.runId as string;
  const failure = { value: TIMED_OUT, runId };
  const changes = failureChanges(deps, record, failure, now, false);
  const run = { runId, startedAt: record.runStartedAt ?? record.updated };
  changes.attempts = withAttempt(record.attempts, endedAttempt(run, "timed out", now, TIMED_OUT));
  const updated = await deps.store.expireRun(record._id, runId, now, changes);
  if (!updated) return false;
  await afterFailed(deps, updated, runId, TIMED_OUT, false);
  return true;
}
