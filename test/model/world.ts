import { type BackgroundJobs, createJobSystem, type JobSystem } from "../../lib/jobs/api.ts";
import { dispatch } from "../../lib/jobs/deliver.ts";
import type { Delivery } from "../../lib/jobs/deps.ts";
import type { Job } from "../../lib/jobs/job.ts";
import { matchesFilter } from "../../lib/jobs/match.ts";
import { laneFor } from "../../lib/jobs/priority.ts";
import { reconcile } from "../../lib/jobs/reconcile.ts";
import { type JobRecord, TERMINAL } from "../../lib/jobs/types.ts";
import { type CancelFilter, validateCancelFilter } from "../../lib/jobs/validate.ts";
import { FairShare, pickDeliverable } from "../../lib/local/pick.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { MemoryScheduler } from "../../lib/memory/scheduler.ts";
import { LANES, type LaneName } from "../../lib/resources.ts";
import { FakeClock } from "../support/memory/clock.ts";

/** What a worker does on one attempt (planned per job in `data.plan`, then "done"). */
export type Behavior =
  | "done"
  | "fail"
  | "fatal"
  | "throw"
  | "hang"
  | "doneAfterReturn"
  | "slow"
  | "cancelThenDone"
  | "doneTwice"
  | "returnUnsettled";

export const TYPES = { A: 1, B: 2 } as const; // type -> concurrency
export type JobType = keyof typeof TYPES;
const VISIBILITY_MS = 600_000;
export const WORK_TIMEOUT_MS = 30_000;

/** One process (a Lambda instance, a laptop): its job system, its buffer, whether it lives. */
interface Process {
  system: JobSystem;
  stopping: AbortController;
  alive: boolean;
  buffer: Record<LaneName, Delivery[]>;
  fairness: FairShare;
}

/**
 * The system on in-memory ports and a fake clock, plus the observations the invariants are
 * checked against. Every violation is recorded as a sentence; a test asserts there are none.
 */
export class World {
  readonly clock = new FakeClock(Date.UTC(2026, 0, 5, 10, 0, 0));
  readonly store = new MemoryJobStore(this.clock);
  readonly lanes = new MemoryLanes(this.clock);
  readonly scheduler = new MemoryScheduler(this.clock, this.lanes);
  readonly violations: string[] = [];
  /** Warning lines the system logged (message and job id). */
  readonly warnings: Array<{ message: string; jobId?: string }> = [];
  /** Called with each job a worker is handed, before it works (tests watch the job). */
  onStart?: (job: Job) => void;
  /** Worker starts, in order: job id, type, lane, when. */
  readonly starts: Array<{ id: string; type: string; at: number }> = [];
  /** Job ids handed out by scheduleJob (one-off jobs), and templates. */
  readonly jobs: string[] = [];
  readonly templates: string[] = [];
  private process!: Process;
  private readonly runStarts = new Map<string, number>();
  private readonly startsByJob = new Map<string, number>();
  private readonly resolvedCancels: Array<{ filter: CancelFilter; at: number }> = [];
  /** Every cancel asked for (cancelJobs, job.cancel(), cancelRepeats), from when it was asked. */
  private readonly cancelIntents: Array<{ filter: CancelFilter; at: number }> = [];
  /**
   * When a repeating scheduleJob that failed was called and when it failed: its template,
   * created in between, is cancelled, not left half-made.
   */
  readonly abandoned: Array<{ from: number; to: number }> = [];
  /** When the model made each job live (scheduled, restarted): its own view, not the record's. */
  private readonly liveSince = new Map<string, number>();
  /** Per pump: buffered jobs of type A left behind in a lane, by lane rank. */
  private leftBehind: Array<{ id: string; rank: number }> = [];
  private readonly pumps = new Set<Promise<unknown>>();
  /** Another process with no workers (an API server): `cancelJobs(filter, true)` calls it. */
  private readonly canceller: JobSystem;

  constructor() {
    this.canceller = this.newSystem();
    this.scheduler.start();
    this.boot();
  }

  get api(): BackgroundJobs {
    return this.process.system.backgroundJobs;
  }

  get deps() {
    return this.process.system.deps;
  }

  /** Starts a process: a job system over the shared ports, workers registered. */
  boot(): void {
    const system = this.newSystem();
    const process: Process = {
      system,
      stopping: new AbortController(),
      alive: true,
      buffer: { critical: [], normal: [], low: [] },
      fairness: new FairShare(),
    };
    this.process = process;
    for (const [type, concurrency] of Object.entries(TYPES)) {
      void system.backgroundJobs.addWorker({
        type,
        concurrency,
        workTimeout: WORK_TIMEOUT_MS,
        worker: (job) => this.work(process, job),
      });
    }
  }

  /** A job system over the shared ports (a process, or the canceller). */
  private newSystem(): JobSystem {
    return createJobSystem({
      store: this.store,
      lanes: this.lanes,
      schedules: this.scheduler,
      logger: {
        info() {},
        warn: (message, fields) =>
          this.warnings.push({ message, ...(fields?.jobId ? { jobId: fields.jobId } : {}) }),
        error() {},
      },
      cleanup: new Map([["A", 1]]),
      clock: this.clock,
      settings: { runCheckIntervalMs: 5000, indexSettleMs: 10_000, staleAfterMs: 60_000 },
    });
  }

  /** The process dies: nothing it was doing writes anything more; its messages come back. */
  crash(): void {
    const process = this.process;
    process.alive = false;
    process.stopping.abort();
    for (const run of [...process.system.deps.runs.values()]) run.end("crash");
    this.boot();
  }

  /** The local poller's round: receive what is visible, hand over what may start. */
  async pump(): Promise<void> {
    const process = this.process;
    for (const lane of LANES)
      process.buffer[lane].push(...this.lanes.receive(lane, 100, VISIBILITY_MS));
    const picked = pickDeliverable(
      process.buffer,
      (delivery) => delivery.message?.type ?? null,
      (type) => process.system.workers.freeFor(type),
      (delivery) => delivery.message?.group ?? "",
      process.fairness,
    );
    this.leftBehind = LANES.flatMap((lane, rank) =>
      process.buffer[lane]
        .filter((delivery) => delivery.message?.type === "A" && !delivery.message.firedAt)
        .map((delivery) => ({ id: delivery.message?.id as string, rank })),
    );
    for (const lane of LANES) {
      if (picked[lane].length === 0) continue;
      const handled = dispatch(process.system.deps, picked[lane], process.stopping.signal).then(
        (outcomes) => {
          if (!process.alive) return;
          for (const outcome of outcomes) {
            if (outcome.outcome === "acknowledged") this.lanes.delete(lane, outcome.messageId);
            else this.lanes.changeVisibility(lane, outcome.messageId, outcome.delaySeconds * 1000);
          }
        },
      );
      this.pumps.add(handled);
      void handled.finally(() => this.pumps.delete(handled));
    }
    await this.clock.settle();
  }

  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    // Pump as time passes, so delayed messages are taken when they become visible.
    while (this.clock.now() < target) {
      const next = Math.min(target, this.clock.now() + Math.max(1000, Math.ceil(ms / 20)));
      await this.clock.advanceTo(next);
      await this.pump();
    }
  }

  async reconcile(): Promise<void> {
    await reconcile(this.deps);
    await this.clock.settle();
  }

  /**
   * `cancelJobs` from this process, or from `another` (an API server sharing the table, whose
   * cancel this process's cached cancel log does not know). It waits out the claims' cache
   * window; time passes and the lanes are pumped meanwhile, so claims race it.
   */
  async cancelJobs(filter: Record<string, unknown>, another = false): Promise<void> {
    const at = this.clock.now();
    this.intendCancel(filter);
    const api = another ? this.canceller.backgroundJobs : this.api;
    await this.meanwhile(api.cancelJobs(filter));
    this.resolvedCancels.push({ filter: validateCancelFilter(filter), at });
  }

  /**
   * Awaits a call that may wait on the clock (`cancelJobs` waits out the cancel-log cache
   * window): time passes in 250 ms steps and the lanes are pumped until it settles.
   */
  async meanwhile<T>(call: Promise<T>): Promise<T> {
    let settled = false;
    const watched = call.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    await Promise.race([watched, this.clock.settle()]);
    while (!settled) {
      await this.clock.advance(250);
      await this.pump();
    }
    return watched;
  }

  /** Notes a cancel the model asked for (so a cancelled job must have one that covers it). */
  intendCancel(filter: Record<string, unknown>): void {
    this.cancelIntents.push({ filter: validateCancelFilter(filter), at: this.clock.now() });
  }

  /** Notes that the model made a job live now (scheduled it, or restarted it). */
  madeLive(id: string): void {
    this.liveSince.set(id, this.clock.now());
  }

  record(id: string): JobRecord | undefined {
    return this.store.all().find((record) => record._id === id);
  }

  /** The worker every type runs: observes the start, then does what the job's plan says. */
  private async work(process: Process, job: Job): Promise<void> {
    this.observeStart(job);
    this.onStart?.(job);
    const plan = (job.data.plan as Behavior[] | undefined) ?? [];
    const behavior = plan[job._doc.retried - 1] ?? "done";
    const alive = () => process.alive;
    switch (behavior) {
      case "done":
        if (alive()) await job.done({ n: 1e21 });
        return;
      case "fail":
        if (alive()) await job.fail("planned failure");
        return;
      case "fatal":
        if (alive()) await job.fail("planned fatal failure", { fatal: true });
        return;
      case "throw":
        throw new Error("planned throw");
      case "hang":
        await new Promise((resolve) => job.signal.addEventListener("abort", resolve));
        return;
      case "doneAfterReturn":
        void this.clock
          .sleep(2000)
          .then(() => (alive() ? job.done() : false))
          .catch(() => {}); // an injected write failure: the run times out instead
        return;
      case "slow":
        await this.clock.sleep(20_000, job.signal);
        if (alive() && !job.signal.aborted) await job.done();
        return;
      case "cancelThenDone": {
        if (!alive()) return;
        const before = this.record(job._id);
        this.intendCancel({ _id: job._id });
        const cancelled = await job.cancel();
        const done = await job.done();
        if (cancelled && done) this.violate(`done() after cancel() resolved true for ${job._id}`);
        const after = this.record(job._id);
        if (cancelled && after?.status !== "cancelled")
          this.violate(`a stale done() changed ${job._id}: ${before?.status} -> ${after?.status}`);
        return;
      }
      case "returnUnsettled":
        return; // neither done nor fail: the run ends by cancel, takeover or timeout
      case "doneTwice": {
        if (!alive()) return;
        const first = await job.done();
        const second = await job.done();
        if (first && second) this.violate(`a second done() resolved true for ${job._id}`);
        return;
      }
    }
  }

  private observeStart(job: Job): void {
    const runId = job._doc.runId as string;
    const runs = (this.runStarts.get(runId) ?? 0) + 1;
    this.runStarts.set(runId, runs);
    if (runs > 1) this.violate(`run ${runId} of ${job._id} started its worker ${runs} times`);
    this.startsByJob.set(job._id, (this.startsByJob.get(job._id) ?? 0) + 1);
    this.starts.push({ id: job._id, type: job.type, at: this.clock.now() });
    const record = this.record(job._id) as JobRecord;
    const liveSince = record.liveSince ?? record.created;
    for (const cancel of this.resolvedCancels) {
      if (liveSince <= cancel.at && matchesFilter(record, cancel.filter)) {
        this.violate(`${job._id} started after a cancelJobs that covered it had resolved`);
      }
    }
    if (job.type === "A") {
      const rank = LANES.indexOf(laneFor(record.priority));
      for (const waiting of this.leftBehind) {
        if (waiting.rank >= rank || waiting.id === job._id) continue;
        const other = this.record(waiting.id);
        if (
          other &&
          !other.repeat &&
          (other.status === "ready" || other.status === "waiting") &&
          other.after <= this.clock.now()
        ) {
          this.violate(`${job._id} (${LANES[rank]}) started while ${waiting.id} waited higher`);
        }
      }
    }
  }

  /** The invariants that hold after every step. */
  checkInvariants(): void {
    const records = this.store.all();
    const occurrencesOpen = new Map<string, number>();
    for (const record of records) {
      if (record.retries < 0) this.violate(`${record._id} has ${record.retries} attempts left`);
      const starts = this.startsByJob.get(record._id) ?? 0;
      if (starts > record.retried)
        this.violate(`${record._id} started ${starts} times but spent ${record.retried} attempts`);
      const runIds = (record.failures ?? []).map((failure) => failure.runId);
      if (new Set(runIds).size !== runIds.length)
        this.violate(`${record._id} recorded one run's failure twice`);
      if (record.templateId && !TERMINAL.includes(record.status)) {
        occurrencesOpen.set(record.templateId, (occurrencesOpen.get(record.templateId) ?? 0) + 1);
      }
    }
    for (const record of records) {
      if (record.status !== "cancelled") continue;
      if (
        record.repeat &&
        this.abandoned.some(({ from, to }) => record.created >= from && record.created <= to)
      )
        continue;
      const live = this.liveSince.get(record._id) ?? record.created;
      const cause = this.cancelIntents.some(
        (intent) => live <= intent.at && matchesFilter(record, intent.filter),
      );
      if (!cause) this.violate(`${record._id} was cancelled by no cancel that covered it`);
    }
    for (const [template, open] of occurrencesOpen) {
      if (open > 1) this.violate(`template ${template} has ${open} unfinished occurrences`);
    }
    for (const template of records.filter((r) => r.repeat?.form === "chain")) {
      if (TERMINAL.includes(template.status)) continue;
      const pending = new Set<string>();
      for (const lane of LANES) {
        for (const message of [
          ...this.lanes.messages(lane).map((m) => m.body),
          ...this.process.buffer[lane].map((d) => d.body),
        ]) {
          const parsed = JSON.parse(message) as { id?: string; firedAt?: string };
          if (parsed.id === template._id && parsed.firedAt) pending.add(parsed.firedAt);
        }
      }
      for (const name of this.scheduler.names()) {
        const schedule = this.scheduler.get(name);
        if (schedule?.message.id === template._id && schedule.message.firedAt)
          pending.add(schedule.message.firedAt);
      }
      // Copies of an instant already fired are harmless (the firing is recorded once).
      const ahead = [...pending].filter((at) => Date.parse(at) > (template.lastFiredAt ?? 0));
      if (ahead.length > 1)
        this.violate(`chain ${template._id} has ${ahead.length} next links: ${ahead}`);
    }
  }

  /** Liveness: with time, every job that can run has run or ended. */
  async drain(): Promise<void> {
    this.lanes.failNext("send", 0);
    for (let round = 0; round < 12; round += 1) {
      await this.advance(10 * 60_000);
      await this.reconcile();
      await this.pump();
    }
    for (const record of this.store.all()) {
      if (record.repeat || TERMINAL.includes(record.status) || record.status === "paused") continue;
      this.violate(`${record._id} is still ${record.status} after two hours (liveness)`);
    }
  }

  async quiesce(): Promise<void> {
    await this.clock.settle();
  }

  stop(): void {
    this.process.alive = false;
    this.process.stopping.abort();
    this.scheduler.stop();
  }

  violate(sentence: string): void {
    if (!this.violations.includes(sentence)) this.violations.push(sentence);
  }
}
