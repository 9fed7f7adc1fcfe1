import { firstFireAfter, laterSchedule } from "../schedule/later-text.ts";
import { cancelRecord } from "./cancel.ts";
import type { JobDeps } from "./deps.ts";
import { enqueueSafely } from "./enqueue.ts";
import { laneFor } from "./priority.ts";
import { withAudit } from "./records.ts";
import { fire } from "./repeat/fire.ts";
import { type JobRecord, type JobStatus, type OperatorAct, REMOVABLE, TERMINAL } from "./types.ts";

/**
 * The lifecycle writes only operators make: rescheduling, deleting an unfinished job, a
 * template's resume and manual firing, and an audit entry on its own. Each is one
 * conditional write on the status it read (as `control.ts` does), so an operator never
 * races a worker: a job that moved on meanwhile is left alone and reported.
 */
export type OperateResult = { record: JobRecord } | { skipped: string };

const RESCHEDULABLE: readonly JobStatus[] = ["waiting", "ready", "paused"];

/**
 * Changes a waiting, ready or paused job's due time, priority (and so its lane) or attempts
 * left; a due job is sent again at once (a message already on the old lane or due time finds
 * the claim's conditions and changes nothing twice).
 *
 * @example await reschedule(deps, "J1", { priority: -10 }, { actor: "ada", action: "reschedule" })
 */
export async function reschedule(
  deps: JobDeps,
  id: string,
  change: { after?: number; priority?: number; retries?: number },
  act: OperatorAct,
): Promise<OperateResult> {
  const current = await deps.store.getJob(id);
  if (!current) return { skipped: "not found" };
  if (current.repeat) return { skipped: "a repeating job's template (use its schedule)" };
  if (!RESCHEDULABLE.includes(current.status)) return { skipped: `is ${current.status}` };
  const now = deps.clock.now();
  const after = change.after ?? current.after;
  const priority = change.priority ?? current.priority;
  const retries = change.retries ?? current.retries;
  const status: JobStatus =
    current.status === "paused" ? "paused" : after > now ? "waiting" : "ready";
  const detail = [
    change.after !== undefined ? `due ${new Date(after).toISOString()}` : "",
    change.priority !== undefined
      ? `priority ${current.priority} -> ${priority} (${laneFor(priority)})`
      : "",
    change.retries !== undefined ? `attempts left ${current.retries} -> ${retries}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  const record = await deps.store.transition(id, [current.status], {
    status,
    after,
    priority,
    retries,
    updated: now,
    audit: withAudit(current.audit, { ...act, detail }, current.status, status, now),
  });
  if (!record) return { skipped: "changed meanwhile" };
  await enqueueSafely(deps, record);
  return { record };
}

/**
 * Deletes a job. An unfinished one is cancelled first (through `cancelRecord`, which ends its
 * run and removes a template's schedules); a running one only when `includeRunning`.
 */
export async function deleteJob(
  deps: JobDeps,
  id: string,
  includeRunning: boolean,
  act: OperatorAct,
): Promise<OperateResult> {
  let current = await deps.store.getJob(id);
  if (!current) return { skipped: "not found" };
  if (current.status === "running" && !includeRunning)
    return { skipped: "is running (include running jobs to delete it)" };
  if (!TERMINAL.includes(current.status)) {
    current = await cancelRecord(deps, current, act);
    if (!current) return { skipped: "changed meanwhile" };
  }
  if (!(await deps.store.removeJob(id, REMOVABLE))) return { skipped: "changed meanwhile" };
  deps.logger.info("deleted", { jobId: id, type: current.type, by: act.actor });
  return { record: current };
}

/**
 * A paused template runs again from later's next instant after now: the instants it missed
 * while paused are not fired late (a paused schedule's recurring schedule was disabled, and a
 * chain's firings were recorded as skipped).
 */
export async function resumeTemplate(
  deps: JobDeps,
  template: JobRecord,
  act: OperatorAct,
): Promise<OperateResult> {
  if (!template.repeat) return { skipped: "not a repeating job's template" };
  if (template.status !== "paused") return { skipped: `is ${template.status}` };
  const now = deps.clock.now();
  const next = firstFireAfter(laterSchedule(template.repeat.schedule), new Date(now));
  const record = await deps.store.transition(template._id, ["paused"], {
    status: next ? "waiting" : "completed",
    after: next?.getTime() ?? template.after,
    updated: now,
    audit: withAudit(template.audit, act, "paused", next ? "waiting" : "completed", now),
  });
  return record ? { record } : { skipped: "changed meanwhile" };
}

/**
 * Fires a template now, as its schedule would (one occurrence, never overlapping the
 * previous one), and sends the occurrence to its lane. Resolves the occurrence, or why none
 * was made (paused, the previous occurrence still unfinished, cancelled).
 */
export async function fireNow(
  deps: JobDeps,
  template: JobRecord,
  act: OperatorAct,
): Promise<OperateResult> {
  if (!template.repeat) return { skipped: "not a repeating job's template" };
  if (TERMINAL.includes(template.status)) return { skipped: `is ${template.status}` };
  if (template.status === "paused") return { skipped: "is paused (resume it first)" };
  // EventBridge's instants are whole seconds; so are the occurrence ids made from them.
  const firedAt = Math.floor(deps.clock.now() / 1000) * 1000;
  const occurrenceId = await fire(deps, {
    id: template._id,
    type: template.type,
    firedAt: new Date(firedAt).toISOString(),
  });
  const occurrence = occurrenceId ? await deps.store.getJob(occurrenceId) : null;
  if (!occurrence) {
    const now = await deps.store.getJob(template._id);
    const previous = now?.lastOccurrenceId ? await deps.store.getJob(now.lastOccurrenceId) : null;
    if (previous && !TERMINAL.includes(previous.status))
      return { skipped: `its previous occurrence ${previous._id} is still ${previous.status}` };
    return { skipped: `no firing now (the template is ${now?.status ?? "gone"})` };
  }
  await enqueueSafely(deps, occurrence);
  await appendAudit(deps, template._id, { ...act, detail: `occurrence ${occurrence._id}` });
  return { record: occurrence };
}

/**
 * Adds an operator's act to a job's audit trail on its own (when the act itself was not a
 * write to the record, such as a schedule disabled in EventBridge Scheduler). Conditional on
 * the status read; tried again if the job moved meanwhile.
 */
export async function appendAudit(deps: JobDeps, id: string, act: OperatorAct): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const current = await deps.store.getJob(id);
    if (!current) return false;
    const now = deps.clock.now();
    const written = await deps.store.transition(id, [current.status], {
      status: current.status,
      audit: withAudit(current.audit, act, current.status, current.status, now),
    });
    if (written) return true;
  }
  return false;
}
