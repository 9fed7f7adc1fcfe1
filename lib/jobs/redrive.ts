import type { JobLane } from "../resources.ts";
import type { JobMessage, JobStore } from "./deps.ts";
import { parseJobMessage } from "./message.ts";
import { laneOf, type Placement } from "./placement.ts";
import { TERMINAL } from "./types.ts";

/** What to do with a dead letter: send it back on a lane, or drop it and say why. */
export type RedriveDecision =
  | { action: "redrive"; lane: JobLane; message: JobMessage }
  | { action: "drop"; reason: string };

/**
 * A message of a job that can still run goes back on its job's lane (a fresh message, so a
 * fresh receive count); poison, unknown jobs and finished jobs are dropped.
 */
export async function redriveDecision(
  store: JobStore,
  body: string,
  placement: Placement = {},
): Promise<RedriveDecision> {
  const message = parseJobMessage(body);
  if (!message) return { action: "drop", reason: "not a job message" };
  const record = await store.getJob(message.id);
  if (!record) return { action: "drop", reason: `no job ${message.id}` };
  if (TERMINAL.includes(record.status))
    return { action: "drop", reason: `job ${message.id} is already ${record.status}` };
  // The record, not the message, says what the job is; a redriven message starts afresh.
  const { moved: _moved, ...fresh } = message;
  return {
    action: "redrive",
    lane: laneOf(placement, record),
    message: { ...fresh, type: record.type },
  };
}
