import { dispatch } from "../jobs/deliver.ts";
import type { Clock, Delivery, JobDeps } from "../jobs/deps.ts";
import { holdMessage, keepReporting } from "../jobs/front.ts";
import { messageAt } from "../jobs/message.ts";
import type { WorkerRegistry } from "../jobs/workers.ts";
import { FairShare, pickDeliverable } from "../local/pick.ts";
import type { JobLogger } from "../log.ts";
import { LANES, type LaneName } from "../resources.ts";
import type { MemoryLanes } from "./lanes.ts";

/**
 * How long a received message stays hidden while it waits here for a slot: for good (a year),
 * since it is this consumer's until the dispatcher's outcome deletes it or sets when it is back.
 */
const HELD_MS = 365 * 24 * 3600 * 1000;
/** The longest single sleep: a real-clock `setTimeout` overflows past ~24.8 days. */
const MAX_SLEEP_MS = 3600 * 1000;
/** A batch as Lambda's event source mapping hands it over (and the local poller). */
const BATCH = 10;

export interface MemoryConsumerOptions {
  lanes: MemoryLanes;
  clock: Clock;
  deps: JobDeps;
  workers: Pick<WorkerRegistry, "freeFor" | "nextChange">;
  /** Aborts when the backend stops: the runs' waits and the delivery front's reporting end. */
  stopping: AbortSignal;
  logger: JobLogger;
}

/**
 * The memory backend's stand-in for Lambda's event source mappings, as the local poller is for
 * the local stack: it takes every visible message off the memory lanes, holds them (the
 * delivery front counts them), hands the dispatcher (`dispatch`, the code Lambda and the
 * poller run) what `pickDeliverable` allows, strict priority per type and fair among tenants,
 * and applies each outcome to the lane: deleted when acknowledged, back after its pause when
 * retried. It wakes when a message is stored, when the next hidden one becomes visible on the
 * clock (so a manual clock's `advance` drives it), and when a worker slot frees.
 *
 * @example
 * const consumer = new MemoryConsumer({ lanes, clock, deps, workers, stopping, logger });
 * consumer.start(); // and call consumer.wake() from the lanes' `stored` hook
 */
export class MemoryConsumer {
  private readonly buffer: Record<LaneName, Delivery[]> = { critical: [], normal: [], low: [] };
  private readonly fairness = new FairShare();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly idleWaiters = new Set<() => void>();
  private wakeup = new AbortController();
  /** Set by `wake()`: something changed since the loop last looked. */
  private dirty = true;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly options: MemoryConsumerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Something changed (a message stored, a run ended): look at the lanes again. */
  wake(): void {
    this.dirty = true;
    this.wakeup.abort();
  }

  /**
   * Resolves once nothing is left to do now: no visible message, none held, no batch being
   * handled. A later delay or schedule is not waited for (move a manual clock to reach it).
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  /** Stops taking messages, then waits up to `graceMs` (real time) for batches being handled. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const resolve of this.idleWaiters) resolve();
    this.idleWaiters.clear();
  }

  private async run(): Promise<void> {
    const { lanes, deps, workers, stopping } = this.options;
    while (!this.stopped) {
      this.dirty = false;
      this.wakeup = new AbortController();
      for (const lane of LANES) {
        for (const delivery of lanes.receive(lane, Number.POSITIVE_INFINITY, HELD_MS)) {
          if (delivery.message) holdMessage(deps, delivery.messageId, messageAt(delivery.message));
          this.buffer[lane].push({ ...delivery, lane });
        }
      }
      if (LANES.some((lane) => this.buffer[lane].length > 0)) keepReporting(deps, stopping);
      const picked = pickDeliverable(
        this.buffer,
        (delivery) => delivery.message?.type ?? null,
        (type) => workers.freeFor(type),
        (delivery) => delivery.message?.group ?? "",
        this.fairness,
      );
      for (const lane of LANES) {
        for (let start = 0; start < picked[lane].length; start += BATCH) {
          this.handle(lane, picked[lane].slice(start, start + BATCH));
        }
      }
      if (this.isIdle()) this.settleIdle();
      if (this.dirty) continue;
      await this.quiet();
    }
  }

  /** Waits for the next reason to look again: a wake, the next hidden message's time, a free slot. */
  private async quiet(): Promise<void> {
    const { lanes, clock, workers } = this.options;
    const { signal } = this.wakeup;
    const waits: Promise<void>[] = [
      new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
    ];
    const visibleAt = lanes.nextVisibleAt();
    if (visibleAt !== undefined)
      waits.push(clock.sleep(Math.min(MAX_SLEEP_MS, visibleAt - clock.now()), signal));
    if (LANES.some((lane) => this.buffer[lane].length > 0)) waits.push(workers.nextChange(1000));
    await Promise.race(waits);
  }

  private handle(lane: LaneName, deliveries: Delivery[]): void {
    const { lanes, deps, stopping, logger } = this.options;
    const handled = dispatch(deps, deliveries, stopping)
      .then((outcomes) => {
        for (const outcome of outcomes) {
          if (outcome.outcome === "acknowledged") lanes.delete(lane, outcome.messageId);
          else lanes.changeVisibility(lane, outcome.messageId, outcome.delaySeconds * 1000);
        }
      })
      .catch((error: unknown) => {
        // dispatch never throws; were it to, the batch comes back as with Lambda.
        logger.error("batch failed", { lane, error: (error as Error).message });
        for (const { messageId } of deliveries) lanes.changeVisibility(lane, messageId, 0);
      })
      .finally(() => {
        this.inFlight.delete(handled);
        this.wake();
      });
    this.inFlight.add(handled);
  }

  private isIdle(): boolean {
    const { lanes, clock } = this.options;
    const now = clock.now();
    return (
      this.inFlight.size === 0 &&
      LANES.every(
        (lane) =>
          this.buffer[lane].length === 0 && lanes.messages(lane).every((m) => m.visibleAt > now),
      )
    );
  }

  private settleIdle(): void {
    for (const resolve of this.idleWaiters) resolve();
    this.idleWaiters.clear();
  }
}
