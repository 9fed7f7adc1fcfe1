import { createHash } from "node:crypto";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { CancelRecord, JobChanges, JobStore, RunClaim } from "../jobs/ports.ts";
import { type JobRecord, type JobStatus, TERMINAL } from "../jobs/types.ts";
import { jobTable } from "../resources.ts";

const TOMBSTONE_PREFIX = "#cancels#";
/** How long a tombstone outlives its last request, as a TTL safety net. */
const TOMBSTONE_TTL_SECONDS = 24 * 3600;

export interface JobTableOptions {
  tableName: string;
  /**
   * Test hook: hide jobs created less than this many ms ago from index queries, as a lagging
   * GSI on AWS would (DynamoDB Local's indexes are always current).
   */
  simulateIndexLagMs?: number;
}

/**
 * The job table on DynamoDB: one conditional statement per lifecycle step. Attribute names
 * are always aliased (`status`, `data`, `type`... are reserved words).
 */
export class DynamoJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: JobTableOptions,
  ) {}

  private get table(): string {
    return this.options.tableName;
  }

  async insertJob(record: JobRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...record, ...indexKeys(record) },
        ConditionExpression: "attribute_not_exists(#id)",
        ExpressionAttributeNames: { "#id": "_id" },
      }),
    );
  }

  async getJob(id: string): Promise<JobRecord | null> {
    if (id.startsWith("#")) return null;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { _id: id }, ConsistentRead: true }),
    );
    return live(Item as JobRecord | undefined);
  }

  async claimJob(
    id: string,
    claim: RunClaim,
  ): Promise<{ claimed: JobRecord } | { current: JobRecord | null }> {
    const leaseUntil = claim.now + claim.workTimeout;
    const update = new Update()
      .set("status", "running")
      .set("runId", claim.runId)
      .set("leaseUntil", leaseUntil)
      // `dueAt` stays as it was (due already): moving an index key is billed as two writes,
      // and the reconciler finds a running job by it and then reads its lease.
      .set("workTimeout", claim.workTimeout)
      .set("updated", claim.now)
      .add("retries", -1)
      .add("retried", 1);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: id },
          // A repeating job's template never runs itself: its occurrences do.
          ...update.expression(
            "#status IN (:ready, :waiting) AND #after <= :now AND attribute_not_exists(#repeat)",
            {
              names: { "#status": "status", "#after": "after", "#repeat": "repeat" },
              values: { ":ready": "ready", ":waiting": "waiting", ":now": claim.now },
            },
          ),
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { claimed: Attributes as JobRecord };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { current: live(oldItem(error)) };
    }
  }

  async settleRun(id: string, runId: string, changes: JobChanges): Promise<JobRecord | null> {
    return this.conditionalUpdate(id, changes, "#runId = :runId AND #status = :running", {
      names: { "#runId": "runId", "#status": "status" },
      values: { ":runId": runId, ":running": "running" },
    });
  }

  async expireRun(
    id: string,
    runId: string,
    now: number,
    changes: JobChanges,
  ): Promise<JobRecord | null> {
    return this.conditionalUpdate(
      id,
      changes,
      "#runId = :runId AND #status = :running AND #leaseUntil < :now",
      {
        names: { "#runId": "runId", "#status": "status", "#leaseUntil": "leaseUntil" },
        values: { ":runId": runId, ":running": "running", ":now": now },
      },
    );
  }

  async recordFiring(id: string, firedAt: number, changes: JobChanges): Promise<JobRecord | null> {
    return this.conditionalUpdate(
      id,
      changes,
      "#status IN (:waiting, :paused) AND (attribute_not_exists(#lastFiredAt) OR #lastFiredAt < :firedAt)",
      {
        names: { "#status": "status", "#lastFiredAt": "lastFiredAt" },
        values: { ":waiting": "waiting", ":paused": "paused", ":firedAt": firedAt },
      },
    );
  }

  async heartbeat(
    id: string,
    runId: string,
    leaseUntil: number,
    changes: Partial<JobRecord>,
  ): Promise<boolean> {
    const update = new Update().set("leaseUntil", leaseUntil);
    for (const [key, value] of Object.entries(changes)) update.set(key, value);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
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

  async transition(
    id: string,
    from: readonly JobStatus[],
    changes: JobChanges,
  ): Promise<JobRecord | null> {
    const values: Record<string, unknown> = {};
    const placeholders = from.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    return this.conditionalUpdate(id, changes, `#status IN (${placeholders.join(", ")})`, {
      names: { "#status": "status" },
      values,
    });
  }

  async removeJob(id: string, from: readonly JobStatus[]): Promise<boolean> {
    const values: Record<string, unknown> = {};
    const placeholders = from.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { _id: id },
          ConditionExpression: `#status IN (${placeholders.join(", ")})`,
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

  async openJobsOfType(type: string): Promise<Array<{ _id: string; created: number }>> {
    const { name, partitionKey } = jobTable.indexes.openByType;
    const items = await this.queryAll({
      IndexName: name,
      KeyConditionExpression: "#pk = :type",
      ExpressionAttributeNames: { "#pk": partitionKey },
      ExpressionAttributeValues: { ":type": type },
    });
    const visibleBefore = Date.now() - (this.options.simulateIndexLagMs ?? 0);
    return items
      .map((item) => ({ _id: item._id as string, created: item.created as number }))
      .filter((item) => item.created <= visibleBefore);
  }

  async dueJobs(before: number): Promise<string[]> {
    const { name, partitionKey, sortKey } = jobTable.indexes.due;
    const shards = Array.from({ length: jobTable.dueShards }, (_, shard) =>
      this.queryAll({
        IndexName: name,
        KeyConditionExpression: "#pk = :shard AND #sk <= :before",
        ExpressionAttributeNames: { "#pk": partitionKey, "#sk": sortKey },
        ExpressionAttributeValues: { ":shard": String(shard), ":before": before },
      }),
    );
    return (await Promise.all(shards)).flat().map((item) => item._id as string);
  }

  async recordCancel(type: string, request: CancelRecord): Promise<void> {
    const id = TOMBSTONE_PREFIX + type;
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { _id: id },
        UpdateExpression:
          "SET #cancels = list_append(if_not_exists(#cancels, :empty), :request), #lastAt = :at, #dueShard = :shard, #dueAt = :at, #expiresAt = :ttl",
        ExpressionAttributeNames: {
          "#cancels": "cancels",
          "#lastAt": "lastAt",
          "#dueShard": "dueShard",
          "#dueAt": "dueAt",
          "#expiresAt": jobTable.ttlAttribute,
        },
        ExpressionAttributeValues: {
          ":empty": [],
          ":request": [request],
          ":at": request.at,
          ":shard": dueShard(id),
          ":ttl": Math.floor(request.at / 1000) + TOMBSTONE_TTL_SECONDS,
        },
      }),
    );
  }

  async cancelsFor(type: string): Promise<CancelRecord[]> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { _id: TOMBSTONE_PREFIX + type },
        ConsistentRead: true,
      }),
    );
    return (Item?.cancels as CancelRecord[] | undefined) ?? [];
  }

  async clearCancels(type: string, upTo: number): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { _id: TOMBSTONE_PREFIX + type },
          ConditionExpression: "#lastAt <= :upTo",
          ExpressionAttributeNames: { "#lastAt": "lastAt" },
          ExpressionAttributeValues: { ":upTo": upTo },
        }),
      );
    } catch (error) {
      // A newer request arrived: the tombstone stays until the next pass.
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async conditionalUpdate(
    id: string,
    changes: JobChanges,
    condition: string,
    params: ExpressionParams,
  ): Promise<JobRecord | null> {
    const update = new Update();
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) update.set(key, value);
    }
    applyIndexKeys(update, id, changes);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: id },
          ...update.expression(condition, params),
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes as JobRecord;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  private async queryAll(
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">,
  ): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, TableName: this.table, ExclusiveStartKey }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

/** The partition of the `due` index a record lives in, from its id. */
export function dueShard(id: string): string {
  return String(createHash("sha1").update(id).digest().readUInt32BE(0) % jobTable.dueShards);
}

/** Index keys for a freshly written record. */
function indexKeys(record: JobRecord): Partial<JobRecord> {
  if (TERMINAL.includes(record.status)) return {};
  if (record.status === "paused") return { openType: record.type };
  return { openType: record.type, dueShard: dueShard(record._id), dueAt: record.after };
}

/** Keeps the sparse index keys in step with a status change. */
function applyIndexKeys(update: Update, id: string, changes: JobChanges): void {
  const { status } = changes;
  if (TERMINAL.includes(status)) {
    update.remove("openType", "dueShard", "dueAt", "leaseUntil", "workTimeout");
    return;
  }
  update.setFrom("openType", "type");
  if (changes.expiresAt === undefined) update.remove(jobTable.ttlAttribute);
  if (status === "paused") {
    update.remove("dueShard", "dueAt", "leaseUntil", "workTimeout");
  } else if (status === "running") {
    update.set("dueShard", dueShard(id));
  } else {
    update.set("dueShard", dueShard(id));
    if (changes.after !== undefined && changes.dueAt === undefined)
      update.set("dueAt", changes.after);
    // A fresh due time starts the reconciler's re-send backoff again.
    if (changes.nudges === undefined) update.remove("nudges");
    update.remove("leaseUntil", "workTimeout");
  }
}

interface ExpressionParams {
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** A small builder for aliased update expressions. */
class Update {
  private readonly sets: string[] = [];
  private readonly adds: string[] = [];
  private readonly removes: string[] = [];
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};

  set(attribute: string, value: unknown): this {
    const i = this.sets.length + this.adds.length;
    this.names[`#u${i}`] = attribute;
    this.values[`:u${i}`] = value;
    this.sets.push(`#u${i} = :u${i}`);
    return this;
  }

  /** `SET target = source`: copy another attribute's value. */
  setFrom(target: string, source: string): this {
    const i = this.sets.length + this.adds.length;
    this.names[`#u${i}`] = target;
    this.names[`#s${i}`] = source;
    this.sets.push(`#u${i} = #s${i}`);
    return this;
  }

  add(attribute: string, delta: number): this {
    const i = this.sets.length + this.adds.length;
    this.names[`#u${i}`] = attribute;
    this.values[`:u${i}`] = delta;
    this.adds.push(`#u${i} :u${i}`);
    return this;
  }

  remove(...attributes: string[]): this {
    for (const attribute of attributes) {
      const i = this.removes.length;
      this.names[`#r${i}`] = attribute;
      this.removes.push(`#r${i}`);
    }
    return this;
  }

  expression(condition: string, params: ExpressionParams) {
    const clauses = [
      this.sets.length ? `SET ${this.sets.join(", ")}` : "",
      this.adds.length ? `ADD ${this.adds.join(", ")}` : "",
      this.removes.length ? `REMOVE ${this.removes.join(", ")}` : "",
    ];
    return {
      UpdateExpression: clauses.filter(Boolean).join(" "),
      ConditionExpression: condition,
      ExpressionAttributeNames: { ...this.names, ...params.names },
      ExpressionAttributeValues: { ...this.values, ...params.values },
    };
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";
}

function oldItem(error: unknown): JobRecord | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? (unmarshall(item) as JobRecord) : undefined;
}

/** A record, unless it is past its TTL: DynamoDB may take days to delete expired items. */
function live(record: JobRecord | undefined): JobRecord | null {
  if (!record) return null;
  if (record.expiresAt !== undefined && record.expiresAt * 1000 <= Date.now()) return null;
  return record;
}
