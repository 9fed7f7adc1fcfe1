import { JobValidationError } from "../errors.ts";
import { randomId } from "../ids.ts";
import { laterFireTimes, type ParsedSchedule, parseScheduleText } from "../schedule/later-text.ts";
import { cancelJobs, liveFrom } from "./cancel.ts";
import type { JobDeps, JobLike } from "./deps.ts";
import { newRecord } from "./records.ts";
import { keepIdenticalTemplate } from "./repeat/identical.ts";
import { clearRefusal, refuseSchedule } from "./repeat/refusal.ts";
import { scheduleRepeating } from "./repeat/schedule-repeating.ts";
import { insertAndEnqueue } from "./send-batch.ts";
import { tenantOf } from "./tenant.ts";
import { type JobRecord, toDoc } from "./types.ts";
import {
  type ScheduleJobOptions,
  type ValidJobRequest,
  validateScheduleOptions,
} from "./validate.ts";

/**
 * `scheduleJob(options)`: validates, writes the record (one conditional put) and sends its
 * message (batched with the other calls of the same turn, see `insertAndEnqueue`); with a `schedule`, saves a repeating job's template and arms its schedule instead.
 * Bad input is refused with a `JobValidationError` naming the field, and nothing is written,
 * except a schedule later.js finds no occurrence in: as in Reaction's original, that warns and
 * resolves a job that was never saved, cancelling nothing (see `refuseSchedule`). A schedule
 * later.js read only part-way keeps later's meaning, with a warning naming the rest it
 * ignored and the next fire times.
 *
 * @example await scheduleJob(deps, { type: "sendEmail", data: { to: "a@b.c" }, priority: "high" })
 */
export async function scheduleJob(deps: JobDeps, options: ScheduleJobOptions): Promise<JobLike> {
  const request = validateScheduleOptions(options);
  if (request.schedule !== undefined) {
    const repeating = { ...request, schedule: request.schedule };
    const parsed = readSchedule(deps, repeating);
    if ("refused" in parsed) return refuseSchedule(deps, repeating, parsed.refused);
    if (!deps.schedules) {
      throw new JobValidationError(
        "schedule",
        "repeating jobs need EventBridge Scheduler, which this app has no settings for",
      );
    }
    await clearRefusal(deps, request);
    if (request.cancelRepeats) {
      // The same repeating job again (a restart, a deploy): keep it rather than churn it.
      const kept = await keepIdenticalTemplate(deps, { ...request, schedule: parsed.text });
      if (kept) return deps.jobs.of(toDoc(kept));
      // Reaction: only a job with a schedule cancels the type's other jobs, before it is saved.
      await cancelJobs(deps, { type: request.type });
    }
    return scheduleRepeating(deps, liveRecord(deps, request), parsed);
  }
  const record = liveRecord(deps, request);
  // Written and sent together with the other jobs scheduled in this turn (SendMessageBatch).
  await insertAndEnqueue(deps, record);
  return deps.jobs.of(toDoc(record));
}

/**
 * later's reading of a schedule text, or why it gives no occurrence. A part-way reading is
 * kept (Reaction's own "every day" is the 1st of each month) and warned about, with the rest
 * later ignored and the next fire times, each time it is scheduled.
 */
function readSchedule(
  deps: JobDeps,
  request: ValidJobRequest & { schedule: string },
): ParsedSchedule | { refused: string } {
  const now = new Date(deps.clock.now());
  let parsed: ParsedSchedule;
  try {
    parsed = parseScheduleText(request.schedule, now);
  } catch (error) {
    if (error instanceof JobValidationError && error.field === "schedule")
      return { refused: error.message };
    throw error;
  }
  if (parsed.warning) {
    deps.logger.warn("schedule read part-way by later.js; its meaning is kept", {
      type: request.type,
      schedule: request.schedule,
      ignored: request.schedule.slice(parsed.errorAt),
      warning: parsed.warning,
      next: laterFireTimes(parsed.schedule, now, 3).map((date) => date.toISOString()),
    });
  }
  return parsed;
}

/**
 * A new record, live from after any `cancelJobs` of its type this process has made, with its
 * tenant (set once, here: the listing index keys it).
 */
function liveRecord(deps: JobDeps, request: ValidJobRequest): JobRecord {
  const now = deps.clock.now();
  const tenant = tenantOf(deps.tenants, request.type, request.data);
  return {
    ...newRecord(randomId(), request, now),
    liveSince: liveFrom(deps, request.type),
    ...(tenant === undefined ? {} : { tenant }),
  };
}
