import { cancelledByLog, cancelRecord } from "../cancel.ts";
import type { JobDeps } from "../deps.ts";
import { canonicalJson as canonical } from "../json.ts";
import type { JobRecord } from "../types.ts";
import type { ValidJobRequest } from "../validate.ts";

/**
 * `scheduleJob({ type, data, schedule, cancelRepeats: true })` when an open template of the
 * same repeating job exists: that template is kept (same id, its schedule and any running
 * occurrence untouched) and returned, and any other open template of the type is cancelled.
 * A server that restarts, or a deploy that runs startup again, then churns nothing.
 * Reaction instead cancelled every job of the type and made a new template, losing the
 * running occurrence. `null` when there is no such template (then Reaction's way applies).
 *
 * The same repeating job is the same type, data (key order aside) and schedule text, and the
 * same priority and retry policy: a template that would run its occurrences otherwise than
 * asked is not kept. Nor is one a `cancelJobs` already covered while the type index hid it
 * (its request is in the type's cancel log): that template is cancelled now, as its next
 * firing would have done, and the repeat asked for after the cancel is made anew.
 */
export async function keepIdenticalTemplate(
  deps: JobDeps,
  wanted: ValidJobRequest & { schedule: string },
): Promise<JobRecord | null> {
  const open = await deps.store.openJobsOfType(wanted.type);
  const records = await Promise.all(open.map(({ _id }) => deps.store.getJob(_id)));
  const templates = records
    .filter((record): record is JobRecord => record?.repeat !== undefined)
    .filter((record) => record.status === "waiting" || record.status === "paused")
    .sort((a, b) => a.created - b.created || (a._id < b._id ? -1 : 1));
  const identity = sameIdentity(wanted);
  let kept: JobRecord | undefined;
  for (const template of templates.filter(identity)) {
    if (await cancelledByLog(deps, template)) continue;
    kept = template;
    break;
  }
  if (!kept) return null;
  for (const other of templates) if (other !== kept) await cancelRecord(deps, other);
  return kept;
}

function sameIdentity(
  wanted: ValidJobRequest & { schedule: string },
): (record: JobRecord) => boolean {
  const data = canonical(wanted.data);
  const { retries, retryWait, retryBackoff, retryUntil } = wanted.retry;
  return (record) =>
    record.repeat?.schedule === wanted.schedule &&
    canonical(record.data) === data &&
    record.priority === wanted.priority &&
    (record.repeatRetries ?? record.retries) === retries &&
    record.retryWait === retryWait &&
    record.retryBackoff === retryBackoff &&
    record.retryUntil === retryUntil;
}
