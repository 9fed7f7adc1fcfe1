import {
  Duration,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  type RemovalPolicy,
  Stack,
  aws_s3 as s3,
  aws_scheduler as scheduler,
  aws_sqs as sqs,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import { PAYLOAD_PREFIX } from "../../lib/jobs/payload.ts";
import { scheduleGroupName } from "../../lib/names.ts";
import {
  JOB_TABLE_INDEXES,
  type JobLane,
  jobTable,
  LANES,
  type LaneName,
  lanes as laneSettings,
  SERVER_LANE,
} from "../../lib/resources.ts";

/** What the jobs live in: the table, the lanes and their DLQs, the schedule group and its role. */
export interface JobResources {
  readonly table: dynamodb.TableV2;
  readonly queues: Record<LaneName, sqs.Queue>;
  readonly deadLetterQueues: Record<LaneName, sqs.Queue>;
  /**
   * The server lane, when the construct has `serverTypes`: a queue and DLQ the API servers
   * consume by long polling. No Lambda reads it.
   */
  readonly serverLane?: ServerLane;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  /** `data` too large for a record (a claim check, lib/jobs/payload.ts), under `data/`. */
  readonly payloadBucket: s3.Bucket;
}

/** The server lane's queue and its DLQ. */
export interface ServerLane {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/** A lane's queue and DLQ, under the lane's name. */
export interface LaneQueuePair {
  lane: JobLane;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

/**
 * Every lane's queue and DLQ: the priority lanes, then the server lane when there is one.
 *
 * @example for (const { lane, queue } of laneQueues(resources)) grant(queue);
 */
export function laneQueues(resources: JobResources): LaneQueuePair[] {
  const pairs: LaneQueuePair[] = LANES.map((lane) => ({
    lane,
    queue: resources.queues[lane],
    deadLetterQueue: resources.deadLetterQueues[lane],
  }));
  if (resources.serverLane) pairs.push({ lane: SERVER_LANE, ...resources.serverLane });
  return pairs;
}

/** The settings the resources take from the construct's props (defaults already applied). */
export interface JobResourceSettings {
  /** What happens to the job table (and the payload bucket) when the stack is deleted. */
  removalPolicy: RemovalPolicy;
  /** The dispatcher's timeout: the lanes' visibility timeout follows it. */
  dispatcherTimeout: Duration;
  /** Create the server lane (the construct has `serverTypes`). */
  serverLane: boolean;
}

/** SQS's longest visibility timeout. */
const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);

/**
 * A lane's visibility timeout for a dispatcher timeout: 6 times it, AWS's advice for a queue
 * an SQS event source reads (a batch the function throttles or retries is not re-delivered
 * while it may still run), capped at SQS's 12 hours.
 *
 * @example laneVisibilityTimeout(Duration.minutes(15)) // 90 minutes
 */
export function laneVisibilityTimeout(dispatcherTimeout: Duration): Duration {
  return Duration.seconds(
    Math.min(6 * dispatcherTimeout.toSeconds(), MAX_VISIBILITY_TIMEOUT.toSeconds()),
  );
}

/**
 * The construct's stateful resources, from `lib/resources.ts` (the definition the local stack
 * provisions too): the job table with its indexes, a queue and DLQ per priority lane (SSE,
 * TLS only, redrive), the job schedule group, and the role Scheduler sends job messages with.
 *
 * @example const resources = createJobResources(this, { removalPolicy, dispatcherTimeout });
 */
export function createJobResources(scope: Construct, settings: JobResourceSettings): JobResources {
  const table = new dynamodb.TableV2(scope, "Jobs", {
    partitionKey: { name: jobTable.partitionKey, type: dynamodb.AttributeType.STRING },
    billing: dynamodb.Billing.onDemand(),
    timeToLiveAttribute: jobTable.ttlAttribute,
    // Removed records' old images: the payload purger deletes their claim-checked data.
    dynamoStream: dynamodb.StreamViewType[jobTable.streamViewType],
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: settings.removalPolicy,
    globalSecondaryIndexes: JOB_TABLE_INDEXES.map((index) => ({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: index.sortKey, type: dynamodb.AttributeType.NUMBER },
      ...(index.projection.type === "INCLUDE"
        ? {
            projectionType: dynamodb.ProjectionType.INCLUDE,
            nonKeyAttributes: [...index.projection.attributes],
          }
        : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
    })),
  });

  const queues = {} as Record<LaneName, sqs.Queue>;
  const deadLetterQueues = {} as Record<LaneName, sqs.Queue>;
  const createLane = (lane: JobLane): ServerLane => {
    const deadLetterQueue = new sqs.Queue(scope, `${laneTitle(lane)}DeadLetters`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(laneSettings.dlqRetentionSeconds),
    });
    const queue = new sqs.Queue(scope, `${laneTitle(lane)}Lane`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: laneVisibilityTimeout(settings.dispatcherTimeout),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: laneSettings.maxReceiveCount },
    });
    return { queue, deadLetterQueue };
  };
  for (const lane of LANES) {
    const created = createLane(lane);
    queues[lane] = created.queue;
    deadLetterQueues[lane] = created.deadLetterQueue;
  }
  // The same queue settings: a server's run waits for a slot and runs while the message is in flight.
  const serverLane = settings.serverLane ? createLane(SERVER_LANE) : undefined;

  const scheduleGroup = new scheduler.ScheduleGroup(scope, "Schedules", {
    scheduleGroupName: scheduleGroupName(Stack.of(scope).stackName),
  });
  // Confused-deputy guard: Scheduler may assume the role only for this account's job
  // schedule group. Scheduler's aws:SourceArn is the schedule GROUP's ARN, not a schedule's
  // (AWS: "Do not scope the aws:SourceArn statement to a specific schedule or a schedule
  // name prefix"); a schedule/<group>/* pattern would never match and every firing would fail.
  const schedulerRole = new iam.Role(scope, "SchedulerRole", {
    assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
      conditions: {
        StringEquals: {
          "aws:SourceAccount": Stack.of(scope).account,
          "aws:SourceArn": scheduleGroup.scheduleGroupArn,
        },
      },
    }),
    description: "EventBridge Scheduler puts due job messages on the lanes; nothing else",
  });
  schedulerRole.addToPolicy(
    new iam.PolicyStatement({
      actions: ["sqs:SendMessage"],
      resources: [
        ...LANES.map((lane) => queues[lane].queueArn),
        ...(serverLane ? [serverLane.queue.queueArn] : []),
      ],
    }),
  );
  return {
    table,
    queues,
    deadLetterQueues,
    ...(serverLane ? { serverLane } : {}),
    scheduleGroup,
    schedulerRole,
    payloadBucket: createPayloadBucket(scope, settings.removalPolicy),
  };
}

/**
 * The payload bucket: S3-managed encryption (SSE-S3: no key to manage or pay per request for;
 * the table and queues use AWS-owned keys too), TLS only, no public access, objects owned by
 * the bucket owner, the same removal policy as the table (a retained table keeps the data its
 * records point to). Objects are removed with their records (the payload purger); the
 * lifecycle rule clears what a failed upload leaves: incomplete multipart uploads after a day.
 */
function createPayloadBucket(scope: Construct, removalPolicy: RemovalPolicy): s3.Bucket {
  return new s3.Bucket(scope, "Payloads", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy,
    lifecycleRules: [
      {
        id: "AbortIncompleteUploads",
        prefix: PAYLOAD_PREFIX,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
}

/** The ARNs of the job schedule group's schedules (what the job grants are scoped to). */
export function schedulesArn(resources: JobResources): string {
  return Stack.of(resources.scheduleGroup).formatArn({
    service: "scheduler",
    resource: "schedule",
    resourceName: `${resources.scheduleGroup.scheduleGroupName}/*`,
  });
}

/** A lane's name as the start of its constructs' ids: `critical` -> `Critical`. */
export function laneTitle(lane: JobLane): string {
  return lane[0]?.toUpperCase() + lane.slice(1);
}
