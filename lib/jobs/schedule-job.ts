import { JobValidationError } from "../errors.ts";
import { randomId } from "../ids.ts";
import { parseScheduleText } from "../schedule/later-text.ts";
import { cancelJobs } from "./cancel.ts";
import type { JobDeps, JobLike } from "./deps.ts";
import { enqueueSafely } from "./enqueue.ts";
import { laneFor } from "./priority.ts";
import { newRecord } from "./records.ts";
import { scheduleRepeating } from "./repeat/schedule-repeating.ts";
import { toDoc } from "./types.ts";
import { type ScheduleJobOptions, validateScheduleOptions } from "./validate.ts";

/**
 * `scheduleJob(options)`: validates, writes the record (one conditional put) and sends its
 * message; with a `schedule`, saves a repeating job's template and arms its schedule instead.
 * Bad input is refused with a `JobValidationError` naming the field, and nothing is written.
 *
 * @example await scheduleJob(deps, { type: "sendEmail", data: { to: "a@b.c" }, priority: "high" })
 */
export async function scheduleJob(deps: JobDeps, options: ScheduleJobOptions): Promise<JobLike> {
  const request = validateScheduleOptions(options);
  let now = deps.clock.now();
  if (request.schedule !== undefined) {
    const parsed = parseScheduleText(request.schedule, new Date(now));
    if (!deps.schedules) {
      throw new JobValidationError(
        "schedule",
        "repeating jobs need EventBridge Scheduler, which this app has no settings for",
      );
    }
    // Reaction: only a job with a schedule cancels the type's other jobs, before it is saved.
    if (request.cancelRepeats) {
      await cancelJobs(deps, { type: request.type });
      // Live after the cancel request, so that request (applied again later) spares it.
      now = deps.clock.now() + 1;
    }
    return scheduleRepeating(deps, newRecord(randomId(), request, now), parsed);
  }
  const record = newRecord(randomId(), request, now);
  await deps.store.insertJob(record);
  deps.logger.info("scheduled", {
    jobId: record._id,
    type: record.type,
    lane: laneFor(record.priority),
  });
  deps.metrics.count("JobsScheduled", record.type);
  await enqueueSafely(deps, record);
  return deps.jobs.of(toDoc(record));
}
