import type { JobLogger } from "./log.ts";
import { envNames } from "./names.ts";

/**
 * Whether the plugins' startup may schedule and cancel jobs. `"run"`: a server's start, the
 * one place startup's `scheduleJob`/`cancelJobs` belong (a local `npm start`, a Reaction API
 * server, the deploy-time startup function). `"skip"`: a Lambda cold start, which happens a
 * thousand times a day and must change no job record; it only registers workers.
 */
export type StartupScheduling = "run" | "skip";

/** `"skip"` in a Lambda function unless its environment says it is the deploy-time startup. */
export function startupSchedulingFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): StartupScheduling {
  if (env.AWS_LAMBDA_FUNCTION_NAME === undefined) return "run";
  return env[envNames.startupScheduling] === "run" ? "run" : "skip";
}

/**
 * Drops the scheduling calls a host's startup makes while it boots in `"skip"` mode, and says
 * so in one debug line when the boot ends. Calls made outside `booting` (inside a worker,
 * from an API request) always run.
 *
 * @example
 * const gate = new StartupGate("skip", logger);
 * await gate.booting(() => runPluginStartups());
 * if (gate.skips("scheduleJob")) return undefined;
 */
export class StartupGate {
  private active = false;
  private readonly skipped = { scheduleJob: 0, cancelJobs: 0 };

  constructor(
    readonly mode: StartupScheduling,
    private readonly logger: JobLogger,
  ) {}

  /** Runs a host's startup; scheduling calls made meanwhile are skipped in `"skip"` mode. */
  async booting<T>(startup: () => Promise<T>): Promise<T> {
    this.active = true;
    try {
      return await startup();
    } finally {
      this.active = false;
      const { scheduleJob, cancelJobs } = this.skipped;
      if (scheduleJob + cancelJobs > 0) {
        this.logger.debug?.("startup scheduling skipped", {
          scheduleJob,
          cancelJobs,
          note: "a cold start only registers workers; the deploy-time startup schedules",
        });
      }
    }
  }

  /** True (and counted) when `call` is made during a boot that must not schedule. */
  skips(call: "scheduleJob" | "cancelJobs"): boolean {
    if (!this.active || this.mode === "run") return false;
    this.skipped[call] += 1;
    return true;
  }
}
