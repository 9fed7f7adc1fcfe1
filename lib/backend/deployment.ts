import type { AwsClients } from "../aws/clients.ts";
import type { SqsBatchHandler } from "../aws/sqs-batch.ts";
import type { JobSystem } from "../jobs/api.ts";
import type { Clock, JobSettings, LaneQueue } from "../jobs/deps.ts";
import type { LocalClock } from "../local/clock.ts";
import type { JobLogger } from "../log.ts";
import type { LocalStackInfo, StackResources } from "../stack.ts";
import type { StackAdapters } from "./adapters.ts";

/**
 * What a job backend runs on: a deployment's resources and the clients on them, from AWS
 * (lib/backend/aws.ts) or the embedded local stack (lib/backend/local.ts), or in-memory ports
 * (lib/backend/memory.ts). The host (lib/backend.ts) builds the job system over it the same way.
 */
export interface Deployment {
  /** The AWS resources and clients (on AWS and the local stack; none in memory). */
  readonly resources?: StackResources;
  readonly clients?: AwsClients;
  /** The ports themselves, for a deployment with no AWS resources (the memory backend). */
  readonly adapters?: StackAdapters;
  /** The memory backend's clock and idle wait (`app.memory`); none elsewhere. */
  readonly memory?: MemoryBackendInfo;
  /** The local stack's servers and resources (`app.local`); none on AWS. */
  readonly local?: LocalStackInfo;
  /** The time the lifecycle and the job table read (the local stack's clock); default real time. */
  readonly clock?: Clock;
  /** The lanes as this deployment's clock needs them (a manual clock holds delayed sends). */
  lanesOnClock?(lanes: LaneQueue): LaneQueue;
  /** The job table's test hook: index queries lag this many ms, as a GSI on AWS may. */
  readonly simulateIndexLagMs?: number;
  /** Job settings this deployment asks for (local test hooks; in Lambda, the function's timeout). */
  readonly settings: Partial<JobSettings>;
  /** Once the job system exists (locally: open jobs' messages go back, `stack.json` is written). */
  started(system: JobSystem, rules: PluginRulesByType): Promise<void>;
  /**
   * Starts consuming the lanes: locally the poller and the reconciler timer; on AWS nothing
   * (Lambda's event source mappings call the handler, a schedule calls the reconciler).
   */
  consume(consumer: Consumer): void;
  /** Stops taking deliveries (the host then aborts the runs' waits). */
  stopConsuming(): Promise<void>;
  /** Ends what is left: the clients and any servers. */
  stop(): Promise<void>;
}

/** The plugins' rules, by job type: what `bgjobs` reads from `stack.json` to act as the app. */
export interface PluginRulesByType {
  cleanup: ReadonlyMap<string, number>;
  tenants: ReadonlyMap<string, string>;
}

/** What a deployment's consumer hands its deliveries to. */
export interface Consumer {
  system: JobSystem;
  /** The dispatcher (`JobBackend.handleSqsEvent`). */
  handler: SqsBatchHandler;
  /** Aborts when the backend stops. */
  stopping: AbortSignal;
  logger: JobLogger;
}

/** `app.memory`: what a test reaches of the memory backend. */
export interface MemoryBackendInfo {
  /**
   * The backend's time: with `memory: { clock: "manual" }`, `advance(ms)` and `set(instant)`
   * move it (due times, retry waits, leases, schedules); in real time they are refused.
   */
  readonly clock: LocalClock;
  /**
   * Resolves once nothing is left to do now: no message visible or waiting for a slot, no run
   * in progress. A later delay or schedule is not waited for: move the clock to reach it.
   */
  idle(): Promise<void>;
}
