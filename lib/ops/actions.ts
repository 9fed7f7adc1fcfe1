import { JobValidationError } from "../errors.ts";
import { cancelRecord } from "../jobs/cancel.ts";
import { control, restart } from "../jobs/control.ts";
import { deleteJob, type OperateResult, reschedule } from "../jobs/operate.ts";
import { priorityValue } from "../jobs/priority.ts";
import {
  CANCELLABLE,
  type JobRecord,
  type JobStatus,
  type OperatorAct,
  PAUSABLE,
  RESTARTABLE,
  toDoc,
} from "../jobs/types.ts";
import { instant } from "./filter.ts";
import type { OpsDeps } from "./ports.ts";
import { pauseSchedule, resumeSchedule } from "./schedules.ts";
import { type ActionOutcome, type ActionParams, JOB_ACTIONS, type JobAction } from "./types.ts";

/** An action's parameters as checked. */
export interface ValidParams {
  after?: number;
  priority?: number;
  retries?: number;
}

/** Checks an action's name and parameters; a bad one throws naming the field. */
export function validateAction(
  action: unknown,
  params: ActionParams | undefined,
  now: number,
): { action: JobAction; params: ValidParams } {
  if (!JOB_ACTIONS.includes(action as JobAction))
    throw new JobValidationError("action", `must be one of ${JOB_ACTIONS.join(", ")}`);
  const valid: ValidParams = {};
  const input = params ?? {};
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new JobValidationError("params", "must be an object such as { priority }");
  for (const key of Object.keys(input)) {
    if (!["after", "priority", "retries"].includes(key))
      throw new JobValidationError(
        `params.${key}`,
        "is not a parameter; use after, priority, retries",
      );
  }
  if (input.after !== undefined) valid.after = instant(input.after, "params.after", now);
  if (input.priority !== undefined)
    valid.priority = priorityValue(input.priority, "params.priority");
  if (input.retries !== undefined) {
    if (!Number.isSafeInteger(input.retries) || (input.retries as number) < 0)
      throw new JobValidationError("params.retries", "must be a non-negative integer");
    valid.retries = input.retries as number;
  }
  if (action === "retry" && valid.retries === 0)
    throw new JobValidationError("params.retries", "retry needs at least 1 more attempt");
  if (action === "reschedule" && Object.keys(valid).length === 0)
    throw new JobValidationError("params", "reschedule needs after, priority or retries");
  return { action: action as JobAction, params: valid };
}

/**
 * Why `action` would leave a job in this state alone, or `null` when it would act. Used to
 * count before confirming and for a dry run; the action itself decides again on the record
 * as it is then (conditional writes).
 */
export function skipReason(
  action: JobAction,
  record: Pick<JobRecord, "status" | "repeat">,
  includeRunning: boolean,
): string | null {
  const { status } = record;
  const template = record.repeat !== undefined;
  const running = status === "running" && !includeRunning ? "is running" : null;
  switch (action) {
    case "retry":
      if (template) return "a repeating job's template";
      return RESTARTABLE.includes(status) ? null : `is ${status}`;
    case "cancel":
      return running ?? (CANCELLABLE.includes(status) ? null : `is ${status}`);
    case "pause":
      return PAUSABLE.includes(status) ? null : `is ${status}`;
    case "resume":
      return status === "paused" ? null : `is ${status}`;
    case "promote":
      if (template) return "a repeating job's template (trigger its schedule)";
      return status === "waiting" ? null : `is ${status}`;
    case "reschedule":
      if (template) return "a repeating job's template";
      return ["waiting", "ready", "paused"].includes(status) ? null : `is ${status}`;
    case "delete":
      return running;
  }
}

/**
 * Applies one action to one job through the lifecycle's conditional writes, with the
 * operator's act in the same write (the audit trail). `listed` is the record as a listing
 * just read it (strongly consistent); without it the record is read here. Either way the
 * write is conditional on the status it finds then, so a job that moved on is left alone.
 */
export async function applyAction(
  deps: OpsDeps,
  action: JobAction,
  id: string,
  params: ValidParams,
  includeRunning: boolean,
  listed?: JobRecord,
): Promise<ActionOutcome> {
  const current = listed ?? (await deps.jobs.store.getJob(id));
  if (!current) return { id, outcome: "skipped", reason: "not found" };
  const from = current.status;
  const reason = skipReason(action, current, includeRunning);
  if (reason) return { id, outcome: "skipped", from, reason };
  const act: OperatorAct = { actor: deps.actor, action };
  const changed = (to: JobStatus | "deleted"): ActionOutcome => ({
    id,
    outcome: "changed",
    from,
    to,
  });
  const settled = (result: OperateResult, to?: JobStatus | "deleted"): ActionOutcome =>
    "skipped" in result
      ? { id, outcome: "skipped", from, reason: result.skipped }
      : changed(to ?? result.record.status);
  const handle = deps.jobs.jobs.of(toDoc(current));
  const moved = (ok: boolean): ActionOutcome =>
    ok
      ? changed(handle._doc.status)
      : { id, outcome: "skipped", from, reason: "changed meanwhile" };
  switch (action) {
    case "retry":
      return moved(await restart(deps.jobs, handle, params.retries ?? 1, act));
    case "cancel": {
      const cancelled = await cancelRecord(deps.jobs, current, act);
      return cancelled
        ? changed("cancelled")
        : { id, outcome: "skipped", from, reason: "changed meanwhile" };
    }
    case "pause":
      if (current.repeat) return settled(await pauseSchedule(deps, current));
      return moved(await control(deps.jobs, handle, "pause", act));
    case "resume":
      if (current.repeat) return settled(await resumeSchedule(deps, current));
      return moved(await control(deps.jobs, handle, "resume", act));
    case "promote":
      return moved(await control(deps.jobs, handle, "forceReady", act));
    case "reschedule":
      return settled(await reschedule(deps.jobs, id, params, act));
    case "delete":
      return settled(await deleteJob(deps.jobs, id, includeRunning, act), "deleted");
  }
}
