/**
 * The job table as every statement family sees it (client, name, clock), and the few calls
 * they share: paged queries, batched reads, and telling a failed condition from an error.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_SIZE = 100;

export interface JobTableOptions {
  tableName: string;
  /**
   * Test hook: hide jobs created less than this many ms ago from index queries, as a lagging
   * GSI on AWS would (DynamoDB Local's indexes are always current).
   */
  simulateIndexLagMs?: number;
  /** The clock for TTL and the index-lag hook (epoch ms); default `Date.now`. */
  now?: () => number;
}

/** What each statement takes: the client, the table's name, and the clock. */
export interface JobTable {
  client: DynamoDBDocumentClient;
  name: string;
  now: () => number;
  /** See `JobTableOptions.simulateIndexLagMs`; 0 on AWS. */
  indexLagMs: number;
}

/**
 * The table handle for these options.
 *
 * @example const table = jobTableOf(clients.documents, { tableName: "local-jobs" });
 */
export function jobTableOf(client: DynamoDBDocumentClient, options: JobTableOptions): JobTable {
  return {
    client,
    name: options.tableName,
    now: options.now ?? Date.now,
    indexLagMs: options.simulateIndexLagMs ?? 0,
  };
}

export type QueryInput = Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">;

/** Every item a query matches, page after page. */
export async function queryAll(
  table: JobTable,
  input: QueryInput,
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(
      new QueryCommand({ ...input, TableName: table.name, ExclusiveStartKey }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** Items by id with `BatchGetItem` (100 keys a call, unprocessed keys asked again). */
export async function readItems(
  table: JobTable,
  ids: readonly string[],
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for (let start = 0; start < ids.length; start += BATCH_GET_SIZE) {
    let keys: Array<Record<string, unknown>> | undefined = ids
      .slice(start, start + BATCH_GET_SIZE)
      .map((id) => ({ _id: id }));
    for (let attempt = 0; keys && keys.length > 0; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const { Responses, UnprocessedKeys }: BatchGetCommandOutput = await table.client.send(
        new BatchGetCommand({
          RequestItems: { [table.name]: { Keys: keys, ConsistentRead: true } },
        }),
      );
      items.push(...(Responses?.[table.name] ?? []));
      keys = UnprocessedKeys?.[table.name]?.Keys;
    }
  }
  return items;
}

/** Did a write fail on its condition (a result, not an error)? */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";
}

/** The item as it was, from a failed condition asked for `ReturnValuesOnConditionCheckFailure`. */
export function oldItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}
