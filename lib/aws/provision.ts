import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  deadLetterQueueName,
  type IndexDefinition,
  JOB_LANES,
  JOB_TABLE_INDEXES,
  type JobLane,
  jobTable,
  lanes,
  type ResourceNames,
} from "../resources.ts";

/** Every lane's queue, the server lane's too (the local stack always has one). */
export interface LaneQueues {
  queueUrls: Record<JobLane, string>;
  queueArns: Record<JobLane, string>;
  deadLetterUrls: Record<JobLane, string>;
}

/**
 * Creates the job table from `lib/resources.ts` if it does not exist (the local stack's
 * provisioning; on AWS the CDK construct creates the same table). A table kept in a data
 * folder from an older version gets the indexes it lacks.
 */
export async function ensureJobTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let existing: string[] | undefined;
  let streaming = false;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    existing = (Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? "");
    streaming = Table?.StreamSpecification?.StreamEnabled === true;
  } catch (error) {
    if ((error as Error).name !== "ResourceNotFoundException") throw error;
  }
  if (existing) {
    if (!streaming) {
      // A table from before the payload purger: its stream is what the purger reads.
      await client.send(
        new UpdateTableCommand({ TableName: tableName, StreamSpecification: JOB_TABLE_STREAM }),
      );
    }
    for (const index of JOB_TABLE_INDEXES.filter((i) => !existing.includes(i.name))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributesOf([index]),
          GlobalSecondaryIndexUpdates: [{ Create: secondaryIndex(index) }],
        }),
      );
    }
    return;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: jobTable.partitionKey, KeyType: "HASH" }],
      AttributeDefinitions: [
        { AttributeName: jobTable.partitionKey, AttributeType: "S" },
        ...attributesOf(JOB_TABLE_INDEXES),
      ],
      GlobalSecondaryIndexes: JOB_TABLE_INDEXES.map(secondaryIndex),
      StreamSpecification: JOB_TABLE_STREAM,
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: jobTable.ttlAttribute, Enabled: true },
    }),
  );
}

const JOB_TABLE_STREAM = { StreamEnabled: true, StreamViewType: jobTable.streamViewType };

/** The key attributes of these indexes, each once (partition keys strings, sort keys numbers). */
function attributesOf(indexes: readonly IndexDefinition[]): AttributeDefinition[] {
  const types = new Map<string, "S" | "N">();
  for (const index of indexes) {
    types.set(index.partitionKey, "S");
    types.set(index.sortKey, "N");
  }
  return [...types].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

function secondaryIndex(index: IndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: "HASH" },
      { AttributeName: index.sortKey, KeyType: "RANGE" },
    ],
    Projection:
      index.projection.type === "INCLUDE"
        ? { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.projection.attributes] }
        : { ProjectionType: "KEYS_ONLY" },
  };
}

/** Creates each lane queue, the server lane too, with its DLQ and redrive policy (idempotent). */
export async function ensureLaneQueues(
  client: SQSClient,
  names: ResourceNames,
  visibilityTimeoutSeconds: number = lanes.visibilityTimeoutSeconds,
): Promise<LaneQueues> {
  const result: LaneQueues = {
    queueUrls: {} as Record<JobLane, string>,
    queueArns: {} as Record<JobLane, string>,
    deadLetterUrls: {} as Record<JobLane, string>,
  };
  for (const lane of JOB_LANES) {
    const name = names.queueNames[lane];
    const dlqUrl = await createQueue(client, deadLetterQueueName(name), {
      MessageRetentionPeriod: String(lanes.dlqRetentionSeconds),
    });
    const dlqArn = await queueArn(client, dlqUrl);
    const url = await createQueue(client, name, {
      VisibilityTimeout: String(visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlqArn,
        maxReceiveCount: lanes.maxReceiveCount,
      }),
    });
    result.queueUrls[lane] = url;
    result.queueArns[lane] = await queueArn(client, url);
    result.deadLetterUrls[lane] = dlqUrl;
  }
  return result;
}

async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  return QueueUrl;
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${url}`);
  return arn;
}
