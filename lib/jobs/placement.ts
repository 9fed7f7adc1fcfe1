/**
 * Where a job runs: in Lambda, on the priority lane its priority picks, or on the API servers
 * (`JOBS_SERVER_TYPES`, the construct's `serverTypes`), on the server lane. Every place that
 * sends a job's message (schedule, retry, repeat targets, reconciler re-sends, redrive,
 * resume) asks `laneOf`, so a job of a server type never reaches a Lambda lane, whichever
 * process sent it, as long as the API servers and the functions are given the same types.
 */
import { type JobLane, LANES, type LaneName, SERVER_LANE } from "../resources.ts";
import type { JobDeps } from "./deps.ts";
import { laneFor } from "./priority.ts";

/** The part of the dependencies placement reads. */
export type Placement = Pick<JobDeps, "serverTypes">;

/**
 * Whether jobs of `type` run on the API servers (the server lane).
 *
 * @example runsOnServer({ serverTypes: new Set(["saveImage/local"]) }, "saveImage/local") // true
 */
export function runsOnServer(placement: Placement, type: string): boolean {
  return placement.serverTypes?.has(type) ?? false;
}

/**
 * The lane a job's messages travel on: the server lane for a server type (one queue for
 * every priority: they start in about the order they arrive), else its priority's lane.
 *
 * @example laneOf({ serverTypes: new Set() }, { type: "sendEmail", priority: -15 }) // "critical"
 */
export function laneOf(placement: Placement, job: { type: string; priority: number }): JobLane {
  return runsOnServer(placement, job.type) ? SERVER_LANE : laneFor(job.priority);
}

/** True for a Lambda (priority) lane. */
export function isPriorityLane(lane: JobLane): lane is LaneName {
  return (LANES as readonly string[]).includes(lane);
}
