/**
 * The memory backend, for a team's tests: the in-memory job table, lanes and scheduler
 * (lib/memory/, the ports the model check proves against DynamoDB Local) in this process,
 * consumed by the same dispatcher as Lambda and the local poller. No Java, no server, no AWS
 * call. The host imports it for a memory backend only, and the Lambda bundles leave it out
 * (see `LOCAL_ONLY_MODULES` in ./local-only.ts).
 */
import { JobValidationError } from "../errors.ts";
import type { JobSystem } from "../jobs/api.ts";
import { reconcile } from "../jobs/reconcile.ts";
import { type LocalClock, ManualClock, realLocalClock } from "../local/clock.ts";
import type { JobLogger } from "../log.ts";
import { MemoryConsumer } from "../memory/consumer.ts";
import { MemoryJobStore } from "../memory/job-store.ts";
import { MemoryLanes } from "../memory/lanes.ts";
import { MemoryScheduler } from "../memory/scheduler.ts";
import { lanes as laneSettings } from "../resources.ts";
import type { Consumer, Deployment } from "./deployment.ts";
import type { MemoryBackendOptions } from "./options.ts";

/** The reconciler's period by default: the scheduled Lambda's, every minute. */
const RECONCILE_INTERVAL_MS = 60_000;

/**
 * A deployment in this process's memory: a job table, three lanes (with SQS's delays, its
 * visibility and its dead letters after `maxReceiveCount` receives) and an EventBridge
 * Scheduler, all on one clock, real or manual. `consume` starts the in-process consumer and
 * the reconciler, on that clock.
 *
 * @example const deployment = startMemoryDeployment({ clock: "manual" }, logger);
 */
export function startMemoryDeployment(
  options: MemoryBackendOptions,
  logger: JobLogger,
): Deployment {
  const clock = memoryClock(options);
  let consumer: MemoryConsumer | undefined;
  const store = new MemoryJobStore(clock);
  const lanes = new MemoryLanes(clock, {
    maxReceiveCount: laneSettings.maxReceiveCount,
    stored: () => consumer?.wake(),
  });
  const scheduler = new MemoryScheduler(clock, lanes);
  const stopReconciling = new AbortController();
  let reconciling: Promise<void> | undefined;

  const reconcileLoop = async (system: JobSystem) => {
    const interval = options.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS;
    const { signal } = stopReconciling;
    while (!signal.aborted) {
      await clock.sleep(interval, signal);
      if (signal.aborted) return;
      await reconcile(system.deps).catch((error: unknown) =>
        logger.error("reconcile failed", { error: (error as Error).message }),
      );
    }
  };

  const consume = ({ system, stopping }: Consumer) => {
    if (consumer) return;
    consumer = new MemoryConsumer({
      lanes,
      clock,
      deps: system.deps,
      workers: system.workers,
      stopping,
      logger,
    });
    consumer.start();
    reconciling = reconcileLoop(system);
  };

  return {
    adapters: { store, lanes, schedules: scheduler },
    clock,
    memory: {
      clock,
      idle: () => consumer?.idle() ?? Promise.resolve(),
    },
    settings: {
      // A clock that stands still would never end cancelJobs' cache wait: read logs fresh.
      ...(clock.mode === "manual" ? { cancelCacheMs: 0 } : {}),
    },
    started: async () => {
      scheduler.start();
    },
    consume,
    stopConsuming: async () => {
      stopReconciling.abort();
      await reconciling;
      await consumer?.stop();
    },
    stop: async () => {
      scheduler.stop();
    },
  };
}

/** The backend's clock as the options ask, refusing a value it cannot take, naming it. */
function memoryClock({ clock, startAt }: MemoryBackendOptions): LocalClock {
  if (clock !== undefined && clock !== "real" && clock !== "manual")
    throw new JobValidationError("backgroundJobs.memory.clock", 'must be "real" or "manual"');
  const start = startAt instanceof Date ? startAt.getTime() : (startAt ?? Date.now());
  if (typeof start !== "number" || !Number.isFinite(start))
    throw new JobValidationError(
      "backgroundJobs.memory.startAt",
      "must be epoch ms or a valid Date",
    );
  if (clock !== "manual") {
    if (startAt !== undefined)
      throw new JobValidationError("backgroundJobs.memory.startAt", 'needs clock: "manual"');
    return realLocalClock;
  }
  return new ManualClock(start);
}
