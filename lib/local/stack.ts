import { join } from "node:path";
import {
  type AwsClients,
  createClients,
  type FaultInjector,
  type RequestCounter,
} from "../aws/clients.ts";
import { ensureJobTable, ensureLaneQueues, type LaneQueues } from "../aws/provision.ts";
import type { LaneName } from "../resources.ts";
import { resourceNames } from "../resources.ts";
import { startDynamoDbLocal } from "./dynamodb-local.ts";
import { startLocalSqs } from "./sqs-server.ts";

export const LOCAL_REGION = "us-east-1";
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** What `app.local` tells: where the servers are, so any AWS client can inspect them. */
export interface LocalStackInfo {
  endpoints: { dynamodb: string; sqs: string };
  tableName: string;
  queueUrls: Record<LaneName, string>;
  deadLetterQueueUrls: Record<LaneName, string>;
  region: string;
}

export interface LocalStack extends LocalStackInfo {
  clients: AwsClients;
  queues: LaneQueues;
  stop(): Promise<void>;
}

/**
 * Starts the embedded local AWS stack: DynamoDB Local (persisting under `dataDir`) and fauxqs,
 * both on loopback, then provisions the table and lanes from `lib/resources.ts`.
 */
export async function startLocalStack(options: {
  dataDir?: string;
  requestCounter?: RequestCounter;
  injectFault?: FaultInjector;
}): Promise<LocalStack> {
  const [dynamo, sqsServer] = await Promise.all([
    startDynamoDbLocal(options.dataDir ? { dbPath: join(options.dataDir, "dynamodb") } : {}),
    startLocalSqs(),
  ]);
  try {
    const names = resourceNames("local");
    const clients = createClients({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoints: { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint },
      ...(options.requestCounter ? { requestCounter: options.requestCounter } : {}),
      ...(options.injectFault ? { injectFault: options.injectFault } : {}),
    });
    await ensureJobTable(clients.dynamodb, names.tableName);
    const queues = await ensureLaneQueues(clients.sqs, names);
    return {
      endpoints: { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint },
      tableName: names.tableName,
      queueUrls: queues.queueUrls,
      deadLetterQueueUrls: queues.deadLetterUrls,
      region: LOCAL_REGION,
      clients,
      queues,
      stop: async () => {
        clients.dynamodb.destroy();
        clients.sqs.destroy();
        await Promise.all([dynamo.stop(), sqsServer.stop()]);
      },
    };
  } catch (error) {
    await Promise.all([dynamo.stop(), sqsServer.stop()]);
    throw error;
  }
}
