import { AsyncLocalStorage } from "node:async_hooks";
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
 * Drops the scheduling calls a host's startup makes in `"skip"` mode, and says so in one
 * debug line when the boot ends. What counts is who calls, not when: a call made by startup
 * (its async continuations included, so also one it set off without awaiting that lands
 * after the boot) is skipped; a call from anywhere else (a worker, an API request), even
 * while startup still runs, always runs.
 *
 * @example
 * const gate = new StartupGate("skip", logger);
 * await gate.booting(() => runPluginStartups());
 * if (gate.skips("scheduleJob")) return undefined;
 */
export class StartupGate {
  /** Set inside `booting`'s startup and everything it sets off. */
  private readonly startup = new AsyncLocalStorage<true>();
  private booted = false;
  private readonly skipped = { scheduleJob: 0, cancelJobs: 0 };

  constructor(
    readonly mode: StartupScheduling,
    private readonly logger: JobLogger,
  ) {}

  /** Runs a host's startup; its scheduling calls are skipped in `"skip"` mode. */
  async booting<T>(startup: () => Promise<T>): Promise<T> {
    try {
      return await this.startup.run(true, startup);
    } finally {
      this.booted = true;
      const { scheduleJob, cancelJobs } = this.skipped;
      if (scheduleJob + cancelJobs > 0) {
        this.logger.debug?.("startup scheduling skipped", {
          scheduleJob,
          cancelJobs,
          note: NOTE,
        });
      }
    }
  }

  /** True (and counted) when `call` is made by a startup that must not schedule. */
  skips(call: "scheduleJob" | "cancelJobs"): boolean {
    if (this.mode === "run" || this.startup.getStore() !== true) return false;
    this.skipped[call] += 1;
    if (this.booted) {
      // Set off by startup, made after it returned: the boot's line is already written.
      this.logger.debug?.("startup scheduling skipped", { [call]: 1, note: NOTE });
    }
    return true;
  }
}

const NOTE = "a cold start only registers workers; the deploy-time startup schedules";
