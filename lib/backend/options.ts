/**
 * What a host passes to choose and tune its job backend. `createApp` takes these as
 * `options.backgroundJobs` (`{ local: {...} }` or `{ aws: {...} }`), the Reaction plugin as
 * `registerWith({ backgroundJobs })`.
 */
import type { FaultInjector, RequestCounter } from "../aws/clients.ts";
import type { ReconcileOptions } from "../jobs/reconcile.ts";
import type { JobLogger } from "../log.ts";
import type { JobMetrics } from "../metrics.ts";
import type { StackResources } from "../stack.ts";

export interface LocalBackendOptions {
  /** Where DynamoDB Local keeps its data (persists across restarts). In memory when omitted. */
  dataDir?: string;
  /** No terminal output. */
  quiet?: boolean;
  /**
   * Use a DynamoDB already running there (one DynamoDB Local shared by many apps, as the test
   * suite does) instead of starting DynamoDB Local. The app keeps its own table on it: see
   * `resourcePrefix`. SQS and the Scheduler stay the app's own, in process.
   */
  dynamodbEndpoint?: string;
  /**
   * The table is `${resourcePrefix}-jobs` (default `local`), and is kept on stop. With
   * `dynamodbEndpoint` and no prefix, the app takes a unique one and deletes its table on stop.
   */
  resourcePrefix?: string;
  /** Reconciler period locally (on AWS a scheduled Lambda runs every minute). Default 5 s. */
  reconcileIntervalMs?: number;
  /** Reconciler settings (how long before a due job counts as lost, index settle time). */
  reconcile?: ReconcileOptions;
  /** How often a running job's record is read to notice a cancel elsewhere. Default 5 s. */
  runCheckIntervalMs?: number;
  /** Test hook: make the type index lag this many ms, as a GSI on AWS may. */
  simulateIndexLagMs?: number;
  /** Counts every AWS request by operation (the bench uses it). */
  requestCounter?: RequestCounter;
  /** First delay before a failed message comes back (doubling per receive). Default 10 s. */
  redeliveryDelaySeconds?: number;
  /** The lanes' visibility timeout locally (default: as on AWS, 6 x the function timeout). */
  visibilityTimeoutSeconds?: number;
  /** Test hook: fail chosen AWS calls (`"SQS.SendMessage"`...) by returning an error. */
  injectFault?: FaultInjector;
  /**
   * `"manual"`: the stack's time stands still until a test moves it through `app.local.clock`
   * (`advance(ms)`, `set(instant)`); the scheduler, the lifecycle and the lanes' delays all
   * read it (lib/local/clock.ts says what stays real time). Default `"real"`.
   */
  clock?: "real" | "manual";
}

/**
 * The memory backend, for a team's tests only: the job table, the lanes and the scheduler in
 * this process's memory (lib/memory/), consumed in process by the same dispatcher. No Java, no
 * server, no AWS. Job records vanish with the process, nothing is shared with another process
 * (so `bgjobs` cannot reach it), and AWS's own behaviour (index lag, at-least-once duplicates,
 * throttling) is not reproduced. Refused inside Lambda and beside a deployment's variables.
 */
export interface MemoryBackendOptions {
  /**
   * `"manual"`: time stands still until the test moves it through the backend's clock
   * (`app.memory.clock.advance(ms)`): due times, retry waits, leases and the schedules all
   * read it. Default `"real"`.
   */
  clock?: "real" | "manual";
  /** The manual clock's first instant (epoch ms or a Date). Default: now. */
  startAt?: number | Date;
  /** No output at all. By default only warnings and errors are written (to stderr). */
  quiet?: boolean;
  /** Reconciler period on the backend's clock. Default 60 s, as the scheduled Lambda runs. */
  reconcileIntervalMs?: number;
}

/** A deployment's resources (lib/stack.ts), and how to reach them. */
export interface AwsBackendOptions extends StackResources {
  credentials?: { accessKeyId: string; secretAccessKey: string };
  requestCounter?: RequestCounter;
}

export interface BackendOptions {
  /**
   * `{ local: {...} }` runs the embedded local stack; `{ aws: {...} }` talks to AWS;
   * `{ memory: {...} }` runs in this process's memory, for tests. Omitted: the memory backend
   * when `JOBS_BACKEND=memory`, else AWS, from the environment the CDK construct sets.
   */
  backgroundJobs?: {
    local?: LocalBackendOptions;
    aws?: AwsBackendOptions;
    memory?: MemoryBackendOptions;
  };
  /** Job metrics; in Lambda, CloudWatch EMF through Powertools (namespace `JOBS_METRICS_NAMESPACE`). */
  metrics?: JobMetrics;
  logger?: JobLogger;
  /** Purge-after days by job type (the plugins' cleanup rules). */
  cleanup?: ReadonlyMap<string, number>;
  /** Tenant key path by job type (the plugins' tenant rules); others use `data.shopId`. */
  tenants?: ReadonlyMap<string, string>;
  /**
   * Job types that run on the API servers: their jobs travel on the server lane, which this
   * process consumes by long polling once it consumes at all (never in Lambda). Default:
   * `JOBS_SERVER_TYPES`, else none. The functions must be given the same (the construct's
   * `serverTypes` sets it on them).
   */
  serverTypes?: readonly string[];
  /** The server lane's long-poll wait in seconds. Default 20 (the SQS maximum); tests shorten it. */
  serverLaneWaitSeconds?: number;
}
