import type { Job, Plugin } from "../../lib/index.ts";

/**
 * The plugins the moto deployment's functions run (`JOBS_PLUGINS_ENTRY`): one job type per
 * behaviour the scenario drives. Each run is recorded on `globalThis` under `RUNS_KEY`, so the
 * test (the same process as the loaded bundle) can count runs per job.
 */
export const RUNS_KEY = Symbol.for("reaction-background-jobs-aws.moto-scenario.runs");

/** One worker call: which job, of which type, at which attempt. */
export interface ScenarioRun {
  id: string;
  type: string;
  attempt: number;
}

/** The repeating job the startup schedules, as a Reaction plugin does in its startup. */
export const REPEAT = { type: "moto/tick", schedule: "every 1 minute" } as const;

function recordRun(job: Job): void {
  const global = globalThis as { [RUNS_KEY]?: ScenarioRun[] };
  global[RUNS_KEY] ??= [];
  global[RUNS_KEY].push({ id: job._id, type: job.type, attempt: job.doc.retried });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const scenarioPlugin: Plugin = {
  name: "moto-scenario",
  functionsByType: {
    startup: [
      async (context) => {
        const jobs = context.backgroundJobs;
        await jobs.addWorker({
          type: "moto/succeed",
          async worker(job) {
            recordRun(job);
            await job.done({ echoed: job.data });
          },
        });
        // Fails until its attempt number reaches `data.succeedOnAttempt`.
        await jobs.addWorker({
          type: "moto/flaky",
          async worker(job) {
            recordRun(job);
            const { succeedOnAttempt } = job.data as { succeedOnAttempt: number };
            if (job.doc.retried < succeedOnAttempt)
              await job.fail(`attempt ${job.doc.retried} fails`);
            else await job.done({ attempts: job.doc.retried });
          },
        });
        await jobs.addWorker({
          type: "moto/fatal",
          async worker(job) {
            recordRun(job);
            await job.fail("the input can never work", { fatal: true });
          },
        });
        // Runs until its run is cancelled (job.signal), logging as it goes: each log is a
        // heartbeat, where a cancel made elsewhere is noticed. Gives up after 30 s.
        await jobs.addWorker({
          type: "moto/hold",
          workTimeout: 60_000,
          async worker(job) {
            recordRun(job);
            for (let tick = 0; tick < 150 && !job.signal.aborted; tick += 1) {
              await job.log(`holding ${tick}`);
              await pause(200);
            }
            if (!job.signal.aborted) await job.done({ held: true });
          },
        });
        await jobs.addWorker({
          type: REPEAT.type,
          async worker(job) {
            recordRun(job);
            await job.done({ ticked: true });
          },
        });
        // A deployment is the server start: this runs in the deploy-time startup only.
        await jobs.scheduleJob({ type: REPEAT.type, data: {}, schedule: REPEAT.schedule });
      },
    ],
  },
};

/** What the construct's functions import (`JOBS_PLUGINS_ENTRY`). */
export const plugins: Plugin[] = [scenarioPlugin];
