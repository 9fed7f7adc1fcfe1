/**
 * The one definition of the system's AWS resources. The embedded local stack provisions
 * exactly this, and the CDK construct builds the same table and queues from it, so a table
 * or a queue can never differ between a laptop and an account.
 */

/** A priority lane: one SQS standard queue (plus its DLQ) per lane. */
export type LaneName = "critical" | "normal" | "low";

/** Lanes in the order the local poller reads them: higher priority first. */
export const LANES: readonly LaneName[] = ["critical", "normal", "low"];

/**
 * The server lane: one SQS standard queue (plus its DLQ) for the job types placed on the API
 * servers (`JOBS_SERVER_TYPES`, the construct's `serverTypes`), which the servers consume by
 * long polling. No Lambda reads it. One queue for every priority: jobs on it start in about
 * the order they arrive, priority orders nothing there (see lib/jobs/placement.ts).
 */
export const SERVER_LANE = "server";
export type ServerLaneName = typeof SERVER_LANE;

/** Any queue a job's message travels on: a priority lane (Lambda) or the server lane. */
export type JobLane = LaneName | ServerLaneName;

/** Every queue of a deployment, the server lane last. */
export const JOB_LANES: readonly JobLane[] = [...LANES, SERVER_LANE];

/**
 * Queue URLs by lane. The server lane's is optional: a deployment without server types has
 * none (the local stack always has one).
 */
export type LaneUrls = Record<LaneName, string> & Partial<Record<ServerLaneName, string>>;

/** How an index projects the table's attributes (the CDK construct and provisioning read it). */
export type IndexProjection =
  | { type: "KEYS_ONLY" }
  | { type: "INCLUDE"; attributes: readonly string[] };

/** A global secondary index: string partition key, number sort key. */
export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  projection: IndexProjection;
}

export const jobTable = {
  /** Partition key: the job's `_id`. */
  partitionKey: "_id",
  /** TTL attribute (epoch seconds): set when a job of a type with a cleanup rule ends. */
  ttlAttribute: "expiresAt",
  /**
   * The table's stream: each removed record's old image, however it went (`job.remove()`,
   * an operator, TTL), so the payload purger deletes its claim-checked `data` (the Lambda
   * reads it on AWS, the local stack polls it: lib/aws/payload-purge.ts both ways).
   */
  streamViewType: "OLD_IMAGE",
  indexes: {
    /**
     * Sparse: every job that is not finished (ready, waiting, running, paused), by the instant
     * it is due. `openKey` = `${type}#${shard}` over `openShards` shards, written once at
     * insert; `dueAt` is set while the job is open and removed when it ends, so a job enters
     * the index once and leaves it once (two index writes), and a claim moves nothing (a
     * running job keeps the `dueAt` it was claimed at; the reconciler reads its lease). A
     * paused job is due never (`NEVER_DUE`). `cancelJobs` and `resume()` read a type's shards
     * (a tenant's, for a filter on the tenant key); the reconciler reads the ones due before
     * the delivery front (see `lib/jobs/reconcile.ts`). Cancel logs sit in one partition of
     * their own, `CANCEL_LOGS_KEY`, due at their oldest request. Reserved ids and keys:
     * `lib/jobs/keys.ts`.
     */
    open: {
      name: "open",
      partitionKey: "openKey",
      sortKey: "dueAt",
      projection: { type: "INCLUDE", attributes: ["tenant", "created"] },
    },
    /**
     * Every job, finished ones too, for listing (operator tools): `typeKey` = `${type}#${shard}`
     * over `typeShards` shards, newest first by `created`. Written once, at insert, and never
     * moved: one index write per job. A job with a tenant sits in `tenantShards` consecutive
     * shards chosen by its tenant, so one tenant's jobs of a type are read from 4 partitions,
     * while a busy type still spreads over 16. Projects `tenant`, so a listing by tenant
     * filters on the index before reading any record.
     */
    byType: {
      name: "byType",
      partitionKey: "typeKey",
      sortKey: "created",
      projection: { type: "INCLUDE", attributes: ["tenant"] },
    },
  } satisfies Record<string, IndexDefinition>,
  /** Shards of each type in the `open` index (see `openKeyFor` in `lib/jobs/keys.ts`). */
  openShards: 32,
  /** Of those, how many one tenant's open jobs of a type spread over. */
  openTenantShards: 8,
  /** Shards of each type in the `byType` index (see `typeKeyFor` in `lib/jobs/keys.ts`). */
  typeShards: 16,
  /** Of those, how many one tenant's jobs of a type spread over. */
  tenantShards: 4,
} as const;

/** Every index of the job table, as provisioning and the CDK construct create them. */
export const JOB_TABLE_INDEXES: readonly IndexDefinition[] = Object.values(jobTable.indexes);

export const lanes = {
  /** SQS caps per-message `DelaySeconds` at 900. */
  maxDelaySeconds: 900,
  /** The dispatcher Lambda's timeout; the queue's visibility timeout is 6 times it (AWS advice). */
  functionTimeoutSeconds: 900,
  visibilityTimeoutSeconds: 6 * 900,
  /** Long-poll wait, in seconds (20 is the SQS maximum); the server lane's consumers use it. */
  receiveWaitSeconds: 20,
  /**
   * Receives of one message before SQS moves it to the lane's DLQ. Retries never redeliver a
   * message (a retry is a new, delayed message), and putting a message back on purpose never
   * happens, so only a message that keeps failing (poison) or a dispatcher that keeps crashing
   * reaches this count.
   */
  maxReceiveCount: 5,
  /** DLQ retention: the SQS maximum, 14 days, so there is time to redrive. */
  dlqRetentionSeconds: 14 * 24 * 3600,
  /** Messages per Lambda batch. */
  batchSize: 10,
} as const;

/** Physical names for one deployment (or one local stack), derived from a prefix. */
export interface ResourceNames {
  tableName: string;
  /** Queue name per lane, the server lane's too; the DLQ of a lane is `${name}-dlq`. */
  queueNames: Record<JobLane, string>;
}

/** Names derived from a prefix: `${prefix}-jobs`, `${prefix}-critical`, ..., `${prefix}-server` */
export function resourceNames(prefix: string): ResourceNames {
  return {
    tableName: `${prefix}-jobs`,
    queueNames: {
      critical: `${prefix}-critical`,
      normal: `${prefix}-normal`,
      low: `${prefix}-low`,
      server: `${prefix}-server`,
    },
  };
}

export function deadLetterQueueName(queueName: string): string {
  return `${queueName}-dlq`;
}

/**
 * How long a run may take in Lambda. `addWorker` refuses a `workTimeout` over the function's
 * timeout less `registerMarginMs`, and the dispatcher starts a run only while the invocation
 * has its `workTimeout` plus `startMarginMs` left (the claim, the settling write). The gap
 * between the two margins covers a cold start and the batch's own reads, so any worker that
 * registers can start in a fresh invocation.
 */
export const RUN_TIME_RULE = { registerMarginMs: 30_000, startMarginMs: 5_000 } as const;
