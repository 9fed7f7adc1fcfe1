import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type {
  CancelRequest,
  JobChanges,
  JobStore,
  ReconcilerState,
  RunClaim,
  ShardPage,
  ShardRead,
} from "../jobs/deps.ts";
import { openKeyFor, openKeysToRead, stableHash, typeKeyFor } from "../jobs/keys.ts";
import { type JobRecord, type JobStatus, TERMINAL } from "../jobs/types.ts";
import { CANCEL_LOGS_KEY, jobTable, NEVER_DUE } from "../resources.ts";

/** A type's cancel log is the item `CANCEL_LOG_PREFIX + type` (never a job: ids are alphanumeric). */
export const CANCEL_LOG_PREFIX = "#cancels#";
/**
 * The types registry: one item whose string set `types` holds every job type ever inserted,
 * so a listing by tenant knows which types to read. Ids starting with `#` are never jobs.
 */
export const TYPES_REGISTRY_ID = "#types";
/** Where processes report their delivery fronts: `PROGRESS_SHARDS` items, one attribute a process. */
export const PROGRESS_PREFIX = "#progress#";
const PROGRESS_SHARDS = 8;
/** Where the reconciler keeps the position a pass cut short stopped at. */
export const RECONCILER_ID = "#reconciler";
/** A front attribute's name: the process id behind this prefix. */
const FRONT_ATTRIBUTE = "f_";
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_SIZE = 100;
/** How long a cancel log outlives its last request, as a TTL safety net. */
const CANCEL_LOG_TTL_SECONDS = 24 * 3600;
/**
 * The most a type's cancel log may hold, in bytes (see `cancelRequestBytes`). DynamoDB items
 * stop at 400 KB; this leaves room for one more request of the largest size (64 KB) on top.
 */
export const CANCEL_LOG_MAX_BYTES = 256 * 1024;
/** A request's share of the item besides its filter: the names `filter`/`at`, the number, map overhead. */
const CANCEL_REQUEST_OVERHEAD_BYTES = 40;

/**
 * Attributes stored as JSON text. As DynamoDB maps they would not round-trip: its numbers
 * stop at 38 digits between 1e-130 and 1e126, the SDK refuses unsafe integers, and unmarshall
 * turns an own `__proto__` key into a prototype. JSON text keeps any JSON value exactly.
 */
const JSON_ATTRIBUTES = ["data", "result", "failures", "log"] as const;

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

/**
 * The job table on DynamoDB: one conditional statement per lifecycle step. Attribute names
 * are always aliased (`status`, `data`, `type`... are reserved words).
 *
 * @example const store = new DynamoJobStore(clients.documents, { tableName: "local-jobs" });
 */
export class DynamoJobStore implements JobStore {
  private readonly now: () => number;
  /** Types this process has written to the registry (or is writing): ~0 registry writes a job. */
  private readonly registered = new Map<string, Promise<void>>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: JobTableOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  private get table(): string {
    return this.options.tableName;
  }

  async insertJob(record: JobRecord): Promise<"inserted" | "exists"> {
    // Registered before the job exists, so a listing by tenant never misses its type.
    await this.registerType(record.type);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: encodeJson({ ...record, ...indexKeys(record) }),
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

  async getJob(id: string): Promise<JobRecord | null> {
    if (isReservedId(id)) return null;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { _id: id }, ConsistentRead: true }),
    );
    return this.live(decodeJson(Item));
  }

  async claimJob(
    id: string,
    claim: RunClaim,
  ): Promise<{ claimed: JobRecord } | { current: JobRecord | null }> {
    if (isReservedId(id)) return { current: null };
    const leaseUntil = claim.now + claim.workTimeout;
    const update = new Update()
      .set("status", "running")
      .set("runId", claim.runId)
      .set("leaseUntil", leaseUntil)
      // `dueAt` stays as it was (due already): moving an index key is billed as two writes,
      // and the reconciler finds a running job by it and then reads its lease.
      .set("workTimeout", claim.workTimeout)
      .set("updated", claim.now)
      .set("runStartedAt", claim.now)
      .add("retries", -1)
      .add("retried", 1);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: id },
          // A repeating job's template never runs itself: its occurrences do. A message whose
          // type disagrees with the record must not spend another type's worker slot on it.
          ...update.expression(
            "#status IN (:ready, :waiting) AND #after <= :now AND attribute_not_exists(#repeat) AND #type = :type",
            {
              names: {
                "#status": "status",
                "#after": "after",
                "#repeat": "repeat",
                "#type": "type",
              },
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
      return { claimed: decodeJson(Attributes) as JobRecord };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { current: this.live(decodeJson(oldItem(error))) };
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

  async recordFiring(
    id: string,
    firing: { firedAt: number; status: JobStatus; previous: number | null },
    changes: JobChanges,
  ): Promise<JobRecord | null> {
    if (firing.previous !== null && firing.previous >= firing.firedAt) return null;
    // Pinned to the template as the caller read it: a pause, a resume or another firing in
    // between wins over this one.
    const last =
      firing.previous === null ? "attribute_not_exists(#lastFiredAt)" : "#lastFiredAt = :previous";
    return this.conditionalUpdate(id, changes, `#status = :status AND ${last}`, {
      names: { "#status": "status", "#lastFiredAt": "lastFiredAt" },
      values: {
        ":status": firing.status,
        ...(firing.previous === null ? {} : { ":previous": firing.previous }),
      },
    });
  }

  async heartbeat(
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
    if (from.length === 0) return null; // `IN ()` is no expression
    const { clause, values } = statusIn(from);
    return this.conditionalUpdate(id, changes, clause, { names: { "#status": "status" }, values });
  }

  async removeJob(id: string, from: readonly JobStatus[]): Promise<boolean> {
    if (from.length === 0) return false;
    const { clause, values } = statusIn(from);
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
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

  async getJobs(ids: readonly string[]): Promise<JobRecord[]> {
    return this.readRecords(ids.filter((id) => !isReservedId(id)));
  }

  async openJobsOfType(
    type: string,
    tenant?: string,
  ): Promise<Array<{ _id: string; created: number }>> {
    const { name, partitionKey } = jobTable.indexes.open;
    const shards = openKeysToRead(type, tenant).map((key) =>
      this.queryAll({
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
    const visibleBefore = this.now() - (this.options.simulateIndexLagMs ?? 0);
    return (await Promise.all(shards))
      .flat()
      .map((item) => ({ _id: item._id as string, created: item.created as number }))
      .filter((item) => item.created <= visibleBefore)
      .sort((a, b) => a.created - b.created);
  }

  async dueIn(
    openKey: string,
    before: number,
    next?: string,
  ): Promise<{ ids: string[]; next?: string }> {
    const { name, partitionKey, sortKey } = jobTable.indexes.open;
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
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

  async recordCancel(type: string, request: CancelRequest): Promise<"recorded" | "full"> {
    const id = CANCEL_LOG_PREFIX + type;
    const bytes = cancelRequestBytes(request);
    if (bytes > CANCEL_LOG_MAX_BYTES) return "full";
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: id },
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
            ":ttl": Math.floor(Math.max(request.at, this.now()) / 1000) + CANCEL_LOG_TTL_SECONDS,
            ":bytes": bytes,
            ":one": 1,
            ":room": CANCEL_LOG_MAX_BYTES - bytes,
          },
        }),
      );
      return "recorded";
    } catch (error) {
      if (isConditionFailure(error)) return "full";
      throw error;
    }
  }

  async cancelsFor(type: string): Promise<CancelRequest[]> {
    return (await this.readCancelLog(type))?.cancels ?? [];
  }

  async dropCancels(type: string, applied: readonly CancelRequest[]): Promise<void> {
    const log = await this.readCancelLog(type);
    if (!log) return;
    const remaining = log.cancels.filter(
      (request) => !applied.some((a) => a.at === request.at && a.filter === request.filter),
    );
    if (remaining.length === log.cancels.length) return;
    // Optimistic concurrency: a request appended since the read bumped `version`, and this
    // write then loses; the next pass reads again and drops them then.
    const versionHeld =
      log.version === undefined ? "attribute_not_exists(#version)" : "#version = :version";
    const versionValue = log.version === undefined ? {} : { ":version": log.version };
    try {
      if (remaining.length === 0) {
        await this.client.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { _id: CANCEL_LOG_PREFIX + type },
            ConditionExpression: versionHeld,
            ExpressionAttributeNames: { "#version": "version" },
            ...(log.version === undefined ? {} : { ExpressionAttributeValues: versionValue }),
          }),
        );
        return;
      }
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: CANCEL_LOG_PREFIX + type },
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
            ":bytes": remaining.reduce((sum, request) => sum + cancelRequestBytes(request), 0),
            ":oldest": Math.min(...remaining.map((request) => request.at)),
            ":one": 1,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async typesWithCancels(before: number): Promise<string[]> {
    const { name, partitionKey, sortKey } = jobTable.indexes.open;
    const items = await this.queryAll({
      IndexName: name,
      KeyConditionExpression: "#pk = :logs AND #sk <= :before",
      ExpressionAttributeNames: { "#pk": partitionKey, "#sk": sortKey },
      ExpressionAttributeValues: { ":logs": CANCEL_LOGS_KEY, ":before": before },
    });
    return items
      .map((item) => item._id as string)
      .filter(isCancelLogId)
      .map((id) => id.slice(CANCEL_LOG_PREFIX.length));
  }

  async reportFront(processId: string, front: number, at: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { _id: progressItemOf(processId) },
        UpdateExpression: "SET #process = :front",
        ExpressionAttributeNames: { "#process": FRONT_ATTRIBUTE + processId },
        ExpressionAttributeValues: { ":front": { front, at } },
      }),
    );
  }

  async reconcilerState(): Promise<ReconcilerState> {
    const ids = [
      RECONCILER_ID,
      ...Array.from({ length: PROGRESS_SHARDS }, (_, i) => PROGRESS_PREFIX + i),
    ];
    const items = await this.readItems(ids);
    const fronts: ReconcilerState["fronts"] = [];
    let position: string | undefined;
    for (const item of items) {
      if (item._id === RECONCILER_ID && typeof item.position === "string") position = item.position;
      for (const [name, value] of Object.entries(item)) {
        if (!name.startsWith(FRONT_ATTRIBUTE)) continue;
        const { front, at } = value as { front: number; at: number };
        fronts.push({ processId: name.slice(FRONT_ATTRIBUTE.length), front, at });
      }
    }
    return position === undefined ? { fronts } : { fronts, position };
  }

  async saveReconcilerPosition(position: string | null): Promise<void> {
    if (position === null) {
      await this.client.send(
        new DeleteCommand({ TableName: this.table, Key: { _id: RECONCILER_ID } }),
      );
    } else {
      await this.client.send(
        new PutCommand({ TableName: this.table, Item: { _id: RECONCILER_ID, position } }),
      );
    }
  }

  async forgetFronts(processIds: readonly string[]): Promise<void> {
    const byItem = new Map<string, string[]>();
    for (const id of processIds) {
      const item = progressItemOf(id);
      byItem.set(item, [...(byItem.get(item) ?? []), id]);
    }
    for (const [item, ids] of byItem) {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: item },
          UpdateExpression: `REMOVE ${ids.map((_, i) => `#p${i}`).join(", ")}`,
          ExpressionAttributeNames: Object.fromEntries(
            ids.map((id, i) => [`#p${i}`, FRONT_ATTRIBUTE + id]),
          ),
        }),
      );
    }
  }

  async knownTypes(): Promise<string[]> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { _id: TYPES_REGISTRY_ID },
        ConsistentRead: true,
      }),
    );
    const types = Item?.types as Set<string> | undefined;
    return [...(types ?? [])].sort();
  }

  /** Adds a type to the registry once per process (`ADD` to a string set is idempotent). */
  private registerType(type: string): Promise<void> {
    let registering = this.registered.get(type);
    if (!registering) {
      registering = this.client
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: { _id: TYPES_REGISTRY_ID },
            UpdateExpression: "ADD #types :type",
            ExpressionAttributeNames: { "#types": "types" },
            ExpressionAttributeValues: { ":type": new Set([type]) },
          }),
        )
        .then(() => undefined);
      registering.catch(() => this.registered.delete(type));
      this.registered.set(type, registering);
    }
    return registering;
  }

  /** One Query of one `byType` shard, newest first. */
  async readShard(read: ShardRead): Promise<ShardPage> {
    const { name, partitionKey, sortKey } = jobTable.indexes.byType;
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
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

  /** Records by id with `BatchGetItem`; unknown and expired ones left out. */
  private async readRecords(ids: readonly string[]): Promise<JobRecord[]> {
    return (await this.readItems(ids))
      .map((item) => this.live(decodeJson(item)))
      .filter((record): record is JobRecord => record !== null);
  }

  /** Items by id with `BatchGetItem` (100 keys a call, unprocessed keys asked again). */
  private async readItems(ids: readonly string[]): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    for (let start = 0; start < ids.length; start += BATCH_GET_SIZE) {
      let keys: Array<Record<string, unknown>> | undefined = ids
        .slice(start, start + BATCH_GET_SIZE)
        .map((id) => ({ _id: id }));
      for (let attempt = 0; keys && keys.length > 0; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const { Responses, UnprocessedKeys }: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        items.push(...(Responses?.[this.table] ?? []));
        keys = UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return items;
  }

  private async readCancelLog(
    type: string,
  ): Promise<{ cancels: CancelRequest[]; version?: number } | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { _id: CANCEL_LOG_PREFIX + type },
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

  private async conditionalUpdate(
    id: string,
    changes: JobChanges,
    condition: string,
    params: ExpressionParams,
  ): Promise<JobRecord | null> {
    const update = new Update();
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) update.set(key, encodeValue(key, value));
    }
    applyIndexKeys(update, changes);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { _id: id },
          ...update.expression(condition, params),
          ReturnValues: "ALL_NEW",
        }),
      );
      return decodeJson(Attributes);
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

  /** A record, unless it is past its TTL: DynamoDB may take days to delete expired items. */
  private live(record: JobRecord | null): JobRecord | null {
    if (!record) return null;
    if (record.expiresAt !== undefined && record.expiresAt * 1000 <= this.now()) return null;
    return record;
  }
}

/** The progress item a process reports its front to. */
function progressItemOf(processId: string): string {
  return PROGRESS_PREFIX + (stableHash(processId) % PROGRESS_SHARDS);
}

/** What a cancel request counts toward its log's `CANCEL_LOG_MAX_BYTES`. */
export function cancelRequestBytes(request: CancelRequest): number {
  return Buffer.byteLength(request.filter, "utf8") + CANCEL_REQUEST_OVERHEAD_BYTES;
}

function isCancelLogId(id: string): boolean {
  return id.startsWith(CANCEL_LOG_PREFIX);
}

/** The table's own items (cancel logs, the types registry) have ids starting with `#`; jobs never do. */
function isReservedId(id: string): boolean {
  return id.startsWith("#");
}

/**
 * Index keys for a freshly written record. `typeKey` and `openKey` are never written again;
 * `dueAt` is present while the job is open (the `open` index is sparse on it).
 */
export function indexKeys(record: JobRecord): Partial<JobRecord> {
  const keys: Partial<JobRecord> = {
    typeKey: typeKeyFor(record.type, record._id, record.tenant),
    openKey: openKeyFor(record.type, record._id, record.tenant),
  };
  if (TERMINAL.includes(record.status)) return keys;
  return { ...keys, dueAt: record.status === "paused" ? NEVER_DUE : record.after };
}

/**
 * Keeps `dueAt` in step with a status change: removed when the job ends (it leaves the
 * `open` index), never due while paused, unchanged by a claim, else `dueAt` or `after` as
 * given, or the record's `after`.
 */
function applyIndexKeys(update: Update, changes: JobChanges): void {
  const { status } = changes;
  if (TERMINAL.includes(status)) {
    update.remove("dueAt", "leaseUntil", "workTimeout");
    return;
  }
  if (changes.expiresAt === undefined) update.remove(jobTable.ttlAttribute);
  if (status === "paused") {
    update.set("dueAt", NEVER_DUE).remove("leaseUntil", "workTimeout");
  } else if (status !== "running") {
    if (changes.dueAt === undefined) {
      if (changes.after !== undefined) update.set("dueAt", changes.after);
      else update.setFrom("dueAt", "after");
    }
    // A fresh due time starts the reconciler's re-send backoff again.
    if (changes.nudges === undefined) update.remove("nudges");
    update.remove("leaseUntil", "workTimeout");
  }
}

/** `#status IN (:from0, ...)` for a non-empty list of statuses. */
function statusIn(from: readonly JobStatus[]): { clause: string; values: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  const placeholders = from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  return { clause: `#status IN (${placeholders.join(", ")})`, values };
}

/** An attribute's value as stored: JSON text for `JSON_ATTRIBUTES`, itself otherwise. */
function encodeValue(key: string, value: unknown): unknown {
  return (JSON_ATTRIBUTES as readonly string[]).includes(key) ? JSON.stringify(value) : value;
}

function encodeJson(record: Record<string, unknown>): Record<string, unknown> {
  const item: Record<string, unknown> = { ...record };
  for (const key of JSON_ATTRIBUTES) {
    if (item[key] !== undefined) item[key] = JSON.stringify(item[key]);
  }
  return item;
}

/**
 * A stored item as a record. An attribute that is not a string was written before the JSON
 * text encoding (a map or list) and is taken as it is.
 */
function decodeJson(item: Record<string, unknown> | undefined): JobRecord | null {
  if (!item) return null;
  const record: Record<string, unknown> = { ...item };
  for (const key of JSON_ATTRIBUTES) {
    const value = record[key];
    if (typeof value === "string") record[key] = JSON.parse(value);
  }
  return record as unknown as JobRecord;
}

interface ExpressionParams {
  names: Record<string, string>;
  values: Record<string, unknown>;
}

type Action =
  | { kind: "set"; value: unknown }
  | { kind: "setFrom"; source: string }
  | { kind: "add"; delta: number }
  | { kind: "remove" };

/**
 * A small builder for aliased update expressions. One action per attribute, the last call
 * winning: DynamoDB refuses an update that names an attribute twice ("two document paths
 * overlap"), so a change the index maintenance overrides (say `leaseUntil` on a job that
 * stops running) is dropped here, as the in-memory store drops it.
 */
class Update {
  private readonly actions = new Map<string, Action>();

  set(attribute: string, value: unknown): this {
    return this.put(attribute, { kind: "set", value });
  }

  /** `SET target = source`: copy another attribute's value (as it was before the update). */
  setFrom(target: string, source: string): this {
    return this.put(target, { kind: "setFrom", source });
  }

  add(attribute: string, delta: number): this {
    return this.put(attribute, { kind: "add", delta });
  }

  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.put(attribute, { kind: "remove" });
    return this;
  }

  expression(condition: string, params: ExpressionParams) {
    const sets: string[] = [];
    const adds: string[] = [];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (const [attribute, action] of this.actions) {
      if (action.kind === "remove") {
        const i = removes.length;
        names[`#r${i}`] = attribute;
        removes.push(`#r${i}`);
        continue;
      }
      const i = sets.length + adds.length;
      names[`#u${i}`] = attribute;
      if (action.kind === "setFrom") {
        names[`#s${i}`] = action.source;
        sets.push(`#u${i} = #s${i}`);
      } else if (action.kind === "set") {
        values[`:u${i}`] = action.value;
        sets.push(`#u${i} = :u${i}`);
      } else {
        values[`:u${i}`] = action.delta;
        adds.push(`#u${i} :u${i}`);
      }
    }
    const clauses = [
      sets.length ? `SET ${sets.join(", ")}` : "",
      adds.length ? `ADD ${adds.join(", ")}` : "",
      removes.length ? `REMOVE ${removes.join(", ")}` : "",
    ];
    return {
      UpdateExpression: clauses.filter(Boolean).join(" "),
      ConditionExpression: condition,
      ExpressionAttributeNames: { ...names, ...params.names },
      ExpressionAttributeValues: { ...values, ...params.values },
    };
  }

  private put(attribute: string, action: Action): this {
    // Re-inserted at the end: the expression lists attributes in the order last touched.
    this.actions.delete(attribute);
    this.actions.set(attribute, action);
    return this;
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";
}

function oldItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}
