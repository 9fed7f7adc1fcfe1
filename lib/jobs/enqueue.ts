import { JOB_LANES } from "../resources.ts";
import type { JobDeps } from "./deps.ts";
import { onceName } from "./keys.ts";
import { dueMessage } from "./message.ts";
import { laneOf } from "./placement.ts";
import type { JobRecord } from "./types.ts";

/**
 * Puts a waiting or ready job's message on its lane for when it is due: an SQS delay up to
 * 900 s; further out, a one-time schedule (or, with no scheduler, 900 s hops re-checked on
 * receipt).
 */
export async function enqueue(deps: JobDeps, record: JobRecord): Promise<void> {
  const now = deps.clock.now();
  const delaySeconds = Math.max(0, (record.after - now) / 1000);
  const message = dueMessage(record, now);
  if (delaySeconds > 900 && deps.schedules) {
    await deps.schedules.armOnce(
      onceName(record._id, record.after),
      new Date(record.after),
      laneOf(deps, record),
      message,
    );
    return;
  }
  await deps.lanes.send(laneOf(deps, record), message, delaySeconds);
}

/**
 * Like `enqueue` for a job that is stored already: a failed send only logs, since the
 * reconciler delivers a due job whose message never came. Templates have no messages.
 */
export async function enqueueSafely(deps: JobDeps, record: JobRecord): Promise<void> {
  if ((record.status !== "ready" && record.status !== "waiting") || record.repeat) return;
  try {
    await enqueue(deps, record);
  } catch (error) {
    deps.logger.warn("enqueue failed; the reconciler will deliver it", {
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
export async function requeueType(deps: JobDeps, type: string): Promise<void> {
  const open = await deps.store.openJobsOfType(type);
  const records = (await deps.store.getJobs(open.map((entry) => entry._id))).filter(
    (record) => !record.repeat && (record.status === "ready" || record.status === "waiting"),
  );
  const now = deps.clock.now();
  for (const lane of JOB_LANES) {
    const inLane = records.filter((record) => laneOf(deps, record) === lane);
    inLane.sort((a, b) => a.priority - b.priority || a.after - b.after);
    const due = inLane.filter((record) => record.after <= now);
    const messages = due.map((record) => dueMessage(record, now));
    if (messages.length > 0) await deps.lanes.sendMany(lane, messages, 0);
    for (const record of inLane.filter((r) => r.after > now)) await enqueueSafely(deps, record);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
