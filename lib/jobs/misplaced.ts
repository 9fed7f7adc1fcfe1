/**
 * A message on a lane its type does not run on: a server type's on a Lambda lane, or another
 * type's on the server lane. That happens when the API servers and the functions were given
 * different `JOBS_SERVER_TYPES` (a deploy under way, configuration drift) or a message was
 * redriven by hand. It must not run there (the worker may be absent, or the file it reads is on
 * a server's disk): it is moved, once, to its type's lane, before anything claims it.
 */
import { type JobLane, SERVER_LANE } from "../resources.ts";
import type { JobDeps, JobMessage } from "./deps.ts";
import { runsOnServer } from "./placement.ts";
import { laneFor, PRIORITIES } from "./priority.ts";

/**
 * True when `type` does not run on `lane` in this process's placement. A delivery whose lane
 * is unknown is never misplaced.
 *
 * @example misplaced({ serverTypes: new Set(["saveImage/local"]) }, "normal", "saveImage/local") // true
 */
export function misplaced(
  deps: Pick<JobDeps, "serverTypes">,
  lane: JobLane | undefined,
  type: string,
): boolean {
  if (lane === undefined) return false;
  return (lane === SERVER_LANE) !== runsOnServer(deps, type);
}

/**
 * Moves a misplaced message to its type's lane (a fresh copy marked `moved`, this one
 * acknowledged), so no receive counts toward the DLQ. A message moved once already that
 * arrives misplaced again is not bounced back: the two sides disagree, so it is retried and,
 * left so, ends in the DLQ (which alarms), one error line each time, to be redriven once
 * `JOBS_SERVER_TYPES` agrees.
 */
export async function moveToItsLane(
  deps: JobDeps,
  message: JobMessage,
  from: JobLane,
): Promise<"acknowledged" | "retry"> {
  const fields = { jobId: message.id, type: message.type, lane: from };
  if (message.moved) {
    deps.logger.error(
      "message on a lane its type does not run on, again: JOBS_SERVER_TYPES differs between the API servers and the functions",
      fields,
    );
    return "retry";
  }
  // The server lane holds every priority: a job leaving it goes to its priority's lane.
  const to =
    from === SERVER_LANE
      ? laneFor((await deps.store.getJob(message.id))?.priority ?? PRIORITIES.normal)
      : SERVER_LANE;
  await deps.lanes.send(to, { ...message, moved: true }, 0);
  deps.logger.warn("message moved to the lane its type runs on", { ...fields, to });
  return "acknowledged";
}
