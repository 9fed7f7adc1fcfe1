import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  deadLetterQueueName,
  jobTable,
  LANES,
  type LaneName,
  lanes,
  type ResourceNames,
} from "../resources.ts";

export interface LaneQueues {
  queueUrls: Record<LaneName, string>;
  queueArns: Record<LaneName, string>;
  deadLetterUrls: Record<LaneName, string>;
}

/**
 * Creates the job table from `lib/resources.ts` if it does not exist (the local stack's
 * provisioning; on AWS the CDK construct creates the same table).
 */
export async function ensureJobTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as Error).name !== "ResourceNotFoundException") throw error;
  }
  const { openByType, due } = jobTable.indexes;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: jobTable.partitionKey, KeyType: "HASH" }],
      AttributeDefinitions: [
        { AttributeName: jobTable.partitionKey, AttributeType: "S" },
        { AttributeName: openByType.partitionKey, AttributeType: "S" },
        { AttributeName: openByType.sortKey, AttributeType: "N" },
        { AttributeName: due.partitionKey, AttributeType: "S" },
        { AttributeName: due.sortKey, AttributeType: "N" },
      ],
      GlobalSecondaryIndexes: [openByType, due].map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" as const },
          { AttributeName: index.sortKey, KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "KEYS_ONLY" as const },
      })),
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: jobTable.ttlAttribute, Enabled: true },
    }),
  );
}

/** Creates each lane queue with its DLQ and redrive policy (idempotent). */
export async function ensureLaneQueues(
  client: SQSClient,
  names: ResourceNames,
  visibilityTimeoutSeconds: number = lanes.visibilityTimeoutSeconds,
): Promise<LaneQueues> {
  const result: LaneQueues = {
    queueUrls: {} as Record<LaneName, string>,
    queueArns: {} as Record<LaneName, string>,
    deadLetterUrls: {} as Record<LaneName, string>,
  };
  for (const lane of LANES) {
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
