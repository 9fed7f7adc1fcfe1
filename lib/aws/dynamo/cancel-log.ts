/**
 * A type's cancel log: one item the claims read, appended to by `cancelJobs` and trimmed by
 * the reconciler. How much it may hold (the caller's `space`), how requests are counted and how
 * long it lives are `lib/jobs/cancel-log.ts`'s rules; these are the statements.
 */
import { DeleteCommand, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { cancelLogBytes, cancelLogExpiry, remainingCancels } from "../../jobs/cancel-log.ts";
import { CANCEL_LOGS_KEY, cancelLogIdFor, typeOfCancelLog } from "../../jobs/keys.ts";
import type { CancelLogSpace, CancelRequest } from "../../jobs/ports.ts";
import { jobTable } from "../../resources.ts";
import { isConditionFailure, type JobTable, queryAll } from "./table.ts";

/** Appends a request to its type's log while the log holds at most `space.room` bytes. */
export async function recordCancel(
  table: JobTable,
  type: string,
  request: CancelRequest,
  space: CancelLogSpace,
): Promise<"recorded" | "full"> {
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { _id: cancelLogIdFor(type) },
        // `dueAt` is the oldest pending request's time, so the due index finds the log once
        // that is due. Requests arrive in time order (one from a skewed clock, older than
        // the oldest, is found at the oldest's time); `dropCancels` recomputes it exactly.
        UpdateExpression:
          "SET #cancels = list_append(if_not_exists(#cancels, :empty), :request), #openKey = :logs, #dueAt = if_not_exists(#dueAt, :at), #expiresAt = :ttl ADD #bytes :bytes, #version :one",
        ConditionExpression: "attribute_not_exists(#bytes) OR #bytes <= :room",
        ExpressionAttributeNames: {
          "#cancels": "cancels",
          "#openKey": jobTable.indexes.open.partitionKey,
          "#dueAt": "dueAt",
          "#expiresAt": jobTable.ttlAttribute,
          "#bytes": "bytes",
          "#version": "version",
        },
        ExpressionAttributeValues: {
          ":empty": [],
          ":request": [{ filter: request.filter, at: request.at }],
          ":at": request.at,
          ":logs": CANCEL_LOGS_KEY,
          ":ttl": cancelLogExpiry(request, table.now()),
          ":bytes": space.bytes,
          ":one": 1,
          ":room": space.room,
        },
      }),
    );
    return "recorded";
  } catch (error) {
    if (isConditionFailure(error)) return "full";
    throw error;
  }
}

/** The requests recorded for a type (strongly consistent). */
export async function cancelsFor(table: JobTable, type: string): Promise<CancelRequest[]> {
  return (await readCancelLog(table, type))?.cancels ?? [];
}

/**
 * Drops these requests from the type's log (deleting it once empty). Optimistic: a request
 * appended since the read bumped `version`, and this write then loses; the next pass drops them.
 */
export async function dropCancels(
  table: JobTable,
  type: string,
  applied: readonly CancelRequest[],
): Promise<void> {
  const log = await readCancelLog(table, type);
  if (!log) return;
  const remaining = remainingCancels(log.cancels, applied);
  if (remaining.length === log.cancels.length) return;
  const versionHeld =
    log.version === undefined ? "attribute_not_exists(#version)" : "#version = :version";
  const versionValue = log.version === undefined ? {} : { ":version": log.version };
  try {
    if (remaining.length === 0) {
      await table.client.send(
        new DeleteCommand({
          TableName: table.name,
          Key: { _id: cancelLogIdFor(type) },
          ConditionExpression: versionHeld,
          ExpressionAttributeNames: { "#version": "version" },
          ...(log.version === undefined ? {} : { ExpressionAttributeValues: versionValue }),
        }),
      );
      return;
    }
    await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { _id: cancelLogIdFor(type) },
        UpdateExpression:
          "SET #cancels = :remaining, #bytes = :bytes, #dueAt = :oldest ADD #version :one",
        ConditionExpression: versionHeld,
        ExpressionAttributeNames: {
          "#cancels": "cancels",
          "#bytes": "bytes",
          "#dueAt": "dueAt",
          "#version": "version",
        },
        ExpressionAttributeValues: {
          ...versionValue,
          ":remaining": remaining,
          ":bytes": cancelLogBytes(remaining),
          ":oldest": Math.min(...remaining.map((request) => request.at)),
          ":one": 1,
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Types whose log holds a request made at or before `before` (the logs' `open` partition). */
export async function typesWithCancels(table: JobTable, before: number): Promise<string[]> {
  const { name, partitionKey, sortKey } = jobTable.indexes.open;
  const items = await queryAll(table, {
    IndexName: name,
    KeyConditionExpression: "#pk = :logs AND #sk <= :before",
    ExpressionAttributeNames: { "#pk": partitionKey, "#sk": sortKey },
    ExpressionAttributeValues: { ":logs": CANCEL_LOGS_KEY, ":before": before },
  });
  return items
    .map((item) => typeOfCancelLog(item._id as string))
    .filter((type): type is string => type !== undefined);
}

async function readCancelLog(
  table: JobTable,
  type: string,
): Promise<{ cancels: CancelRequest[]; version?: number } | null> {
  const { Item } = await table.client.send(
    new GetCommand({
      TableName: table.name,
      Key: { _id: cancelLogIdFor(type) },
      ConsistentRead: true,
    }),
  );
  if (!Item) return null;
  const cancels = ((Item.cancels as CancelRequest[] | undefined) ?? []).map((request) => ({
    filter: request.filter,
    at: request.at,
  }));
  return typeof Item.version === "number" ? { cancels, version: Item.version } : { cancels };
}
