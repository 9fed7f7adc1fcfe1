/**
 * The index reads: the `open` index (a type's unfinished jobs; jobs due before an instant) and
 * the `byType` index's shard pages, which `lib/jobs/list/` merges into `listJobs` pages.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { ShardPage, ShardRead } from "../../jobs/deps.ts";
import { openKeysToRead } from "../../jobs/keys.ts";
import { jobTable } from "../../resources.ts";
import { type JobTable, queryAll } from "./table.ts";

/** A type's unfinished jobs from all its `open` shards (a tenant's only), oldest first. */
export async function openJobsOfType(
  table: JobTable,
  type: string,
  tenant?: string,
): Promise<Array<{ _id: string; created: number }>> {
  const { name, partitionKey } = jobTable.indexes.open;
  const shards = openKeysToRead(type, tenant).map((key) =>
    queryAll(table, {
      IndexName: name,
      KeyConditionExpression: "#pk = :key",
      ...(tenant === undefined ? {} : { FilterExpression: "#tenant = :tenant" }),
      ExpressionAttributeNames: {
        "#pk": partitionKey,
        ...(tenant === undefined ? {} : { "#tenant": "tenant" }),
      },
      ExpressionAttributeValues: {
        ":key": key,
        ...(tenant === undefined ? {} : { ":tenant": tenant }),
      },
    }),
  );
  const visibleBefore = table.now() - table.indexLagMs;
  return (await Promise.all(shards))
    .flat()
    .map((item) => ({ _id: item._id as string, created: item.created as number }))
    .filter((item) => item.created <= visibleBefore)
    .sort((a, b) => a.created - b.created);
}

/** One page of one `open` partition: ids due at or before `before`; `next` continues it. */
export async function dueIn(
  table: JobTable,
  openKey: string,
  before: number,
  next?: string,
): Promise<{ ids: string[]; next?: string }> {
  const { name, partitionKey, sortKey } = jobTable.indexes.open;
  const page = await table.client.send(
    new QueryCommand({
      TableName: table.name,
      IndexName: name,
      KeyConditionExpression: "#pk = :key AND #sk <= :before",
      ExpressionAttributeNames: { "#pk": partitionKey, "#sk": sortKey },
      ExpressionAttributeValues: { ":key": openKey, ":before": before },
      ...(next === undefined ? {} : { ExclusiveStartKey: JSON.parse(next) }),
    }),
  );
  const ids = (page.Items ?? []).map((item) => item._id as string);
  return page.LastEvaluatedKey ? { ids, next: JSON.stringify(page.LastEvaluatedKey) } : { ids };
}

/** One Query of one `byType` shard, newest first. */
export async function readShard(table: JobTable, read: ShardRead): Promise<ShardPage> {
  const { name, partitionKey, sortKey } = jobTable.indexes.byType;
  const page = await table.client.send(
    new QueryCommand({
      TableName: table.name,
      IndexName: name,
      KeyConditionExpression: "#pk = :key AND #sk BETWEEN :from AND :to",
      ...(read.tenant === undefined ? {} : { FilterExpression: "#tenant = :tenant" }),
      ExpressionAttributeNames: {
        "#pk": partitionKey,
        "#sk": sortKey,
        ...(read.tenant === undefined ? {} : { "#tenant": "tenant" }),
      },
      ExpressionAttributeValues: {
        ":key": read.typeKey,
        ":from": read.from,
        ":to": read.to,
        ...(read.tenant === undefined ? {} : { ":tenant": read.tenant }),
      },
      ScanIndexForward: false,
      Limit: read.limit,
      ...(read.startKey === undefined
        ? {}
        : { ExclusiveStartKey: read.startKey as Record<string, unknown> }),
    }),
  );
  const entries = (page.Items ?? []).map((item) => ({
    _id: item._id as string,
    created: item.created as number,
    ...(typeof item.tenant === "string" ? { tenant: item.tenant } : {}),
  }));
  const last = page.LastEvaluatedKey;
  return {
    entries,
    evaluated: page.ScannedCount ?? entries.length,
    ...(last ? { next: { key: last, created: last[sortKey] as number } } : {}),
  };
}
