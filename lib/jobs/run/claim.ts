import { randomId } from "../../ids.ts";
import { cancelledByLog } from "../cancel.ts";
import type { JobDeps, JobMessage, WorkerSlotsView } from "../deps.ts";
import { enqueue } from "../enqueue.ts";
import { jobFields } from "../records.ts";
import { fire } from "../repeat/fire.ts";
import { DEFAULT_WORK_TIMEOUT_MS } from "../validate.ts";
import { beginRun, prepareRun } from "./begin.ts";
import { expireRun } from "./expire.ts";
import { superviseRun } from "./supervise.ts";

/** What became of one message: done with it, or have it come back (poison, a failed store). */
export type ClaimOutcome = "ran" | "acknowledged" | "retry";

/**
 * Claims the message's job with one conditional write and runs its worker. The claim names
 * the message's type, so a message that lies about its job's type claims nothing: the record,
 * not the message, decides which worker runs. A failed claim (cancelled, done, not due,
 * someone else's live lease) acknowledges the message: delivery is at least once, effects
 * on the record exactly once.
 */
export async function claimAndRun(
  deps: JobDeps,
  message: JobMessage,
  slots: WorkerSlotsView | undefined,
  stopping?: AbortSignal,
): Promise<ClaimOutcome> {
  let id = message.id;
  if (message.firedAt !== undefined) {
    // A repeating job fired: its template makes an occurrence, which runs like any job.
    const occurrenceId = await fire(deps, message);
    if (!occurrenceId) return "acknowledged";
    id = occurrenceId;
  }
  const now = deps.clock.now();
  const workTimeout = slots?.workTimeout ?? DEFAULT_WORK_TIMEOUT_MS;
  const run = prepareRun(deps, id, randomId(), workTimeout);
  const result = await deps.store
    .claimJob(id, { runId: run.runId, type: message.type, now, workTimeout })
    .catch((error: unknown) => {
      deps.runs.delete(run.runId);
      throw error;
    });
  if ("current" in result) {
    deps.runs.delete(run.runId);
    const current = result.current;
    // No such job (poison, or removed meanwhile): retried, then the DLQ.
    if (!current) return "retry";
    if (current.type !== message.type) {
      deps.logger.warn("message dropped: its type is not the job's", {
        jobId: current._id,
        type: current.type,
        messageType: message.type,
      });
    } else if (current.repeat) {
      // A template runs only through its firings.
    } else if (
      (current.status === "waiting" || current.status === "ready") &&
      current.after > now
    ) {
      // Not due yet: a wait longer than SQS's 900 s delay travels in hops.
      await enqueue(deps, current);
    } else if (current.status === "running" && (current.leaseUntil ?? 0) < now) {
      await expireRun(deps, current);
    }
    return "acknowledged";
  }
  // Cancelled in this process while the claim was on its way: the worker never starts.
  if (run.controller.signal.aborted) return "acknowledged";
  const claimed = result.claimed;
  if (await cancelledByLog(deps, claimed)) return "acknowledged";
  if (run.controller.signal.aborted) return "acknowledged";
  const job = beginRun(deps, run, claimed);
  deps.logger.info("running", { ...jobFields(claimed), waitedMs: now - claimed.after });
  deps.metrics.count("JobsStarted", claimed.type);
  deps.metrics.time("JobStartDelay", claimed.type, now - claimed.after);
  if (!slots) {
    await job.fail(`No worker registered for job type "${claimed.type}"`);
    return "ran";
  }
  await superviseRun(deps, job, run, slots.worker, stopping);
  return "ran";
}
