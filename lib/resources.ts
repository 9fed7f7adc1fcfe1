/**
 * The one definition of the system's AWS resources. The embedded local stack provisions
 * exactly this, and the CDK construct builds the same table and queues from it, so a table
 * or a queue can never differ between a laptop and an account.
 */

/** A priority lane: one SQS standard queue (plus its DLQ) per lane. */
export type LaneName = "critical" | "normal" | "low";

/** Lanes in the order the local poller reads them: higher priority first. */
export const LANES: readonly LaneName[] = ["critical", "normal", "low"];

export const jobTable = {
  /** Partition key: the job's `_id`. */
  partitionKey: "_id",
  /** TTL attribute (epoch seconds): set when a job of a type with a cleanup rule ends. */
  ttlAttribute: "expiresAt",
  indexes: {
    /**
     * Sparse, keys only: jobs that can still be cancelled (`openType` = type, removed when the
     * job ends). `cancelJobs` and `resume()` find a type's jobs here, never by Scan. Keys only,
     * so the status changes of a running job do not write the index.
     */
    openByType: { name: "openByType", partitionKey: "openType", sortKey: "created" },
    /**
     * Sparse, keys only: every job the reconciler may have to act on, by the instant it is due
     * (a waiting job's `after`; a running job keeps the `after` it was claimed at, and the
     * reconciler reads its lease). Spread over `dueShards` partitions so one busy queue does
     * not make one hot index partition.
     */
    due: { name: "due", partitionKey: "dueShard", sortKey: "dueAt" },
  },
  dueShards: 8,
} as const;

export const lanes = {
  /** SQS caps per-message `DelaySeconds` at 900. */
  maxDelaySeconds: 900,
  /** The dispatcher Lambda's timeout; the queue's visibility timeout is 6 times it (AWS advice). */
  functionTimeoutSeconds: 900,
  visibilityTimeoutSeconds: 6 * 900,
  /** Long-poll wait, in seconds (20 is the SQS maximum). */
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
  /** Queue name per lane; the DLQ of a lane is `${name}-dlq`. */
  queueNames: Record<LaneName, string>;
}

/** Names derived from a prefix: `${prefix}-jobs`, `${prefix}-critical`, ... */
export function resourceNames(prefix: string): ResourceNames {
  return {
    tableName: `${prefix}-jobs`,
    queueNames: {
      critical: `${prefix}-critical`,
      normal: `${prefix}-normal`,
      low: `${prefix}-low`,
    },
  };
}

export function deadLetterQueueName(queueName: string): string {
  return `${queueName}-dlq`;
}
