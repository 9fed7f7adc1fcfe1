import type { RedriveReport } from "../aws/redrive.ts";
import { forEachLimited } from "../jobs/enqueue.ts";
import { parseJobMessage } from "../jobs/message.ts";
import { laneFor } from "../jobs/priority.ts";
import { redriveDecision } from "../jobs/redrive.ts";
import { LANES, type LaneName } from "../resources.ts";
import { iso } from "./list.ts";
import type { OpsDeps } from "./ports.ts";
import type { DeadLetterView, LaneStats } from "./types.ts";

/** Each type's oldest open jobs read to find the longest wait (the open index is by creation). */
const OLDEST_READ_PER_TYPE = 10;
/** A due job not started for this long, with nothing in flight, means nothing consumes. */
export const NO_WORKERS_AFTER_MS = 30_000;
const PARALLEL_READS = 16;

/** The open index of each type, read once per request and shared by what needs it. */
export type OpenIndex = Map<string, Array<{ _id: string; created: number }>>;

export async function readOpenIndex(deps: OpsDeps): Promise<{ open: OpenIndex; read: number }> {
  const open: OpenIndex = new Map();
  let read = 0;
  for (const type of await deps.jobs.store.knownTypes()) {
    const entries = await deps.jobs.store.openJobsOfType(type);
    read += entries.length;
    open.set(type, entries);
  }
  return { open, read };
}

/**
 * Each lane's messages (visible, in flight, delayed) and its DLQ's, how long its
 * longest-waiting due job has waited (from the records: SQS has no such attribute), and
 * "no workers" when messages wait, none is in flight, and a due job has waited past 30 s.
 */
export async function laneStats(
  deps: OpsDeps,
  index?: { open: OpenIndex; read: number },
): Promise<{ lanes: LaneStats[]; read: number }> {
  const { open, read: indexRead } = index ?? (await readOpenIndex(deps));
  const now = deps.jobs.clock.now();
  const oldest: Partial<Record<LaneName, number>> = {};
  const candidates = [...open.values()].flatMap((entries) =>
    [...entries].sort((a, b) => a.created - b.created).slice(0, OLDEST_READ_PER_TYPE),
  );
  for (const record of await deps.jobs.store.getJobs(candidates.map((entry) => entry._id))) {
    if (record.repeat || !["ready", "waiting"].includes(record.status)) continue;
    if (record.after > now) continue;
    const lane = laneFor(record.priority);
    oldest[lane] = Math.max(oldest[lane] ?? 0, now - record.after);
  }
  const lanes = await Promise.all(
    LANES.map(async (lane): Promise<LaneStats> => {
      const depth = await deps.queues.depth(lane);
      const waiting = oldest[lane] ?? null;
      return {
        lane,
        ...depth,
        oldestWaitingMs: waiting,
        noWorkers:
          depth.visible > 0 && depth.inFlight === 0 && (waiting ?? 0) > NO_WORKERS_AFTER_MS,
      };
    }),
  );
  return { lanes, read: indexRead + candidates.length };
}

/**
 * The messages in the lanes' DLQs (left there), each with its job's status and what a
 * redrive would do with it: send it back (a job that can still run) or drop it, and why.
 */
export async function deadLetters(
  deps: OpsDeps,
  options: { lane?: LaneName; limit?: number } = {},
): Promise<DeadLetterView[]> {
  const lanes = options.lane ? [options.lane] : LANES;
  const views: DeadLetterView[] = [];
  for (const lane of lanes) {
    const messages = await deps.queues.peekDeadLetters(lane, options.limit ?? 50);
    await forEachLimited(messages, PARALLEL_READS, async (message) => {
      const parsed = parseJobMessage(message.body);
      const decision = await redriveDecision(deps.jobs.store, message.body);
      const job = parsed ? await deps.jobs.store.getJob(parsed.id) : null;
      const view: DeadLetterView = {
        lane,
        messageId: message.messageId,
        body: message.body.slice(0, 500),
        receiveCount: message.receiveCount,
        redrive: decision.action,
      };
      if (message.sentAt !== undefined) view.sentAt = iso(message.sentAt);
      if (parsed) {
        view.jobId = parsed.id;
        view.type = parsed.type;
      }
      if (decision.action === "drop") view.reason = decision.reason;
      if (job) view.jobStatus = job.status;
      views.push(view);
    });
  }
  return views;
}

/** Empties the DLQs of some lanes (or all): live jobs back on their lanes, the rest dropped. */
export function redriveDeadLetters(
  deps: OpsDeps,
  options: { lanes?: readonly LaneName[]; onMessage?: (done: number) => void } = {},
): Promise<RedriveReport> {
  return deps.redrive(options);
}
