import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateScheduleGroupCommand } from "@aws-sdk/client-scheduler";
import {
  type AwsClients,
  createClients,
  type FaultInjector,
  type RequestCounter,
} from "../aws/clients.ts";
import { purgeRemovedPayloads } from "../aws/payload-purge.ts";
import { S3Payloads } from "../aws/payloads.ts";
import { ensureJobTable, ensureLaneQueues, type LaneQueues } from "../aws/provision.ts";
import type { LaneQueue } from "../jobs/deps.ts";
import type { JobLogger } from "../log.ts";
import { payloadBucketName } from "../names.ts";
import { resourceNames } from "../resources.ts";
import { LOCAL_CREDENTIALS, type LocalStackInfo } from "../stack.ts";
import { type LocalClock, ManualClock, realLocalClock } from "./clock.ts";
import { type DynamoDbLocal, startDynamoDbLocal } from "./dynamodb-local.ts";
import { ClockHeldLanes } from "./held-lanes.ts";
import { mirrorPayloads, restorePayloads } from "./payload-mirror.ts";
import { startLocalScheduler } from "./scheduler/server.ts";
import { startLocalSqs } from "./sqs-server.ts";
import { readTableStream, type TableStreamReader } from "./table-stream.ts";

export const LOCAL_REGION = "us-east-1";
export const LOCAL_SCHEDULE_GROUP = "local-jobs";
/** Stands in for the role the CDK construct creates; the local scheduler does not check it. */
export const LOCAL_SCHEDULER_ROLE = "arn:aws:iam::000000000000:role/local-jobs-scheduler";

export interface LocalStack extends LocalStackInfo {
  clients: AwsClients;
  queues: LaneQueues;
  /**
   * The app's lanes with their `DelaySeconds` on the stack's clock: as given on real time,
   * held on a manual clock (fauxqs cannot delay in virtual time; see held-lanes.ts).
   */
  lanesOnClock(lanes: LaneQueue): LaneQueue;
  stop(): Promise<void>;
}

/**
 * Starts the embedded local AWS stack on loopback: DynamoDB Local (persisting under
 * `dataDir`), fauxqs (SQS, and S3 for the payload bucket), and the local EventBridge
 * Scheduler (its schedules kept under `dataDir` too); then provisions the table, lanes,
 * payload bucket and schedule group, and reads the table's stream to purge the payloads of
 * removed records, as the construct's purger Lambda does.
 *
 * With `dynamodbEndpoint` it starts no DynamoDB Local but makes its table on that server:
 * `${resourcePrefix}-jobs`, kept on stop, or under a unique prefix when none is given,
 * deleted on stop, so apps sharing one server never see each other's jobs.
 *
 * @example const stack = await startLocalStack({ logger, dynamodbEndpoint: "http://127.0.0.1:8000" });
 */
export async function startLocalStack(options: {
  dataDir?: string;
  dynamodbEndpoint?: string;
  resourcePrefix?: string;
  requestCounter?: RequestCounter;
  injectFault?: FaultInjector;
  visibilityTimeoutSeconds?: number;
  logger: JobLogger;
  /** `"manual"`: time moves only when a test moves it (`clock.advance`); default real time. */
  clock?: "real" | "manual";
}): Promise<LocalStack> {
  const clock: LocalClock = options.clock === "manual" ? new ManualClock() : realLocalClock;
  const held: ClockHeldLanes[] = [];
  const [dynamo, sqsServer] = await Promise.all([
    options.dynamodbEndpoint
      ? existingDynamoDb(options.dynamodbEndpoint)
      : startDynamoDbLocal(options.dataDir ? { dbPath: join(options.dataDir, "dynamodb") } : {}),
    startLocalSqs(),
  ]);
  // A table on a shared server that nobody named is this app's alone: it goes when the app does.
  const ownsTable = options.dynamodbEndpoint !== undefined && !options.resourcePrefix;
  const prefix =
    options.resourcePrefix ?? (ownsTable ? `local-${randomUUID().slice(0, 8)}` : "local");
  let scheduler: Awaited<ReturnType<typeof startLocalScheduler>> | undefined;
  let purger: TableStreamReader | undefined;
  try {
    const names = resourceNames(prefix);
    const payloadBucket = payloadBucketName(prefix);
    // The scheduler and the payload purger call with their own clients, so injected faults
    // hit only the app's calls.
    const deliveryClients = createClients({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoints: { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint, s3: sqsServer.endpoint },
    });
    scheduler = await startLocalScheduler({
      sqs: deliveryClients.sqs,
      region: LOCAL_REGION,
      logger: options.logger,
      clock,
      ...(options.dataDir
        ? { stateFile: join(options.dataDir, "scheduler", "schedules.json") }
        : {}),
    });
    const endpoints = {
      dynamodb: dynamo.endpoint,
      sqs: sqsServer.endpoint,
      scheduler: scheduler.endpoint,
      s3: sqsServer.endpoint,
    };
    const clients = createClients({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoints,
      ...(options.requestCounter ? { requestCounter: options.requestCounter } : {}),
      ...(options.injectFault ? { injectFault: options.injectFault } : {}),
    });
    await ensureJobTable(clients.dynamodb, names.tableName);
    await clients.s3.send(new CreateBucketCommand({ Bucket: payloadBucket })).catch((error) => {
      if (!["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(error.name)) throw error;
    });
    const payloads = new S3Payloads(deliveryClients.s3, payloadBucket);
    // fauxqs keeps objects in memory: with a data folder, payloads are kept there too.
    const kept = options.dataDir ? join(options.dataDir, "payloads") : undefined;
    if (kept) await restorePayloads(kept, payloads);
    purger = await readTableStream({
      dynamodb: deliveryClients.dynamodb,
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      tableName: names.tableName,
      logger: options.logger,
      onRecords: async (records) => {
        await purgeRemovedPayloads(records, payloads);
        if (kept) await mirrorPayloads(kept, payloads, records);
      },
      // Only a removed record that had a payload needs the purge: while the bucket is empty
      // (fauxqs, in process) the stream is left unread. Every app of the test suite has a
      // table on the one shared DynamoDB Local, whose stream reads all go through one SQLite
      // thread: reading each idle table's stream every second slowed the whole suite.
      worthReading: () => payloads.holdsAny(),
    });
    const queues = await ensureLaneQueues(clients.sqs, names, options.visibilityTimeoutSeconds);
    await clients.scheduler
      .send(new CreateScheduleGroupCommand({ Name: LOCAL_SCHEDULE_GROUP }))
      .catch((error: Error) => {
        if (error.name !== "ConflictException") throw error;
      });
    const started = scheduler;
    const reading = purger;
    return {
      endpoints,
      tableName: names.tableName,
      queueUrls: queues.queueUrls,
      deadLetterQueueUrls: queues.deadLetterUrls,
      region: LOCAL_REGION,
      clients,
      queues,
      scheduleGroup: LOCAL_SCHEDULE_GROUP,
      schedulerRoleArn: LOCAL_SCHEDULER_ROLE,
      payloadBucket,
      clock,
      lanesOnClock: (lanes) => {
        if (clock.mode === "real") return lanes;
        const onClock = new ClockHeldLanes(lanes, clock);
        held.push(onClock);
        return onClock;
      },
      stop: async () => {
        for (const lanes of held) lanes.stop();
        await Promise.all([started.stop(), reading.stop()]);
        if (ownsTable) {
          // Best effort: a server already stopped took the table with it.
          await clients.dynamodb
            .send(new DeleteTableCommand({ TableName: names.tableName }))
            .catch(() => {});
        }
        for (const client of [
          clients.dynamodb,
          clients.sqs,
          clients.scheduler,
          clients.s3,
          deliveryClients.dynamodb,
          deliveryClients.sqs,
          deliveryClients.s3,
        ])
          client.destroy();
        await Promise.all([dynamo.stop(), sqsServer.stop()]);
      },
    };
  } catch (error) {
    await Promise.all([scheduler?.stop(), purger?.stop()]);
    await Promise.all([dynamo.stop(), sqsServer.stop()]);
    throw error;
  }
}

/** A DynamoDB someone else runs: nothing to start, nothing to stop. */
async function existingDynamoDb(endpoint: string): Promise<DynamoDbLocal> {
  return { endpoint, stop: async () => {} };
}
