import { firstFireAfter, laterSchedule } from "../../schedule/later-text.ts";
import { cancelledByLog } from "../cancel.ts";
import type { JobChanges, JobDeps, JobMessage } from "../deps.ts";
import { occurrenceIdFor } from "../keys.ts";
import { laneOf } from "../placement.ts";
import { freshRun } from "../records.ts";
import { type JobRecord, TERMINAL } from "../types.ts";
import { armNext, removeSchedules } from "./arm.ts";

/** How long after its firing an occurrence that is not there yet counts as being created. */
const BEING_CREATED_MS = 15 * 60_000;
/** A firing that races a pause, a resume or another firing reads the template again. */
const MAX_ATTEMPTS = 3;

/**
 * A repeating job fired for `message.firedAt`. Records the firing on its template (one
 * conditional write, which is the gate: one instant fires once), arms a chain's next link,
 * and creates the occurrence to run. Resolves the occurrence's id to claim, or `null` when
 * there is nothing to run: a duplicate or stale firing, a cancelled or paused template, a
 * previous occurrence still unfinished.
 *
 * - The next instant is later's next after *now*, so after downtime the missed instants fire
 *   once, and the schedule resumes on its grid.
 * - A redelivered firing whose occurrence insert failed creates it (the id derives from the
 *   instant, so this never makes two).
 */
export async function fire(deps: JobDeps, message: JobMessage): Promise<string | null> {
  const firedAt = Date.parse(message.firedAt ?? "");
  if (Number.isNaN(firedAt)) {
    deps.logger.error("firing without a valid time", {
      jobId: message.id,
      firedAt: message.firedAt,
    });
    return null;
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const template = await deps.store.getJob(message.id);
    if (!template?.repeat) return null;
    if (template.type !== message.type) {
      deps.logger.warn("firing dropped: its type is not the job's", {
        jobId: template._id,
        type: template.type,
        messageType: message.type,
      });
      return null;
    }
    if (TERMINAL.includes(template.status)) {
      await removeSchedules(deps, template);
      return null;
    }
    const occurrenceId = occurrenceIdFor(template._id, firedAt);
    if (template.lastFiredAt !== undefined && template.lastFiredAt >= firedAt) {
      // Fired already. If it was this very instant, its occurrence may not exist yet.
      if (template.lastFiredAt !== firedAt || template.lastOccurrenceId !== occurrenceId)
        return null;
      await deps.store.insertJob(occurrence(template, occurrenceId, deps.clock.now()));
      return occurrenceId;
    }
    if (!(await reached(deps, template, message, firedAt))) return null;
    if (await cancelledByLog(deps, template)) return null;
    const now = deps.clock.now();
    const next = firstFireAfter(
      laterSchedule(template.repeat.schedule),
      new Date(Math.max(firedAt, now)),
    );
    const skipped =
      template.status === "paused"
        ? "the job is paused"
        : await unfinishedOccurrence(deps, template);
    const changes: JobChanges = {
      status: next ? template.status : "completed",
      lastFiredAt: firedAt,
      after: next?.getTime() ?? template.after,
      updated: now,
      ...(skipped ? {} : { lastOccurrenceId: occurrenceId, repeated: template.repeated + 1 }),
    };
    const recorded = await deps.store.recordFiring(
      template._id,
      { firedAt, status: template.status, previous: template.lastFiredAt ?? null },
      changes,
    );
    if (!recorded) continue; // a pause, resume or other firing came in between: read again
    // The chain goes on whatever becomes of this occurrence; only the recorded firing arms it.
    if (template.repeat.form === "chain" && next) await armNext(deps, recorded, next);
    if (skipped) {
      deps.metrics.count("RepeatsSkipped", template.type);
      deps.logger.warn("repeat skipped", {
        jobId: template._id,
        type: template.type,
        firedAt: new Date(firedAt).toISOString(),
        reason: skipped,
      });
      return null;
    }
    await deps.store.insertJob(occurrence(recorded, occurrenceId, now));
    return occurrenceId;
  }
  deps.logger.warn("firing gave up: the template kept changing", { jobId: message.id });
  return null;
}

/** The occurrence a firing makes: a fresh run of the template, with the template's budget. */
function occurrence(template: JobRecord, id: string, now: number): JobRecord {
  return {
    ...freshRun(template, id, now),
    repeated: template.repeated + (template.lastOccurrenceId === id ? 0 : 1),
    templateId: template._id,
  };
}

/**
 * Has the instant come? A firing more than a second early (clock skew) is sent again for the
 * instant; within the second (SQS delays are whole seconds, chains round down), it waits.
 */
async function reached(
  deps: JobDeps,
  template: JobRecord,
  message: JobMessage,
  firedAt: number,
): Promise<boolean> {
  const early = firedAt - deps.clock.now();
  if (early > 1000) {
    await deps.lanes.send(laneOf(deps, template), message, Math.floor(early / 1000));
    return false;
  }
  if (early > 0) await deps.clock.sleep(early);
  return true;
}

/**
 * Is the previous occurrence unfinished? One that does not exist yet but was recorded within
 * the last `BEING_CREATED_MS` is being created by its firing (or its redelivery): unfinished.
 * Older and missing, it was removed or purged.
 */
async function unfinishedOccurrence(deps: JobDeps, template: JobRecord): Promise<string | null> {
  if (!template.lastOccurrenceId) return null;
  const previous = await deps.store.getJob(template.lastOccurrenceId);
  if (!previous) {
    const recent = deps.clock.now() - (template.lastFiredAt ?? 0) < BEING_CREATED_MS;
    return recent ? `the previous occurrence ${template.lastOccurrenceId} is being created` : null;
  }
  if (TERMINAL.includes(previous.status)) return null;
  return `the previous occurrence ${previous._id} is still ${previous.status}`;
}
