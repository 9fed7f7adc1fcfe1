import type { AwsClients } from "../aws/clients.ts";
import type { SqsBatchHandler } from "../aws/sqs-batch.ts";
import type { JobSystem } from "../jobs/api.ts";
import type { Clock, JobSettings, LaneQueue } from "../jobs/deps.ts";
import type { JobLogger } from "../log.ts";
import type { LocalStackInfo, StackResources } from "../stack.ts";

/**
 * What a job backend runs on: a deployment's resources and the clients on them, from AWS
 * (lib/backend/aws.ts) or the embedded local stack (lib/backend/local.ts). The host
 * (lib/backend.ts) builds the job system over it the same way for both.
 */
export interface Deployment {
  readonly resources: StackResources;
  readonly clients: AwsClients;
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
