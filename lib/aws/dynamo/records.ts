/**
 * The job records' statements: one conditional write or one read each, named for the
 * lifecycle step it serves. Which index keys follow a status is `lib/jobs/index-keys.ts`'s rule;
 * this file only writes it.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { followStatus, indexKeys } from "../../jobs/index-keys.ts";
import { isReservedId } from "../../jobs/keys.ts";
import type { JobChanges, RunClaim } from "../../jobs/ports.ts";
import type { JobRecord, JobStatus } from "../../jobs/types.ts";
import { decodeItem, encodeItem, encodeValue } from "./codec.ts";
import { isConditionFailure, type JobTable, oldItem, readItems } from "./table.ts";
import { type ExpressionParams, statusIn, Update } from "./update.ts";

/** Writes a new job with its index keys, unless a job with its id exists. */
export async function insertJob(
  table: JobTable,
  record: JobRecord,
): Promise<"inserted" | "exists"> {
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.name,
        Item: encodeItem({ ...record, ...indexKeys(record) }),
        ConditionExpression: "attribute_not_exists(#id)",
        ExpressionAttributeNames: { "#id": "_id" },
      }),
    );
    return "inserted";
  } catch (error) {
    if (isConditionFailure(error)) return "exists";
    throw error;
  }
}

/** A job by id, strongly consistent; `null` for a reserved id, an unknown one or an expired one. */
export async function getJob(table: JobTable, id: string): Promise<JobRecord | null> {
  if (isReservedId(id)) return null;
  const { Item } = await table.client.send(
    new GetCommand({ TableName: table.name, Key: { _id: id }, ConsistentRead: true }),
  );
  return live(table, decodeItem(Item));
}

/** Jobs by id with `BatchGetItem`; reserved, unknown and expired ones left out. */
export async function getJobs(table: JobTable, ids: readonly string[]): Promise<JobRecord[]> {
  return (
    await readItems(
      table,
      ids.filter((id) => !isReservedId(id)),
    )
  )
    .map((item) => live(table, decodeItem(item)))
    .filter((record): record is JobRecord => record !== null);
}

/** See `JobStore.claimJob`: one update, the record as it was when the condition fails. */
export async function claimJob(
  table: JobTable,
  id: string,
  claim: RunClaim,
): Promise<{ claimed: JobRecord } | { current: JobRecord | null }> {
  if (isReservedId(id)) return { current: null };
  const update = new Update()
    .set("status", "running")
    .set("runId", claim.runId)
    .set("leaseUntil", claim.now + claim.workTimeout)
    // `dueAt` stays as it was (due already): moving an index key is billed as two writes,
    // and the reconciler finds a running job by it and then reads its lease.
    .set("workTimeout", claim.workTimeout)
    .set("updated", claim.now)
    .set("runStartedAt", claim.now)
    .add("retries", -1)
    .add("retried", 1);
  try {
    const { Attributes } = await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { _id: id },
        // A repeating job's template never runs itself: its occurrences do. A message whose
        // type disagrees with the record must not spend another type's worker slot on it.
        ...update.expression(
          "#status IN (:ready, :waiting) AND #after <= :now AND attribute_not_exists(#repeat) AND #type = :type",
          {
            names: { "#status": "status", "#after": "after", "#repeat": "repeat", "#type": "type" },
            values: {
              ":ready": "ready",
              ":waiting": "waiting",
              ":now": claim.now,
              ":type": claim.type,
            },
          },
        ),
        ReturnValues: "ALL_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { claimed: decodeItem(Attributes) as JobRecord };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return { current: live(table, decodeItem(oldItem(error))) };
  }
}

/** Ends or reschedules a run, only while `runId` holds it (fencing). */
export function settleRun(
  table: JobTable,
  id: string,
  runId: string,
  changes: JobChanges,
): Promise<JobRecord | null> {
  return conditionalUpdate(table, id, changes, "#runId = :runId AND #status = :running", {
    names: { "#runId": "runId", "#status": "status" },
    values: { ":runId": runId, ":running": "running" },
  });
}

/** Ends a run whose lease expired before `now`, only if it is still that run. */
export function expireRun(
  table: JobTable,
  id: string,
  runId: string,
  now: number,
  changes: JobChanges,
): Promise<JobRecord | null> {
  return conditionalUpdate(
    table,
    id,
    changes,
    "#runId = :runId AND #status = :running AND #leaseUntil < :now",
    {
      names: { "#runId": "runId", "#status": "status", "#leaseUntil": "leaseUntil" },
      values: { ":runId": runId, ":running": "running", ":now": now },
    },
  );
}

/** Records a repeating job's firing, pinned to the template as the caller read it. */
export async function recordFiring(
  table: JobTable,
  id: string,
  firing: { firedAt: number; status: JobStatus; previous: number | null },
  changes: JobChanges,
): Promise<JobRecord | null> {
  if (firing.previous !== null && firing.previous >= firing.firedAt) return null;
  // A pause, a resume or another firing in between wins over this one.
  const last =
    firing.previous === null ? "attribute_not_exists(#lastFiredAt)" : "#lastFiredAt = :previous";
  return conditionalUpdate(table, id, changes, `#status = :status AND ${last}`, {
    names: { "#status": "status", "#lastFiredAt": "lastFiredAt" },
    values: {
      ":status": firing.status,
      ...(firing.previous === null ? {} : { ":previous": firing.previous }),
    },
  });
}

/** Extends a run's lease (saving its progress and log), only while `runId` holds it. */
export async function heartbeat(
  table: JobTable,
  id: string,
  runId: string,
  leaseUntil: number,
  changes: Partial<JobRecord>,
): Promise<boolean> {
  const update = new Update();
  for (const [key, value] of Object.entries(changes)) {
    if (value !== undefined) update.set(key, encodeValue(key, value));
  }
  update.set("leaseUntil", leaseUntil);
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { _id: id },
        ...update.expression("#runId = :runId AND #status = :running", {
          names: { "#runId": "runId", "#status": "status" },
          values: { ":runId": runId, ":running": "running" },
        }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Moves a job between statuses, only from one of `from`. */
export function transition(
  table: JobTable,
  id: string,
  from: readonly JobStatus[],
  changes: JobChanges,
): Promise<JobRecord | null> {
  if (from.length === 0) return Promise.resolve(null); // `IN ()` is no expression
  const { clause, values } = statusIn(from);
  return conditionalUpdate(table, id, changes, clause, { names: { "#status": "status" }, values });
}

/** Deletes a job, only if its status is one of `from`. */
export async function removeJob(
  table: JobTable,
  id: string,
  from: readonly JobStatus[],
): Promise<boolean> {
  if (from.length === 0) return false;
  const { clause, values } = statusIn(from);
  try {
    await table.client.send(
      new DeleteCommand({
        TableName: table.name,
        Key: { _id: id },
        ConditionExpression: clause,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The changes, and what follows their status (`followStatus`), if `condition` holds. */
async function conditionalUpdate(
  table: JobTable,
  id: string,
  changes: JobChanges,
  condition: string,
  params: ExpressionParams,
): Promise<JobRecord | null> {
  const update = new Update();
  for (const [key, value] of Object.entries(changes)) {
    if (value !== undefined) update.set(key, encodeValue(key, value));
  }
  const followers = followStatus(changes);
  if (followers.dueAt === "after") update.setFrom("dueAt", "after");
  else if (followers.dueAt !== undefined) update.set("dueAt", followers.dueAt);
  update.remove(...followers.remove);
  try {
    const { Attributes } = await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { _id: id },
        ...update.expression(condition, params),
        ReturnValues: "ALL_NEW",
      }),
    );
    return decodeItem(Attributes);
  } catch (error) {
    if (isConditionFailure(error)) return null;
    throw error;
  }
}

/** A record, unless it is past its TTL: DynamoDB may take days to delete expired items. */
function live(table: JobTable, record: JobRecord | null): JobRecord | null {
  if (!record) return null;
  if (record.expiresAt !== undefined && record.expiresAt * 1000 <= table.now()) return null;
  return record;
}
