/**
 * The one place a deployment's resources become the job system's adapters: the DynamoDB job
 * table, the SQS lanes, the EventBridge schedules and the dead-letter redrive. The runtime
 * (lib/backend.ts) and `bgjobs` (lib/ops/connect.ts) both build them here.
 */
import type { AwsClients } from "../aws/clients.ts";
import { DynamoJobStore } from "../aws/dynamo/job-store.ts";
import { SqsLanes } from "../aws/lanes.ts";
import { S3Payloads } from "../aws/payloads.ts";
import { type RedriveReport, redriveDeadLetterQueues } from "../aws/redrive.ts";
import { EventBridgeSchedules } from "../aws/schedules.ts";
import { JobValidationError } from "../errors.ts";
import { ClaimCheckedStore } from "../jobs/claim-check.ts";
import type { JobDeps } from "../jobs/deps.ts";
import { envNames } from "../names.ts";
import { type JobLane, LANES } from "../resources.ts";
import type { StackResources } from "../stack.ts";

/** The ports `createJobSystem` takes for a deployment: its job table, its lanes and, if it has a schedule group, its schedules. */
export type StackAdapters = Pick<JobDeps, "store" | "lanes" | "schedules">;

/**
 * The job table, lanes and schedules of a deployment, over `clients`. Schedules only when the
 * resources name a schedule group and its role (without, long waits hop through the lanes).
 *
 * @example createJobSystem({ ...adaptersFor(clients, resources), logger, cleanup: new Map() })
 */
export function adaptersFor(
  clients: AwsClients,
  resources: StackResources,
  options: { simulateIndexLagMs?: number; now?: () => number } = {},
): StackAdapters {
  const { tableName, queueUrls, scheduleGroup, schedulerRoleArn, payloadBucket } = resources;
  const table = new DynamoJobStore(clients.documents, {
    tableName,
    ...(options.now ? { now: options.now } : {}),
    ...(options.simulateIndexLagMs ? { simulateIndexLagMs: options.simulateIndexLagMs } : {}),
  });
  return {
    // `data` too large for a record goes to the payload bucket (refused without one).
    store: new ClaimCheckedStore(
      table,
      payloadBucket ? new S3Payloads(clients.s3, payloadBucket) : undefined,
    ),
    lanes: new SqsLanes(clients.sqs, queueUrls),
    ...(scheduleGroup && schedulerRoleArn
      ? {
          schedules: new EventBridgeSchedules(clients.scheduler, {
            groupName: scheduleGroup,
            roleArn: schedulerRoleArn,
            queueUrls,
          }),
        }
      : {}),
  };
}

/**
 * Empties a deployment's dead-letter queues into `deps`' store and lanes: live jobs go back
 * on their lanes, poison and finished jobs are dropped; the report says which. Refused,
 * naming the variables to set, when the resources do not name the dead-letter queues.
 *
 * @example await redriveDeadLetters(clients, resources, system.deps, { only: ["low"] })
 */
export function redriveDeadLetters(
  clients: AwsClients,
  resources: StackResources,
  deps: Pick<JobDeps, "store" | "lanes" | "serverTypes">,
  options: { only?: readonly JobLane[]; onMessage?: (done: number) => void } = {},
): Promise<RedriveReport> {
  const { deadLetterQueueUrls } = resources;
  if (!deadLetterQueueUrls) {
    throw new JobValidationError(
      "deadLetterQueueUrls",
      `are not known for this stack (set ${LANES.map((lane) => envNames.deadLetterQueueUrl(lane)).join(", ")})`,
    );
  }
  return redriveDeadLetterQueues({
    sqs: clients.sqs,
    deadLetterQueueUrls,
    store: deps.store,
    lanes: deps.lanes,
    placement: deps,
    ...(options.only ? { only: options.only } : {}),
    ...(options.onMessage ? { onMessage: options.onMessage } : {}),
  });
}
