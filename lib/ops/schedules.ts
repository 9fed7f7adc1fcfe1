import { cancelRecord } from "../jobs/cancel.ts";
import { control } from "../jobs/control.ts";
import { forEachLimited } from "../jobs/enqueue.ts";
import { recurringName } from "../jobs/keys.ts";
import { fireNow, type OperateResult, resumeTemplate } from "../jobs/operate.ts";
import { laneFor } from "../jobs/priority.ts";
import { type JobRecord, TERMINAL, toDoc } from "../jobs/types.ts";
import { describeSchedule } from "../schedule/describe.ts";
import { firstFireAfter, laterSchedule } from "../schedule/later-text.ts";
import { iso } from "./list.ts";
import type { OpsDeps, StandingSchedule } from "./ports.ts";
import type {
  ActionOutcome,
  RefusedScheduleView,
  ScheduleList,
  ScheduleNext,
  ScheduleView,
} from "./types.ts";

/** A type with more open jobs than this is not read through for chained templates. */
export const MAX_OPEN_READ_PER_TYPE = 1000;
const PARALLEL_READS = 16;

export type ScheduleAction = "pause" | "resume" | "trigger" | "cancel";

/**
 * Every repeating job's template: those EventBridge Scheduler holds a schedule for (recurring
 * `job-<id>`, and a chain's next link when it is more than 15 minutes away, `at-<id>-<s>`),
 * and, for chains whose next link rides an SQS delay, the templates found among each type's
 * open jobs (types with more than 1,000 open jobs are not read through: `skippedTypes`).
 * Beside them, the `refused` ones: schedules later.js found no occurrence in, never saved.
 */
export async function listSchedules(
  deps: OpsDeps,
): Promise<ScheduleList & { skippedTypes: string[] }> {
  const { store } = deps.jobs;
  const standing = await deps.schedules.list();
  const templates = new Map<string, JobRecord>();
  let read = 0;
  const ids = new Set(standing.map((s) => templateIdOf(s.name)).filter((id) => id !== null));
  const skippedTypes: string[] = [];
  for (const type of await store.knownTypes()) {
    const open = await store.openJobsOfType(type);
    read += open.length;
    if (open.length > MAX_OPEN_READ_PER_TYPE) skippedTypes.push(type);
    else for (const entry of open) ids.add(entry._id);
  }
  read += ids.size;
  for (const record of await store.getJobs([...ids] as string[])) {
    if (record.repeat) templates.set(record._id, record);
  }
  const orphans = standing
    .filter((s) => {
      const id = templateIdOf(s.name);
      const template = id ? templates.get(id) : undefined;
      return s.name.startsWith("job-") && (!template || TERMINAL.includes(template.status));
    })
    .map((s) => s.name);
  const live = [...templates.values()].filter((t) => !TERMINAL.includes(t.status));
  const schedules: ScheduleView[] = [];
  await forEachLimited(live, PARALLEL_READS, async (template) => {
    schedules.push(await viewOf(deps, template, standing));
    read += template.lastOccurrenceId ? 1 : 0;
  });
  schedules.sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));
  const refused = await refusedSchedules(deps);
  return { schedules, orphans, refused, read: read + 1, skippedTypes };
}

/**
 * The schedules `scheduleJob` refused (later.js found no occurrence in them), newest first,
 * their data redacted as a job's would be.
 */
export async function refusedSchedules(deps: OpsDeps): Promise<RefusedScheduleView[]> {
  const refusals = await deps.jobs.store.scheduleRefusals();
  return refusals.map((refusal) => {
    const view: RefusedScheduleView = {
      status: "refused",
      key: refusal.key,
      type: refusal.type,
      text: refusal.text,
      error: refusal.error,
      count: refusal.count,
      firstAt: iso(refusal.firstAt),
      lastAt: iso(refusal.at),
    };
    if (refusal.tenant !== undefined) view.tenant = refusal.tenant;
    if (refusal.data !== undefined)
      view.data = deps.redact(refusal.data, { id: refusal.key, type: refusal.type });
    return view;
  });
}

/**
 * What a template (by id) or a later.js text will do: its EventBridge form or "chained",
 * the next fire times (later's own, UTC) and its warnings.
 *
 * @example await scheduleNext(deps, "every 90 minutes") // warns: fires hourly in later.js
 */
export async function scheduleNext(
  deps: OpsDeps,
  idOrText: string,
  count = 5,
): Promise<ScheduleNext> {
  const template = /^[\w-]+$/.test(idOrText) ? await deps.jobs.store.getJob(idOrText) : null;
  const text = template?.repeat?.schedule ?? idOrText;
  const described = describeSchedule(text, { count, now: new Date(deps.jobs.clock.now()) });
  return {
    text,
    eventBridge: described.eventBridge,
    ...(described.chainedBecause ? { chainedBecause: described.chainedBecause } : {}),
    next: described.next.map((date) => date.toISOString()),
    warnings: described.warnings,
  };
}

/** Pauses, resumes, fires now, or cancels a template; the outcome says what changed. */
export async function scheduleAction(
  deps: OpsDeps,
  id: string,
  action: ScheduleAction,
): Promise<ActionOutcome> {
  const template = await deps.jobs.store.getJob(id);
  if (!template?.repeat) return { id, outcome: "skipped", reason: "no repeating job with this id" };
  const from = template.status;
  let result: OperateResult;
  switch (action) {
    case "pause":
      result = await pauseSchedule(deps, template);
      break;
    case "resume":
      result = await resumeSchedule(deps, template);
      break;
    case "trigger":
      result = await fireNow(deps.jobs, template, { actor: deps.actor, action: "trigger" });
      if ("record" in result)
        return { id: result.record._id, outcome: "changed", from, to: result.record.status };
      break;
    case "cancel": {
      const act = { actor: deps.actor, action: "cancel" };
      const cancelled = await cancelRecord(deps.jobs, template, act);
      result = cancelled ? { record: cancelled } : { skipped: `is ${from}` };
      break;
    }
  }
  return "record" in result
    ? { id, outcome: "changed", from, to: result.record.status }
    : { id, outcome: "skipped", from, reason: result.skipped };
}

/**
 * Pauses a template without deleting it: the record first (a firing then finds it paused and
 * skips), then its recurring schedule is disabled in EventBridge Scheduler (`State:
 * DISABLED`), so nothing fires while paused. A chain's links go on being recorded as skipped.
 */
export async function pauseSchedule(deps: OpsDeps, template: JobRecord): Promise<OperateResult> {
  const handle = deps.jobs.jobs.of(toDoc(template));
  const act = { actor: deps.actor, action: "pause" };
  if (!(await control(deps.jobs, handle, "pause", act)))
    return { skipped: `is ${template.status}` };
  if (template.repeat?.form !== "chain") {
    const next = firstFireAfter(
      laterSchedule(template.repeat?.schedule ?? ""),
      new Date(deps.jobs.clock.now()),
    );
    const state = await deps.schedules.setState(
      recurringName(template._id),
      "DISABLED",
      next ?? undefined,
    );
    if (state === "missing")
      deps.jobs.logger.warn("paused a template whose schedule is missing", { jobId: template._id });
  }
  const record = await deps.jobs.store.getJob(template._id);
  return record ? { record } : { skipped: "removed meanwhile" };
}

/** Resumes a paused template: its schedule enabled again, then the record waits for later's next instant. */
export async function resumeSchedule(deps: OpsDeps, template: JobRecord): Promise<OperateResult> {
  if (template.status !== "paused") return { skipped: `is ${template.status}` };
  if (template.repeat && template.repeat.form !== "chain") {
    const next = firstFireAfter(
      laterSchedule(template.repeat.schedule),
      new Date(deps.jobs.clock.now()),
    );
    await deps.schedules.setState(recurringName(template._id), "ENABLED", next ?? undefined);
  }
  return resumeTemplate(deps.jobs, template, { actor: deps.actor, action: "resume" });
}

async function viewOf(
  deps: OpsDeps,
  template: JobRecord,
  standing: StandingSchedule[],
): Promise<ScheduleView> {
  const repeat = template.repeat as NonNullable<JobRecord["repeat"]>;
  const described = describeSchedule(repeat.schedule, {
    count: 5,
    now: new Date(deps.jobs.clock.now()),
  });
  const view: ScheduleView = {
    id: template._id,
    type: template.type,
    data: deps.redact(template.data, { id: template._id, type: template.type }),
    status: template.status,
    lane: laneFor(template.priority),
    text: repeat.schedule,
    eventBridge: described.eventBridge,
    warnings: described.warnings,
    next: described.next.map((date) => date.toISOString()),
  };
  if (template.tenant !== undefined) view.tenant = template.tenant;
  if (described.chainedBecause) view.chainedBecause = described.chainedBecause;
  if (repeat.form !== "chain") {
    const name = recurringName(template._id);
    view.scheduler = { name, state: standing.find((s) => s.name === name)?.state ?? "missing" };
  } else {
    const link = standing.find((s) => templateIdOf(s.name) === template._id);
    if (link) view.scheduler = { name: link.name, state: link.state };
  }
  if (template.lastFiredAt !== undefined) view.lastFiredAt = iso(template.lastFiredAt);
  if (template.lastOccurrenceId) {
    const occurrence = await deps.jobs.store.getJob(template.lastOccurrenceId);
    const error = occurrence?.failures?.at(-1)?.value;
    view.lastOccurrence = {
      id: template.lastOccurrenceId,
      status: occurrence?.status ?? "purged",
      ...(error !== undefined && occurrence?.status === "failed" ? { error: String(error) } : {}),
    };
  }
  return view;
}

/** The template a schedule of the job group belongs to: `job-<id>` or `at-<id>-<seconds>`. */
function templateIdOf(name: string): string | null {
  if (name.startsWith("job-")) return name.slice(4);
  const link = /^at-(.+)-\d+$/.exec(name);
  return link ? (link[1] as string) : null;
}
