import { JobStateError, JobValidationError } from "../errors.ts";
import type { JobActions, RunContext, RunningJob } from "./deps.ts";
import { MAX_LOG_ENTRIES, storedLog } from "./records.ts";
import type { JobDoc, JobLogEntry, JsonObject } from "./types.ts";

const NEVER_ABORTED = new AbortController().signal;

/**
 * A job, as Reaction's `Job`: `_doc` holds the document with Reaction's field names;
 * `done`/`fail` settle the run the worker was handed, and resolve `false` when the job is no
 * longer running under that run (cancelled, timed out, taken over).
 *
 * @example
 * await addWorker({ type: "sendEmail", async worker(job) {
 *   await send(job.data, { signal: job.signal });
 *   await job.done("sent");
 * } });
 */
export class Job implements RunningJob {
  /** @internal */
  constructor(
    private readonly actions: JobActions,
    public _doc: JobDoc,
    /** @internal present on the job a worker is handed */
    readonly run?: RunContext,
  ) {}

  get _id(): string {
    return this._doc._id;
  }

  get doc(): JobDoc {
    return this._doc;
  }

  get type(): string {
    return this._doc.type;
  }

  get data(): JsonObject {
    return this._doc.data;
  }

  /**
   * Aborts when this run is cancelled (`cancelJobs`, `job.cancel()`), taken over, or past its
   * `workTimeout`; pass it to the worker's I/O. Never aborts on a job that is not in a run.
   */
  get signal(): AbortSignal {
    return this.run?.controller.signal ?? NEVER_ABORTED;
  }

  /**
   * Marks the run completed with `result` (a non-object is stored as `{ value }`).
   * Resolves `true`, or `false` when this run no longer holds the job.
   */
  async done(
    result?: unknown,
    _options?: { repeatId?: boolean; delayDeps?: number },
  ): Promise<boolean> {
    return this.actions.complete(this, this.requireRun("done"), result);
  }

  /**
   * Fails the run. Retries per the job's retry rules unless `fatal`. Resolves `true`, or
   * `false` when this run no longer holds the job.
   */
  async fail(error?: unknown, options?: { fatal?: boolean }): Promise<boolean> {
    return this.actions.fail(this, this.requireRun("fail"), error, options?.fatal === true);
  }

  /** Adds a log entry to the run and extends its lease (a heartbeat). */
  async log(
    message: string,
    options?: { level?: JobLogEntry["level"]; data?: JsonObject; echo?: boolean },
  ): Promise<boolean> {
    if (typeof message !== "string") throw new JobValidationError("message", "must be a string");
    if (!this.run) return false;
    const entry: JobLogEntry = {
      time: new Date(),
      runId: this.run.runId,
      level: options?.level ?? "info",
      message,
    };
    if (options?.data !== undefined) entry.data = options.data;
    this.run.log.push(entry);
    this.run.log.splice(0, Math.max(0, this.run.log.length - MAX_LOG_ENTRIES));
    return this.actions.heartbeat(this, this.run, { log: storedLog(this.run.log) });
  }

  /** Records progress and extends the run's lease (a heartbeat). */
  async progress(completed = 0, total = 1): Promise<boolean> {
    if (
      !Number.isFinite(completed) ||
      !Number.isFinite(total) ||
      completed < 0 ||
      total <= 0 ||
      completed > total
    ) {
      throw new JobValidationError(
        "progress",
        `needs 0 <= completed <= total and total > 0, got ${completed}/${total}`,
      );
    }
    if (!this.run) return false;
    const progress = { completed, total, percent: (100 * completed) / total };
    const ok = await this.actions.heartbeat(this, this.run, { progress });
    if (ok) this._doc.progress = progress;
    return ok;
  }

  /** Cancels the job if it is running, ready, waiting or paused. */
  async cancel(): Promise<boolean> {
    return this.actions.control(this, "cancel");
  }

  /** Puts a failed or cancelled job back to waiting with `retries` more attempts. */
  async restart(options?: { retries?: number; until?: Date }): Promise<boolean> {
    return this.actions.restart(this, options?.retries ?? 1);
  }

  /** Makes a waiting job ready (and due now when `force`). */
  async ready(options?: { force?: boolean }): Promise<boolean> {
    return this.actions.control(this, options?.force ? "forceReady" : "ready");
  }

  /** Runs a completed job again as a new job; resolves the new job's id. */
  async rerun(): Promise<string | false> {
    return this.actions.rerun(this);
  }

  /** Pauses a ready or waiting job. */
  async pause(): Promise<boolean> {
    return this.actions.control(this, "pause");
  }

  /** Resumes a paused job. */
  async resume(): Promise<boolean> {
    return this.actions.control(this, "resume");
  }

  /** Deletes a cancelled, completed or failed job. */
  async remove(): Promise<boolean> {
    return this.actions.remove(this);
  }

  private requireRun(method: string): RunContext {
    if (!this.run) {
      throw new JobStateError(
        `job.${method}() is for the job a worker was handed; job ${this._id} is not in a run here`,
      );
    }
    return this.run;
  }
}
