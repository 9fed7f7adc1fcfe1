import type { JobLane } from "../resources.ts";
import type { JobDeps } from "./deps.ts";
import { dueMessage } from "./message.ts";
import { laneOf } from "./placement.ts";
import type { JobRecord } from "./types.ts";

interface Pending {
  record: JobRecord;
  resolve(): void;
  reject(error: unknown): void;
}

/** The batch of each job system still open in this turn of the event loop. */
const openBatches = new WeakMap<JobDeps, Pending[]>();

/**
 * Inserts a new, ready job and sends its message, together with every other job scheduled in
 * the same turn of the event loop: their records are written in parallel, then their
 * messages go out as `SendMessageBatch` calls (10 a call, by lane), so 10,000 jobs scheduled at
 * once cost 1,000 sends, not 10,000. Each call still resolves or rejects on its own: a failed
 * insert rejects that call only; a failed send only logs (the reconciler delivers a due job
 * whose message never came).
 *
 * @example await Promise.all(emails.map((data) => scheduleJob(deps, { type: "sendEmail", data })))
 */
export function insertAndEnqueue(deps: JobDeps, record: JobRecord): Promise<void> {
  return new Promise((resolve, reject) => {
    let batch = openBatches.get(deps);
    if (!batch) {
      const pending: Pending[] = [];
      batch = pending;
      openBatches.set(deps, pending);
      setImmediate(() => {
        openBatches.delete(deps);
        void flush(deps, pending);
      });
    }
    batch.push({ record, resolve, reject });
  });
}

async function flush(deps: JobDeps, batch: Pending[]): Promise<void> {
  const inserted = await Promise.all(
    batch.map(async (pending) => {
      try {
        await deps.store.insertJob(pending.record);
        return pending;
      } catch (error) {
        pending.reject(error);
        return null;
      }
    }),
  );
  const byLane = new Map<JobLane, Pending[]>();
  for (const pending of inserted) {
    if (!pending) continue;
    const { record } = pending;
    const lane = laneOf(deps, record);
    deps.logger.info("scheduled", { jobId: record._id, type: record.type, lane });
    deps.metrics.count("JobsScheduled", record.type);
    byLane.set(lane, [...(byLane.get(lane) ?? []), pending]);
  }
  const now = deps.clock.now();
  await Promise.all(
    [...byLane].map(async ([lane, pendings]) => {
      const messages = pendings.map(({ record }) => dueMessage(record, now));
      try {
        await deps.lanes.sendMany(lane, messages, 0);
      } catch (error) {
        for (const { record } of pendings) {
          deps.logger.warn("enqueue failed; the reconciler will deliver it", {
            jobId: record._id,
            type: record.type,
            error: (error as Error).message,
          });
        }
      }
    }),
  );
  for (const pending of inserted) pending?.resolve();
}
