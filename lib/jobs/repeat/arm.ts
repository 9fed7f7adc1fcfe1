import type { JobDeps, JobMessage } from "../deps.ts";
import { onceName, recurringName } from "../keys.ts";
import { messageFor } from "../message.ts";
import { laneOf } from "../placement.ts";
import type { JobRecord } from "../types.ts";

/** Arms a chained template's firing for `at`: an SQS delay within 900 s, else a one-time at(). */
export async function armNext(deps: JobDeps, template: JobRecord, at: Date): Promise<void> {
  const message: JobMessage = { ...messageFor(template), firedAt: at.toISOString() };
  const delayMs = at.getTime() - deps.clock.now();
  if (delayMs <= 900_000 || !deps.schedules) {
    // Rounded down: the firing waits out the rest, so it is never late by a rounding.
    await deps.lanes.send(laneOf(deps, template), message, Math.max(0, Math.floor(delayMs / 1000)));
  } else {
    await deps.schedules.armOnce(
      onceName(template._id, at.getTime()),
      at,
      laneOf(deps, template),
      message,
    );
  }
}

/** Arms a cron()/rate() template's recurring schedule. */
export async function armRecurring(
  deps: JobDeps,
  template: JobRecord,
  expression: string,
  startDate: Date | undefined,
): Promise<void> {
  if (!deps.schedules) throw new Error("repeating jobs need a scheduler");
  await deps.schedules.armRecurring(
    recurringName(template._id),
    expression,
    startDate,
    laneOf(deps, template),
    messageFor(template),
  );
}

/** Deletes a template's schedules: its recurring one, or its chain's pending at(). */
export async function removeSchedules(deps: JobDeps, template: JobRecord): Promise<void> {
  if (!template.repeat || !deps.schedules) return;
  if (template.repeat.form === "chain") {
    await deps.schedules.remove(onceName(template._id, template.after));
  } else {
    await deps.schedules.remove(recurringName(template._id));
  }
}

/** A template whose firing never came (lost message, missed schedule): fire it now, once. */
export async function fireMissed(deps: JobDeps, template: JobRecord): Promise<void> {
  await deps.lanes.send(
    laneOf(deps, template),
    { ...messageFor(template), firedAt: new Date(template.after).toISOString() },
    0,
  );
}
