import { JobStateError } from "../../errors.ts";
import type { JobActions, JobDeps, JobLike } from "../deps.ts";
import { Job } from "../job.ts";
import { refusalKeyFor } from "../keys.ts";
import { newRecord } from "../records.ts";
import { tenantOf } from "../tenant.ts";
import { type JobDoc, toDoc } from "../types.ts";
import type { ValidJobRequest } from "../validate.ts";

/** A refusal keeps the job's data only up to this size (JSON bytes): enough to tell shops apart. */
const REFUSAL_DATA_BYTES = 2048;
/** Texts and errors are cut to this many characters in the record (any text an admin typed). */
const REFUSAL_TEXT_CHARS = 512;

/**
 * `scheduleJob` with a schedule later.js finds no occurrence in (a shop admin's
 * `sitemapRefreshPeriod` typo, `"foo bar"`): what Reaction's original did, and what operators
 * see. The original logged a warning and resolved with a `Job` that was never saved (no
 * `_id`), inserting and cancelling nothing; Reaction calls `scheduleJob` without `await` after
 * a settings update, so a rejection here would be an unhandled rejection that ends the API
 * process. So this warns, counts `ScheduleRefused`, records the refusal (the schedules page
 * and `bgjobs doctor` show it), and returns such an unsaved job. Recording is best effort: a
 * store error is logged, never thrown.
 *
 * @example const job = await refuseSchedule(deps, request, error); job._id // undefined
 */
export async function refuseSchedule(
  deps: JobDeps,
  request: ValidJobRequest & { schedule: string },
  reason: string,
): Promise<JobLike> {
  const now = deps.clock.now();
  const tenant = tenantOf(deps.tenants, request.type, request.data);
  deps.logger.warn("schedule refused: later.js found no occurrence; nothing was saved", {
    type: request.type,
    schedule: request.schedule,
    error: reason,
    ...(tenant === undefined ? {} : { tenant }),
  });
  deps.metrics.count("ScheduleRefused", request.type);
  const dataBytes = Buffer.byteLength(JSON.stringify(request.data), "utf8");
  await deps.store
    .noteScheduleRefusal(refusalKeyFor(request.type, request.data), {
      type: request.type,
      text: request.schedule.slice(0, REFUSAL_TEXT_CHARS),
      error: reason.slice(0, REFUSAL_TEXT_CHARS),
      ...(dataBytes <= REFUSAL_DATA_BYTES ? { data: request.data } : {}),
      ...(tenant === undefined ? {} : { tenant }),
      at: now,
    })
    .catch((error: unknown) => {
      deps.logger.warn("could not record a refused schedule", {
        type: request.type,
        error: (error as Error).message,
      });
    });
  return new Job(NEVER_SAVED, unsavedDoc(request, now));
}

async function neverSaved(): Promise<never> {
  throw new JobStateError(
    "this job was never saved: later.js found no occurrence in its schedule (a warning was logged when it was scheduled)",
  );
}

/** What an unsaved job's methods do: say why there is nothing to act on (it has no id). */
const NEVER_SAVED: JobActions = {
  complete: neverSaved,
  fail: neverSaved,
  heartbeat: neverSaved,
  control: neverSaved,
  restart: neverSaved,
  rerun: neverSaved,
  remove: neverSaved,
};

/**
 * A valid schedule for a type and data supersedes any refusal recorded for them (the admin
 * fixed the setting). Best effort, as recording is: a store error is logged.
 */
export async function clearRefusal(
  deps: JobDeps,
  request: Pick<ValidJobRequest, "type" | "data">,
): Promise<void> {
  await deps.store
    .noteScheduleRefusal(refusalKeyFor(request.type, request.data), null)
    .catch((error: unknown) => {
      deps.logger.warn("could not clear a refused schedule", {
        type: request.type,
        error: (error as Error).message,
      });
    });
}

/** The document of a job that was never saved: Reaction's fields, and no `_id` (as the original). */
function unsavedDoc(request: ValidJobRequest, now: number): JobDoc {
  const { _id: _never, ...doc } = toDoc(newRecord("unsaved", request, now));
  return { ...doc, status: "waiting" } as JobDoc;
}
