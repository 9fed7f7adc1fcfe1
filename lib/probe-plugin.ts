/**
 * The built-in probe job type: `bgjobs doctor --probe` schedules one `bgjobs/probe` job per
 * lane and waits for each to complete, which proves the whole path a job takes (record,
 * lane, dispatcher or poller, worker, completion). Every host registers it (the own `App` in
 * lib/app.ts, the Reaction plugin in lib/reaction/host.ts), so every function the construct
 * builds runs it, and so does the local stack.
 */
import type { Plugin } from "./app.ts";
import type { BackgroundJobs } from "./jobs/api.ts";

/** The probe's job type, in the `bgjobs/` namespace no plugin's types use. */
export const PROBE_JOB_TYPE = "bgjobs/probe";

/**
 * The probe's cleanup rule: `bgjobs doctor --probe` deletes each probe job once it has read
 * it; one it could not delete (interrupted) is purged after the shortest time a cleanup rule
 * allows (a positive whole number of days).
 */
export const PROBE_PURGE_AFTER_DAYS = 1;

/** The rule for the host's `PluginRules` (Reaction's host registers it as a plugin's). */
export const probeRegistration = {
  name: "bgjobs-probe",
  backgroundJobs: { cleanup: [{ type: PROBE_JOB_TYPE, purgeAfterDays: PROBE_PURGE_AFTER_DAYS }] },
};

/**
 * Adds the probe worker: it completes at once. Up to one probe job per lane runs at a time.
 *
 * @example await registerProbeWorker(app.context.backgroundJobs)
 */
export async function registerProbeWorker(backgroundJobs: {
  addWorker(options: Parameters<BackgroundJobs["addWorker"]>[0]): Promise<unknown>;
}): Promise<void> {
  await backgroundJobs.addWorker({
    type: PROBE_JOB_TYPE,
    concurrency: 3,
    async worker(job) {
      await job.done({ probe: "ok" });
    },
  });
}

/** The probe as a plugin of the own host (lib/app.ts registers it first in every app). */
export const probePlugin: Plugin = {
  ...probeRegistration,
  functionsByType: { startup: [({ backgroundJobs }) => registerProbeWorker(backgroundJobs)] },
};
