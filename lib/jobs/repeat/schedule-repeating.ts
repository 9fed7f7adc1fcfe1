import { firstFireAfter, type ParsedSchedule } from "../../schedule/later-text.ts";
import { toScheduleForm } from "../../schedule/translate.ts";
import { cancelRecord } from "../cancel.ts";
import type { JobDeps, JobLike } from "../deps.ts";
import { type JobRecord, toDoc } from "../types.ts";
import { armNext, armRecurring } from "./arm.ts";

/**
 * Saves a repeating job's template (it never runs itself; each firing makes an occurrence)
 * and arms its schedule: one recurring cron()/rate() schedule, or the first link of a chain.
 * If arming fails, the template is cancelled and the error thrown: nothing half-made remains.
 */
export async function scheduleRepeating(
  deps: JobDeps,
  record: JobRecord,
  parsed: ParsedSchedule,
): Promise<JobLike> {
  const now = record.created;
  const first = firstFireAfter(parsed.schedule, new Date(now)) as Date;
  const form = toScheduleForm(parsed.schedule);
  const template: JobRecord = {
    ...record,
    status: "waiting",
    after: first.getTime(),
    repeat: {
      schedule: parsed.text,
      form: form.kind,
      ...(form.kind === "chain" ? {} : { expression: form.expression }),
    },
  };
  await deps.store.insertJob(template);
  try {
    if (form.kind === "chain") await armNext(deps, template, first);
    else
      await armRecurring(deps, template, form.expression, form.kind === "rate" ? first : undefined);
  } catch (error) {
    await cancelRecord(deps, template);
    throw error;
  }
  deps.metrics.count("JobsScheduled", template.type);
  deps.logger.info("scheduled", {
    jobId: template._id,
    type: template.type,
    schedule: parsed.text,
    armedAs: form.kind === "chain" ? `chain (${form.reason})` : form.expression,
    first: first.toISOString(),
  });
  return deps.jobs.of(toDoc(template));
}
