/**
 * Writing planned jobs: each under its own id with the store's conditional insert (an id
 * already here is left alone: `skipped`), then messages for the due ones (SendMessageBatch,
 * by lane), delays or one-time schedules for the later ones, and schedules for templates.
 * A dry run reads which ids exist and writes nothing.
 */
import type { JobDeps } from "../jobs/deps.ts";
import { enqueue, forEachLimited } from "../jobs/enqueue.ts";
import { dueMessage } from "../jobs/message.ts";
import { laneFor } from "../jobs/priority.ts";
import { armNext, armRecurring, fireMissed } from "../jobs/repeat/arm.ts";
import type { JobRecord } from "../jobs/types.ts";
import type { LaneName } from "../resources.ts";
import { firstFireAfter, laterSchedule } from "../schedule/later-text.ts";
import type { JobPlan, RepeatPlan } from "./plan.ts";

/** Conditional writes in flight at once (each is one PutItem). */
const WRITES_IN_FLIGHT = 25;
/** Ids a `BatchGetItem` reads at once. */
const READ_BATCH = 100;

export type ImportOutcome =
  | { id: string; outcome: "imported" | "skipped" }
  /** A repeating job of the same type and data is already scheduled here (`existing`). */
  | { id: string; outcome: "duplicate"; existing: string }
  /** Written, then its schedule could not be armed: removed again, so a later run retries it. */
  | { id: string; outcome: "failed"; field: string; message: string };

/** The templates already here, by type, read once per type and run (and those imported since). */
export type TemplatesByType = Map<string, Promise<JobRecord[]>>;

/**
 * Imports one page of plans (or, with `dryRun`, says what it would do). Resolves one outcome
 * per plan, in order.
 */
export async function importPlans(
  deps: JobDeps,
  plans: ReadonlyArray<JobPlan | RepeatPlan>,
  options: { dryRun: boolean; templates: TemplatesByType },
): Promise<ImportOutcome[]> {
  const outcomes = new Map<string, ImportOutcome>();
  for (const plan of plans) {
    if (plan.kind !== "repeat") continue;
    const existing = await duplicateOf(deps, plan, options.templates);
    if (existing) outcomes.set(plan.id, { id: plan.id, outcome: "duplicate", existing });
  }
  // One BatchGetItem per 100 ids finds what a run before this one wrote: a run again (after an
  // interruption, or to check) costs reads, not a failed conditional put per job.
  const present = await existingIds(
    deps,
    plans.filter((plan) => !outcomes.has(plan.id)).map((plan) => plan.id),
  );
  for (const id of present) outcomes.set(id, { id, outcome: "skipped" });
  const rest = plans.filter((plan) => !outcomes.has(plan.id));
  if (options.dryRun) {
    for (const plan of rest) outcomes.set(plan.id, { id: plan.id, outcome: "imported" });
    return plans.map((plan) => outcomes.get(plan.id) as ImportOutcome);
  }
  const inserted: Array<JobPlan | RepeatPlan> = [];
  // Still conditional: a run at the same time, or a record past its TTL, is left alone.
  await forEachLimited(rest, WRITES_IN_FLIGHT, async (plan) => {
    const record = plan.kind === "repeat" ? plan.template : plan.record;
    const result = await deps.store.insertJob(record);
    outcomes.set(plan.id, { id: plan.id, outcome: result === "inserted" ? "imported" : "skipped" });
    if (plan.kind === "repeat" && plan.occurrence) await deps.store.insertJob(plan.occurrence);
    if (result === "inserted") inserted.push(plan);
  });
  // One instant for both: a job is sent with a delay, or given a one-time schedule, never neither.
  const now = deps.clock.now();
  await sendDue(deps, inserted, now);
  await forEachLimited(inserted, WRITES_IN_FLIGHT, async (plan) => {
    if (plan.kind === "job")
      return withinDelay(plan.record, now) ? undefined : enqueueLater(deps, plan.record);
    const failure = await armTemplate(deps, plan);
    if (failure) outcomes.set(plan.id, { id: plan.id, outcome: "failed", ...failure });
  });
  return plans.map((plan) => outcomes.get(plan.id) as ImportOutcome);
}

/**
 * The messages of the jobs due now or within SQS's 15 minutes, in `SendMessageBatch` calls of
 * 10 grouped by lane and delay (whole seconds, rounded up as a single send rounds them).
 */
async function sendDue(
  deps: JobDeps,
  plans: ReadonlyArray<JobPlan | RepeatPlan>,
  now: number,
): Promise<void> {
  const groups = new Map<string, { lane: LaneName; delay: number; records: JobRecord[] }>();
  for (const plan of plans) {
    if (plan.kind !== "job" || !withinDelay(plan.record, now)) continue;
    const lane = laneFor(plan.record.priority);
    const delay = Math.max(0, Math.ceil((plan.record.after - now) / 1000));
    const key = `${lane}|${delay}`;
    const group = groups.get(key) ?? { lane, delay, records: [] };
    group.records.push(plan.record);
    groups.set(key, group);
  }
  for (const { lane, delay, records } of groups.values()) {
    records.sort((a, b) => a.priority - b.priority || a.after - b.after);
    try {
      await deps.lanes.sendMany(
        lane,
        records.map((record) => dueMessage(record, now)),
        delay,
      );
    } catch (error) {
      // Stored: the reconciler delivers a due job whose message never came.
      deps.logger.warn("migrate: sending jobs failed; the reconciler will deliver them when due", {
        lane,
        count: records.length,
        error: (error as Error).message,
      });
    }
  }
}

/** Ready, or waiting at most SQS's longest delay: its message goes with `sendDue`. */
function withinDelay(record: JobRecord, now: number): boolean {
  if (record.status === "ready") return true;
  return record.status === "waiting" && record.after - now <= 900_000;
}

/** A waiting job (a later time, a retry after a dead run): an SQS delay or a one-time schedule. */
async function enqueueLater(deps: JobDeps, record: JobRecord): Promise<void> {
  if (record.status !== "waiting") return;
  try {
    await enqueue(deps, record);
  } catch (error) {
    deps.logger.warn("migrate: enqueue failed; the reconciler will deliver it when due", {
      jobId: record._id,
      error: (error as Error).message,
    });
  }
}

/**
 * Arms a template as `scheduleJob` arms one: its recurring cron()/rate() schedule, or a
 * chain's next link; a firing that was due already fires once now (as after downtime). A
 * retried occurrence waits for its time as any job does. If arming fails, the template is
 * removed again, so nothing half-made stays and a later run imports it anew.
 */
async function armTemplate(
  deps: JobDeps,
  plan: RepeatPlan,
): Promise<{ field: string; message: string } | undefined> {
  const { template, form } = plan;
  try {
    if (form.kind !== "chain") {
      const start =
        form.kind === "rate"
          ? (firstFireAfter(
              laterSchedule(template.repeat?.schedule ?? ""),
              new Date(deps.clock.now()),
            ) ?? undefined)
          : undefined;
      await armRecurring(deps, template, form.expression, start);
    } else if (!plan.due) await armNext(deps, template, new Date(template.after));
    if (plan.due) await fireMissed(deps, template);
  } catch (error) {
    await deps.store.removeJob(template._id, ["waiting", "paused"]);
    return {
      field: "repeatWait",
      message: `arming its schedule failed: ${(error as Error).message}`,
    };
  }
  if (plan.occurrence) await enqueueLater(deps, plan.occurrence);
  return undefined;
}

/** The id of an open template of the plan's type and data already here, other than the plan's own. */
async function duplicateOf(
  deps: JobDeps,
  plan: RepeatPlan,
  templates: TemplatesByType,
): Promise<string | undefined> {
  let known = templates.get(plan.type);
  if (!known) {
    known = openTemplates(deps, plan.type);
    templates.set(plan.type, known);
  }
  const data = canonical(plan.template.data);
  const list = await known;
  const match = list.find((record) => record._id !== plan.id && canonical(record.data) === data);
  if (match) return match._id;
  list.push(plan.template);
  return undefined;
}

async function openTemplates(deps: JobDeps, type: string): Promise<JobRecord[]> {
  const open = await deps.store.openJobsOfType(type);
  const records: JobRecord[] = [];
  for (let i = 0; i < open.length; i += READ_BATCH)
    records.push(...(await deps.store.getJobs(open.slice(i, i + READ_BATCH).map((e) => e._id))));
  return records.filter(
    (record) => record.repeat && (record.status === "waiting" || record.status === "paused"),
  );
}

async function existingIds(deps: JobDeps, ids: readonly string[]): Promise<Set<string>> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += READ_BATCH) batches.push(ids.slice(i, i + READ_BATCH));
  const read = await Promise.all(batches.map((batch) => deps.store.getJobs(batch)));
  return new Set(read.flat().map((record) => record._id));
}

/** JSON text with object keys sorted, so `{a, b}` and `{b, a}` compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}
