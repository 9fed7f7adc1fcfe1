import { JobValidationError } from "../errors.ts";
import { randomId } from "../ids.ts";
import { cancelRecord, liveFrom } from "./cancel.ts";
import type { ControlAction, JobDeps, JobLike } from "./deps.ts";
import { enqueueSafely } from "./enqueue.ts";
import { freshRun, withAudit } from "./records.ts";
import {
  type JobRecord,
  type JobStatus,
  type OperatorAct,
  PAUSABLE,
  REMOVABLE,
  RESTARTABLE,
  toDoc,
} from "./types.ts";

/**
 * `job.cancel()`, `pause()`, `resume()`, `ready()`: one conditional transition from the states
 * where the action means something. Resolves `false` when the job is elsewhere.
 */
export async function control(
  deps: JobDeps,
  job: JobLike,
  action: ControlAction,
  act?: OperatorAct,
): Promise<boolean> {
  const now = deps.clock.now();
  const current = await deps.store.getJob(job._id);
  if (!current) return false;
  // An operator's act joins the audit trail in the same conditional write as the move.
  const audit = (to: JobStatus) =>
    act ? { audit: withAudit(current.audit, act, current.status, to, now) } : {};
  let record: JobRecord | null = null;
  switch (action) {
    case "cancel":
      record = await cancelRecord(deps, current, act);
      if (record) job._doc = toDoc(record);
      return record !== null;
    case "pause":
      record = await deps.store.transition(job._id, PAUSABLE, {
        status: "paused",
        updated: now,
        ...audit("paused"),
      });
      break;
    case "resume": {
      // A template keeps its next fire time: it is on later's grid, and its firings go on.
      const after = current.repeat ? current.after : Math.max(current.after, now);
      const status = after > now || current.repeat ? "waiting" : "ready";
      record = await deps.store.transition(job._id, ["paused"], {
        status,
        after,
        updated: now,
        ...audit(status),
      });
      break;
    }
    case "ready":
    case "forceReady": {
      if (current.repeat || (action === "ready" && current.after > now)) return false;
      record = await deps.store.transition(job._id, ["waiting"], {
        status: "ready",
        after: now,
        updated: now,
        ...audit("ready"),
      });
      break;
    }
  }
  if (!record) return false;
  job._doc = toDoc(record);
  deps.logger.info(record.status, { jobId: record._id, type: record.type });
  await enqueueSafely(deps, record);
  return true;
}

/**
 * `job.restart({ retries })`: a failed or cancelled job waits again with `retries` more
 * attempts. It is live again from now: a `cancelJobs` request older than the restart does not
 * touch it.
 */
export async function restart(
  deps: JobDeps,
  job: JobLike,
  retries: number,
  act?: OperatorAct,
): Promise<boolean> {
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new JobValidationError("retries", `must be a non-negative integer, got ${retries}`);
  }
  const current = await deps.store.getJob(job._id);
  if (!current || current.repeat || !RESTARTABLE.includes(current.status)) return false;
  const now = deps.clock.now();
  const record = await deps.store.transition(job._id, RESTARTABLE, {
    status: "waiting",
    retries: current.retries + retries,
    after: now,
    updated: now,
    liveSince: liveFrom(deps, current.type),
    runId: null,
    progress: { completed: 0, total: 1, percent: 0 },
    ...(act ? { audit: withAudit(current.audit, act, current.status, "waiting", now) } : {}),
  });
  if (!record) return false;
  job._doc = toDoc(record);
  deps.logger.info("restarted", { jobId: record._id, type: record.type });
  await enqueueSafely(deps, record);
  return true;
}

/** `job.rerun()`: a completed job runs again as a new job; resolves the new job's id. */
export async function rerun(deps: JobDeps, job: JobLike): Promise<string | false> {
  const current = await deps.store.getJob(job._id);
  if (current?.status !== "completed") return false;
  const record = freshRun(current, randomId(), deps.clock.now());
  await deps.store.insertJob(record);
  deps.logger.info("scheduled", { jobId: record._id, type: record.type, rerunOf: current._id });
  await enqueueSafely(deps, record);
  return record._id;
}

/** `job.remove()`: deletes a cancelled, completed or failed job. */
export async function remove(deps: JobDeps, job: JobLike): Promise<boolean> {
  return deps.store.removeJob(job._id, REMOVABLE);
}
