import { JobValidationError } from "../errors.ts";
import { randomId } from "../ids.ts";
import type { JobLogger } from "../log.ts";
import { type JobMetrics, noMetrics } from "../observability.ts";
import { LANES } from "../resources.ts";
import {
  firstFireAfter,
  laterFireTimes,
  laterSchedule,
  parseScheduleText,
} from "../schedule/later-text.ts";
import { toScheduleForm } from "../schedule/translate.ts";
import { Job, type RunContext } from "./job.ts";
import { matchesFilter } from "./match.ts";
import type { JobChanges, JobMessage, JobStore, LaneQueue, ScheduleArmer } from "./ports.ts";
import { laneFor } from "./priority.ts";
import { afterFailure } from "./retry.ts";
import {
  CANCELLABLE,
  type JobRecord,
  type JsonObject,
  PAUSABLE,
  REMOVABLE,
  RESTARTABLE,
  TERMINAL,
  toDoc,
} from "./types.ts";
import {
  type AddWorkerOptions,
  type CancelFilter,
  type ScheduleJobOptions,
  validateCancelFilter,
  validateScheduleOptions,
  validateWorkerOptions,
} from "./validate.ts";
import { type WorkerFunction, WorkerRegistry, type WorkerSlots } from "./workers.ts";

const MAX_FAILURES_KEPT = 50;
const MAX_FAILURE_MESSAGE = 4096;
const PARALLEL_READS = 16;

export interface JobSystemOptions {
  store: JobStore;
  lanes: LaneQueue;
  /** EventBridge Scheduler: repeating jobs and waits past 900 s. Without it, long waits hop. */
  schedules?: ScheduleArmer;
  logger: JobLogger;
  metrics?: JobMetrics;
  /** First delay before a failed message is redelivered, doubling per receive. Default 10 s. */
  redeliveryDelaySeconds?: number;
  /** purgeAfterDays by job type, from the plugins' `backgroundJobs.cleanup`. */
  cleanup: ReadonlyMap<string, number>;
  now?: () => number;
}

/** The handle `addWorker` resolves: Reaction's JobQueue controls that matter here. */
export interface WorkerHandle {
  readonly type: string;
  /** This process starts no more jobs of the type; they stay `ready`. */
  pause(): void;
  /** Starts jobs of the type again, re-enqueueing its ready jobs so they start promptly. */
  resume(): Promise<void>;
  /** Stops starting jobs of the type and resolves when the running ones have finished. */
  shutdown(): Promise<void>;
}

/** `context.backgroundJobs`. */
export interface BackgroundJobs {
  addWorker(options: AddWorkerOptions<WorkerFunction>): Promise<WorkerHandle>;
  scheduleJob(options: ScheduleJobOptions): Promise<Job>;
  cancelJobs(filter: Record<string, unknown>): Promise<void>;
  getJob(id: string): Promise<Job | null>;
}

type Control = "cancel" | "pause" | "resume" | "ready" | "forceReady";

/**
 * The job lifecycle, written once against a job store and a lane queue: scheduling, claiming,
 * settling, retrying, cancelling. Knows no AWS service.
 */
export class JobSystem implements BackgroundJobs {
  readonly workers = new WorkerRegistry();
  readonly store: JobStore;
  readonly lanes: LaneQueue;
  readonly schedules?: ScheduleArmer;
  readonly logger: JobLogger;
  readonly metrics: JobMetrics;
  readonly redeliveryDelaySeconds: number;
  private readonly cleanup: ReadonlyMap<string, number>;
  readonly now: () => number;
  /** Runs in progress in this process, settled by `done`/`fail` from any `Job` of the run. */
  private readonly runs = new Map<string, RunContext>();

  constructor(options: JobSystemOptions) {
    this.store = options.store;
    this.lanes = options.lanes;
    if (options.schedules) this.schedules = options.schedules;
    this.logger = options.logger;
    this.metrics = options.metrics ?? noMetrics;
    this.redeliveryDelaySeconds = options.redeliveryDelaySeconds ?? 10;
    this.cleanup = options.cleanup;
    this.now = options.now ?? Date.now;
  }

  // ---- context.backgroundJobs -------------------------------------------------------------

  async addWorker(options: AddWorkerOptions<WorkerFunction>): Promise<WorkerHandle> {
    const valid = validateWorkerOptions<WorkerFunction>(options);
    if (this.workers.has(valid.type)) {
      throw new JobValidationError("type", `"${valid.type}" already has a worker in this app`);
    }
    const slots = this.workers.add(valid.type, valid.worker, valid.workTimeout, valid.concurrency);
    return {
      type: valid.type,
      pause: () => {
        slots.paused = true;
        this.workers.notify();
      },
      resume: async () => {
        slots.paused = false;
        this.workers.notify();
        await this.requeueType(valid.type);
      },
      shutdown: async () => {
        slots.paused = true;
        this.workers.notify();
        await slots.idle();
      },
    };
  }

  async scheduleJob(options: ScheduleJobOptions): Promise<Job> {
    const request = validateScheduleOptions(options);
    let now = this.now();
    let parsed: ReturnType<typeof parseScheduleText> | undefined;
    if (request.schedule !== undefined) {
      parsed = parseScheduleText(request.schedule, new Date(now));
      if (!this.schedules) {
        throw new JobValidationError(
          "schedule",
          "repeating jobs need EventBridge Scheduler, which this app has no settings for",
        );
      }
      // Reaction: only a job with a schedule cancels the type's other jobs, before it is saved.
      if (request.cancelRepeats) {
        await this.cancelJobs({ type: request.type });
        // Created after the cancel request, so that request (swept again later) spares it.
        now = this.now() + 1;
      }
    }
    const record: JobRecord = {
      _id: randomId(),
      type: request.type,
      data: request.data,
      status: "ready",
      priority: request.priority,
      retries: request.retry.retries,
      retried: 0,
      retryWait: request.retry.retryWait,
      retryBackoff: request.retry.retryBackoff,
      retryUntil: request.retry.retryUntil,
      repeatRetries: request.retry.retries,
      after: now,
      created: now,
      updated: now,
      progress: { completed: 0, total: 1, percent: 0 },
      failures: [],
      runId: null,
      repeated: 0,
      log: [],
    };
    if (parsed) return this.scheduleRepeating(record, parsed, now);
    await this.store.insertJob(record);
    this.logger.info("scheduled", {
      jobId: record._id,
      type: record.type,
      lane: laneFor(record.priority),
    });
    this.metrics.count("JobsScheduled", record.type);
    await this.enqueueSafely(record);
    return new Job(this, toDoc(record));
  }

  // ---- repeating jobs -----------------------------------------------------------------------

  /**
   * Saves a repeating job's template (it never runs itself) and arms its schedule: one
   * recurring cron()/rate() schedule, or the first link of a chain.
   */
  private async scheduleRepeating(
    record: JobRecord,
    parsed: ReturnType<typeof parseScheduleText>,
    now: number,
  ): Promise<Job> {
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
    if (parsed.warning) {
      this.logger.warn("schedule", {
        type: record.type,
        warning: parsed.warning,
        next: laterFireTimes(parsed.schedule, new Date(now), 3).map((date) => date.toISOString()),
      });
    }
    await this.store.insertJob(template);
    try {
      if (form.kind === "chain") await this.armNext(template, first);
      else {
        await this.schedules?.armRecurring(
          recurringName(template._id),
          form.expression,
          form.kind === "rate" ? first : undefined,
          laneFor(template.priority),
          { ...messageFor(template), firedAt: "<aws.scheduler.scheduled-time>" },
        );
      }
    } catch (error) {
      await this.cancelRecord(template, this.now());
      throw error;
    }
    this.metrics.count("JobsScheduled", template.type);
    this.logger.info("scheduled", {
      jobId: template._id,
      type: template.type,
      schedule: parsed.text,
      armedAs: form.kind === "chain" ? `chain (${form.reason})` : form.expression,
      first: first.toISOString(),
    });
    return new Job(this, toDoc(template));
  }

  /** Arms a chained template's next firing: an SQS delay within 900 s, else a one-time at(). */
  async armNext(template: JobRecord, at: Date): Promise<void> {
    const message: JobMessage = { ...messageFor(template), firedAt: at.toISOString() };
    const delayMs = at.getTime() - this.now();
    if (delayMs <= 900_000 || !this.schedules) {
      // Rounded down: the firing waits out the rest, so it is never late by a rounding.
      await this.lanes.enqueue(laneFor(template.priority), message, Math.floor(delayMs / 1000));
    } else {
      await this.schedules.armOnce(
        onceName(template._id, at.getTime()),
        at,
        laneFor(template.priority),
        message,
      );
    }
  }

  /**
   * A repeating job fired for `message.firedAt`: records the firing on the template and
   * creates the occurrence to run, or `null` when there is nothing to run (a duplicate firing,
   * a cancelled or paused template, the previous occurrence still unfinished).
   */
  async fire(message: JobMessage): Promise<JobRecord | null> {
    const template = await this.store.getJob(message.id);
    if (!template?.repeat) return null;
    if (TERMINAL.includes(template.status)) {
      await this.removeSchedules(template);
      return null;
    }
    let now = this.now();
    const firedAt = Date.parse(message.firedAt ?? "");
    if (Number.isNaN(firedAt)) {
      this.logger.error("firing without a valid time", {
        jobId: template._id,
        firedAt: message.firedAt,
      });
      return null;
    }
    if (firedAt > now + 1000) {
      // Early (clock skew): wait for the instant itself.
      await this.lanes.enqueue(laneFor(template.priority), message, (firedAt - now) / 1000);
      return null;
    }
    // SQS delays are whole seconds and chains round them down: wait out the last fraction.
    if (firedAt > now) {
      await new Promise((resolve) => setTimeout(resolve, firedAt - now));
      now = this.now();
    }
    const next = firstFireAfter(laterSchedule(template.repeat.schedule), new Date(firedAt));
    // The chain goes on whatever becomes of this occurrence.
    if (template.repeat.form === "chain" && next) await this.armNext(template, next);
    const skipped =
      template.status === "paused"
        ? "the job is paused"
        : await this.unfinishedOccurrence(template);
    const occurrenceId = occurrenceIdFor(template._id, firedAt);
    const changes: JobChanges = {
      status: next ? template.status : "completed",
      lastFiredAt: firedAt,
      after: next?.getTime() ?? template.after,
      updated: now,
      ...(skipped ? {} : { lastOccurrenceId: occurrenceId, repeated: template.repeated + 1 }),
    };
    if (!(await this.store.recordFiring(template._id, firedAt, changes))) return null; // fired already
    if (skipped) {
      this.metrics.count("RepeatsSkipped", template.type);
      this.logger.warn("repeat skipped", {
        jobId: template._id,
        type: template.type,
        firedAt: new Date(firedAt).toISOString(),
        reason: skipped,
      });
      return null;
    }
    const occurrence: JobRecord = {
      ...freshRun(template, occurrenceId, now),
      repeated: template.repeated + 1,
      templateId: template._id,
    };
    try {
      await this.store.insertJob(occurrence);
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return null;
      throw error;
    }
    return occurrence;
  }

  private async unfinishedOccurrence(template: JobRecord): Promise<string | null> {
    if (!template.lastOccurrenceId) return null;
    const previous = await this.store.getJob(template.lastOccurrenceId);
    if (!previous || TERMINAL.includes(previous.status)) return null;
    return `the previous occurrence ${previous._id} is still ${previous.status}`;
  }

  /** Deletes a template's schedules: its recurring one, or its chain's pending at(). */
  async removeSchedules(template: JobRecord): Promise<void> {
    if (!template.repeat || !this.schedules) return;
    if (template.repeat.form === "chain") {
      await this.schedules.remove(onceName(template._id, template.after));
    } else {
      await this.schedules.remove(recurringName(template._id));
    }
  }

  /** A template whose firing never came (lost message, missed schedule): fire it now. */
  async fireMissed(template: JobRecord): Promise<void> {
    await this.lanes.enqueue(
      laneFor(template.priority),
      { ...messageFor(template), firedAt: new Date(template.after).toISOString() },
      0,
    );
  }

  async cancelJobs(filter: Record<string, unknown>): Promise<void> {
    const valid = validateCancelFilter(filter);
    const at = this.now();
    let candidates: string[];
    if (valid._id !== undefined) {
      candidates = [valid._id];
    } else {
      const type = valid.type as string;
      // The tombstone first: a job the index does not show yet is stopped at claim time.
      await this.store.recordCancel(type, { filter: JSON.stringify(valid), at });
      candidates = (await this.store.openJobsOfType(type)).map((job) => job._id);
    }
    await this.cancelMatching(candidates, valid, at);
  }

  async getJob(id: string): Promise<Job | null> {
    if (typeof id !== "string" || id === "")
      throw new JobValidationError("id", "must be a job id string");
    const record = await this.store.getJob(id);
    return record ? new Job(this, toDoc(record)) : null;
  }

  // ---- runs ---------------------------------------------------------------------------------

  /** Starts a run: the record was claimed for `runId`; the returned `Job` goes to the worker. */
  beginRun(record: JobRecord): Job {
    const runId = record.runId as string;
    let markSettled = () => {};
    const whenSettled = new Promise<void>((resolve) => {
      markSettled = resolve;
    });
    const run: RunContext = {
      runId,
      workTimeout: record.workTimeout ?? 0,
      leaseUntil: record.leaseUntil ?? this.now(),
      startedAt: this.now(),
      log: [],
      settled: false,
      whenSettled,
      markSettled: () => {
        run.settled = true;
        this.runs.delete(runId);
        markSettled();
      },
    };
    this.runs.set(runId, run);
    return new Job(this, toDoc(record), run);
  }

  async completeRun(job: Job, run: RunContext, result: unknown): Promise<boolean> {
    const now = this.now();
    const changes: JobChanges = {
      status: "completed",
      result: wrapValue(result === undefined ? {} : result),
      progress: {
        completed: job._doc.progress.total,
        total: job._doc.progress.total,
        percent: 100,
      },
      updated: now,
      ...this.expiry(job.type, now),
    };
    const record = await this.store.settleRun(job._id, run.runId, changes);
    if (!record) return this.fenced(job, run, "done");
    job._doc = toDoc(record);
    this.runs.get(run.runId)?.markSettled();
    this.logger.info("completed", { ...jobFields(record, run.runId), ms: now - run.startedAt });
    this.metrics.count("JobsCompleted", record.type);
    this.metrics.time("JobDuration", record.type, now - run.startedAt);
    return true;
  }

  async failRun(job: Job, run: RunContext, error: unknown, fatal: boolean): Promise<boolean> {
    const now = this.now();
    const failure: JsonObject = { ...failureValue(error), runId: run.runId };
    const next = afterFailure(
      { ...job._doc, retryUntil: job._doc.retryUntil.getTime() },
      now,
      fatal,
    );
    const changes: JobChanges = {
      status: next.status,
      after: next.after,
      runId: null,
      updated: now,
      failures: [...job._doc.failures, failure].slice(-MAX_FAILURES_KEPT),
      ...(next.status === "failed" ? this.expiry(job.type, now) : {}),
    };
    const record = await this.store.settleRun(job._id, run.runId, changes);
    if (!record) return this.fenced(job, run, "fail");
    job._doc = toDoc(record);
    this.runs.get(run.runId)?.markSettled();
    this.afterFailed(record, run.runId, failure.value ?? failure, fatal);
    await this.enqueueSafely(record);
    return true;
  }

  async heartbeat(job: Job, run: RunContext, changes: Partial<JobRecord>): Promise<boolean> {
    const now = this.now();
    const leaseUntil = now + run.workTimeout;
    const ok = await this.store.heartbeat(job._id, run.runId, leaseUntil, {
      ...changes,
      updated: now,
    });
    if (ok) run.leaseUntil = leaseUntil;
    return ok;
  }

  /** A run whose process died (lease past): counts as a failed attempt, then retries or fails. */
  async expireRun(record: JobRecord): Promise<boolean> {
    const now = this.now();
    const runId = record.runId as string;
    const failure = { value: "Failed for exceeding worker set workTimeout", runId };
    const next = afterFailure(record, now, false);
    const changes: JobChanges = {
      status: next.status,
      after: next.after,
      runId: null,
      updated: now,
      failures: [...(record.failures ?? []), failure].slice(-MAX_FAILURES_KEPT),
      ...(next.status === "failed" ? this.expiry(record.type, now) : {}),
    };
    const updated = await this.store.expireRun(record._id, runId, now, changes);
    if (!updated) return false;
    this.afterFailed(updated, runId, failure.value, false);
    await this.enqueueSafely(updated);
    return true;
  }

  private afterFailed(record: JobRecord, runId: string, error: unknown, fatal: boolean): void {
    const fields = { ...jobFields(record, runId), error: String(error).slice(0, 500) };
    if (record.status === "waiting") {
      this.logger.info("retry", { ...fields, inMs: record.after - this.now() });
      this.metrics.count("JobsRetried", record.type);
    } else {
      this.logger.warn("failed", { ...fields, fatal });
      this.metrics.count("JobsFailed", record.type);
    }
  }

  private fenced(job: Job, run: RunContext, method: string): false {
    this.logger.warn("stale", {
      jobId: job._id,
      type: job.type,
      runId: run.runId,
      note: `${method}() ignored: the job is no longer running under this run`,
    });
    return false;
  }

  /** TTL for a job ending now, when its type has a cleanup rule. */
  expiry(type: string, now: number): { expiresAt?: number } {
    const days = this.cleanup.get(type);
    return days === undefined ? {} : { expiresAt: Math.floor(now / 1000) + days * 86_400 };
  }

  // ---- control methods on Job ---------------------------------------------------------------

  async control(job: Job, action: Control): Promise<boolean> {
    const now = this.now();
    const current = await this.store.getJob(job._id);
    if (!current) return false;
    let record: JobRecord | null = null;
    switch (action) {
      case "cancel":
        return this.cancelRecord(current, now).then((cancelled) => {
          if (cancelled) job._doc = toDoc(cancelled);
          return cancelled !== null;
        });
      case "pause":
        record = await this.store.transition(job._id, PAUSABLE, { status: "paused", updated: now });
        break;
      case "resume": {
        // A template keeps its next fire time: it is on later's grid, and its firings go on.
        const after = current.repeat ? current.after : Math.max(current.after, now);
        const status = after > now || current.repeat ? "waiting" : "ready";
        record = await this.store.transition(job._id, ["paused"], { status, after, updated: now });
        break;
      }
      case "ready":
      case "forceReady": {
        if (current.repeat || (action === "ready" && current.after > now)) return false;
        record = await this.store.transition(job._id, ["waiting"], {
          status: "ready",
          after: now,
          updated: now,
        });
        break;
      }
    }
    if (!record) return false;
    job._doc = toDoc(record);
    this.logger.info(record.status, { jobId: record._id, type: record.type });
    if (record.status === "ready" || record.status === "waiting") await this.enqueueSafely(record);
    return true;
  }

  async restart(job: Job, retries: number): Promise<boolean> {
    if (!Number.isSafeInteger(retries) || retries < 0) {
      throw new JobValidationError("retries", `must be a non-negative integer, got ${retries}`);
    }
    const current = await this.store.getJob(job._id);
    if (!current || current.repeat || !RESTARTABLE.includes(current.status)) return false;
    const now = this.now();
    const record = await this.store.transition(job._id, RESTARTABLE, {
      status: "waiting",
      retries: current.retries + retries,
      after: now,
      updated: now,
      runId: null,
      progress: { completed: 0, total: 1, percent: 0 },
    });
    if (!record) return false;
    job._doc = toDoc(record);
    this.logger.info("restarted", { jobId: record._id, type: record.type });
    await this.enqueueSafely(record);
    return true;
  }

  async rerun(job: Job): Promise<string | false> {
    const current = await this.store.getJob(job._id);
    if (current?.status !== "completed") return false;
    const now = this.now();
    const record = freshRun(current, randomId(), now);
    await this.store.insertJob(record);
    this.logger.info("scheduled", { jobId: record._id, type: record.type, rerunOf: current._id });
    await this.enqueueSafely(record);
    return record._id;
  }

  async remove(job: Job): Promise<boolean> {
    return this.store.removeJob(job._id, REMOVABLE);
  }

  // ---- cancel -------------------------------------------------------------------------------

  /** Cancels, among `ids`, the jobs that match `filter` and were created by `at`. */
  async cancelMatching(ids: string[], filter: CancelFilter, at: number): Promise<number> {
    let cancelled = 0;
    await forEachLimited(ids, PARALLEL_READS, async (id) => {
      const record = await this.store.getJob(id);
      if (!record || record.created > at || !CANCELLABLE.includes(record.status)) return;
      if (!matchesFilter(record, filter)) return;
      if (await this.cancelRecord(record, this.now())) cancelled += 1;
    });
    return cancelled;
  }

  async cancelRecord(record: JobRecord, now: number): Promise<JobRecord | null> {
    const cancelled = await this.store.transition(record._id, CANCELLABLE, {
      status: "cancelled",
      runId: null,
      progress: { completed: 0, total: 1, percent: 0 },
      updated: now,
      ...this.expiry(record.type, now),
    });
    if (cancelled) {
      this.logger.info("cancelled", { jobId: record._id, type: record.type, was: record.status });
      this.metrics.count("JobsCancelled", record.type);
      await this.removeSchedules(cancelled).catch((error: unknown) => {
        // The template is cancelled: a firing that still comes finds it so and does nothing.
        this.logger.warn("could not delete a cancelled job's schedule", {
          jobId: record._id,
          error: (error as Error).message,
        });
      });
    }
    return cancelled;
  }

  /**
   * Was this just-claimed job named by a `cancelJobs` call the index could not show it to?
   * Reads the type's tombstone (strongly consistent); cancels the job if so.
   */
  async cancelledByTombstone(record: JobRecord): Promise<boolean> {
    const requests = await this.store.cancelsFor(record.type);
    const hit = requests.some(
      (request) =>
        request.at >= record.created &&
        matchesFilter(record, JSON.parse(request.filter) as CancelFilter),
    );
    if (!hit) return false;
    return (await this.cancelRecord(record, this.now())) !== null;
  }

  // ---- queueing -----------------------------------------------------------------------------

  /**
   * Puts a waiting or ready job's message on its lane when it is due: an SQS delay up to
   * 900 s; further out, a one-time schedule (or, with no scheduler, 900 s hops).
   */
  async enqueue(record: JobRecord): Promise<void> {
    const delaySeconds = Math.max(0, (record.after - this.now()) / 1000);
    if (delaySeconds > 900 && this.schedules) {
      await this.schedules.armOnce(
        onceName(record._id, record.after),
        new Date(record.after),
        laneFor(record.priority),
        messageFor(record),
      );
      return;
    }
    await this.lanes.enqueue(laneFor(record.priority), messageFor(record), delaySeconds);
  }

  /** Like `enqueue`, but a failed send only logs: the record is stored, the reconciler delivers it. */
  async enqueueSafely(record: JobRecord): Promise<void> {
    if ((record.status !== "ready" && record.status !== "waiting") || record.repeat) return;
    try {
      await this.enqueue(record);
    } catch (error) {
      this.logger.warn("enqueue failed; the reconciler will deliver it", {
        jobId: record._id,
        type: record.type,
        error: (error as Error).message,
      });
    }
  }

  /**
   * Re-enqueues a type's ready and waiting jobs (after `resume()`), lane by lane from the
   * highest, so a poller never sees a lower lane's job before a higher lane's.
   */
  async requeueType(type: string): Promise<void> {
    const open = await this.store.openJobsOfType(type);
    const records: JobRecord[] = [];
    await forEachLimited(open, PARALLEL_READS, async ({ _id }) => {
      const record = await this.store.getJob(_id);
      if (record && (record.status === "ready" || record.status === "waiting"))
        records.push(record);
    });
    const now = this.now();
    for (const lane of LANES) {
      const inLane = records.filter((record) => laneFor(record.priority) === lane);
      inLane.sort((a, b) => a.priority - b.priority || a.after - b.after);
      const due = inLane.filter((record) => record.after <= now);
      await this.lanes.enqueueMany(lane, due.map(messageFor), 0);
      for (const record of inLane.filter((r) => r.after > now)) await this.enqueueSafely(record);
    }
  }

  workerFor(type: string): WorkerSlots | undefined {
    return this.workers.get(type);
  }
}

/** A copy of a job to run now as a new job: its own id, a full retry budget, no history. */
function freshRun(source: JobRecord, id: string, now: number): JobRecord {
  const copy: JobRecord = {
    ...source,
    _id: id,
    status: "ready",
    retries: source.repeatRetries,
    retried: 0,
    after: now,
    created: now,
    updated: now,
    progress: { completed: 0, total: 1, percent: 0 },
    failures: [],
    runId: null,
    log: [],
  };
  for (const key of [
    "result",
    "expiresAt",
    "leaseUntil",
    "workTimeout",
    "repeat",
    "lastFiredAt",
    "lastOccurrenceId",
    "templateId",
  ] as const) {
    delete copy[key];
  }
  return copy;
}

function messageFor(record: JobRecord): JobMessage {
  return { id: record._id, type: record.type };
}

/** A template's recurring schedule. */
function recurringName(templateId: string): string {
  return `job-${templateId}`;
}

/** A one-time schedule for a job at an instant (`[0-9a-zA-Z-_.]`, at most 64 characters). */
function onceName(jobId: string, at: number): string {
  return `at-${jobId}-${Math.floor(at / 1000)}`;
}

/** An occurrence's id: its template's and the instant it fired for, so a duplicate firing is a no-op. */
export function occurrenceIdFor(templateId: string, firedAt: number): string {
  return `${templateId}-${new Date(firedAt).toISOString().replace(/[-:]|\.\d{3}/g, "")}`;
}

/** Reaction stores a non-object result or failure as `{ value }`. */
function wrapValue(value: unknown): JsonObject {
  if (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Error)
  ) {
    return JSON.parse(JSON.stringify(value)) as JsonObject;
  }
  return { value: JSON.parse(JSON.stringify(value ?? null)) };
}

function failureValue(error: unknown): JsonObject {
  if (error === undefined) return { value: "No error information provided" };
  if (error instanceof Error) return { value: error.message.slice(0, MAX_FAILURE_MESSAGE) };
  if (typeof error === "string") return { value: error.slice(0, MAX_FAILURE_MESSAGE) };
  try {
    return wrapValue(error);
  } catch {
    return { value: String(error).slice(0, MAX_FAILURE_MESSAGE) };
  }
}

/** The fields every log line about a job carries (never its data). */
export function jobFields(
  record: Pick<JobRecord, "_id" | "type" | "runId" | "retried" | "retries">,
  runId?: string | null,
) {
  const attempts = record.retried + record.retries;
  return {
    jobId: record._id,
    type: record.type,
    runId: runId ?? record.runId,
    attempt: record.retried,
    of: attempts >= Number.MAX_SAFE_INTEGER - 1 ? "forever" : attempts,
  };
}

async function forEachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}
