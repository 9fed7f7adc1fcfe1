import { cancelLogBytes, cancelLogExpiry, remainingCancels } from "../jobs/cancel-log.ts";
import type {
  CancelLogSpace,
  CancelRequest,
  Clock,
  JobChanges,
  JobStore,
  ReconcilerState,
  RunClaim,
  ScheduleRefusal,
  ScheduleRefusalNote,
  ShardPage,
  ShardRead,
} from "../jobs/deps.ts";
import { followStatus, indexKeys } from "../jobs/index-keys.ts";
import { openKeysToRead } from "../jobs/keys.ts";
import type { JobRecord, JobStatus } from "../jobs/types.ts";
import { Faults } from "./faults.ts";
import { MemoryScheduleRefusals } from "./schedule-refusals.ts";

/** Entries a `dueIn` page holds. */
const DUE_PAGE = 50;

interface CancelLog {
  cancels: CancelRequest[];
  bytes: number;
  version: number;
  /** The oldest pending request's time: what the `due` index finds the log by. */
  dueAt: number;
  expiresAt: number;
}

export interface MemoryJobStoreOptions {
  /** `openJobsOfType` hides jobs created less than this many ms ago, as a lagging GSI would. */
  indexLagMs?: number;
}

/**
 * The job table in memory, with the DynamoDB adapter's semantics: the same conditions, the
 * same sparse index keys (so `openJobsOfType` and `dueIn` answer alike), the same TTL rule
 * by the (fake) clock. Records are kept as JSON text, so nothing a caller holds is aliased and
 * values round-trip as they do through the adapter.
 *
 * @example const store = new MemoryJobStore(new ManualClock()); store.failNext("settleRun");
 */
export class MemoryJobStore implements JobStore {
  /** Test hook: see `MemoryJobStoreOptions.indexLagMs`; may be changed at any time. */
  indexLagMs: number;
  private readonly records = new Map<string, string>();
  private readonly logs = new Map<string, CancelLog>();
  private readonly faults = new Faults<keyof JobStore>();
  /** The delivery fronts processes reported, and the reconciler's position. */
  private readonly fronts = new Map<string, { front: number; at: number }>();
  private position: string | undefined;
  /** The types registry (the adapter's `#types` item). */
  private readonly types = new Set<string>();
  /** Refused schedules (the adapter's `#refusals` item), by key. */
  private readonly refusals = new MemoryScheduleRefusals();

  constructor(
    private readonly clock: Clock,
    options: MemoryJobStoreOptions = {},
  ) {
    this.indexLagMs = options.indexLagMs ?? 0;
  }

  /** The next `count` calls of `operation` throw, having applied nothing. */
  failNext(operation: keyof JobStore, count = 1): void {
    this.faults.failNext(operation, count);
  }

  /** Every stored job record (expired ones too, until `purgeExpired`), as copies. */
  all(): JobRecord[] {
    return [...this.records.values()].map((text) => JSON.parse(text) as JobRecord);
  }

  /** Deletes what is past its TTL, as DynamoDB's TTL process does (some time after expiry). */
  purgeExpired(): void {
    for (const record of this.all()) {
      if (expired(record.expiresAt, this.clock.now())) this.records.delete(record._id);
    }
    for (const [type, log] of this.logs) {
      if (expired(log.expiresAt, this.clock.now())) this.logs.delete(type);
    }
  }

  async insertJob(record: JobRecord): Promise<"inserted" | "exists"> {
    this.faults.check("insertJob");
    // Like `attribute_not_exists`: an expired record not yet purged still exists.
    this.types.add(record.type);
    if (this.records.has(record._id)) return "exists";
    this.write({ ...record, ...indexKeys(record) });
    return "inserted";
  }

  async getJob(id: string): Promise<JobRecord | null> {
    this.faults.check("getJob");
    return this.live(this.read(id));
  }

  async claimJob(
    id: string,
    claim: RunClaim,
  ): Promise<{ claimed: JobRecord } | { current: JobRecord | null }> {
    this.faults.check("claimJob");
    const record = this.read(id);
    if (
      !record ||
      !(record.status === "ready" || record.status === "waiting") ||
      !(record.after <= claim.now) ||
      record.repeat !== undefined ||
      record.type !== claim.type
    )
      return { current: this.live(record) };
    record.status = "running";
    record.runId = claim.runId;
    record.leaseUntil = claim.now + claim.workTimeout;
    record.workTimeout = claim.workTimeout;
    record.updated = claim.now;
    record.runStartedAt = claim.now;
    record.retries = (record.retries ?? 0) - 1;
    record.retried = (record.retried ?? 0) + 1;
    return { claimed: this.write(record) };
  }

  async settleRun(id: string, runId: string, changes: JobChanges): Promise<JobRecord | null> {
    this.faults.check("settleRun");
    return this.update(id, changes, (r) => r.runId === runId && r.status === "running");
  }

  async expireRun(
    id: string,
    runId: string,
    now: number,
    changes: JobChanges,
  ): Promise<JobRecord | null> {
    this.faults.check("expireRun");
    return this.update(
      id,
      changes,
      (r) =>
        r.runId === runId &&
        r.status === "running" &&
        r.leaseUntil !== undefined &&
        r.leaseUntil < now,
    );
  }

  async recordFiring(
    id: string,
    firing: { firedAt: number; status: JobStatus; previous: number | null },
    changes: JobChanges,
  ): Promise<JobRecord | null> {
    this.faults.check("recordFiring");
    if (firing.previous !== null && firing.previous >= firing.firedAt) return null;
    return this.update(
      id,
      changes,
      (r) => r.status === firing.status && (r.lastFiredAt ?? null) === firing.previous,
    );
  }

  async heartbeat(
    id: string,
    runId: string,
    leaseUntil: number,
    changes: Partial<JobRecord>,
  ): Promise<boolean> {
    this.faults.check("heartbeat");
    const record = this.read(id);
    if (!record || record.runId !== runId || record.status !== "running") return false;
    this.write({ ...record, ...defined(changes), leaseUntil });
    return true;
  }

  async transition(
    id: string,
    from: readonly JobStatus[],
    changes: JobChanges,
  ): Promise<JobRecord | null> {
    this.faults.check("transition");
    return this.update(id, changes, (r) => from.includes(r.status));
  }

  async removeJob(id: string, from: readonly JobStatus[]): Promise<boolean> {
    this.faults.check("removeJob");
    const record = this.read(id);
    if (!record || !from.includes(record.status)) return false;
    this.records.delete(id);
    return true;
  }

  async getJobs(ids: readonly string[]): Promise<JobRecord[]> {
    this.faults.check("getJobs");
    return ids.map((id) => this.live(this.read(id))).filter((r): r is JobRecord => r !== null);
  }

  async openJobsOfType(
    type: string,
    tenant?: string,
  ): Promise<Array<{ _id: string; created: number }>> {
    this.faults.check("openJobsOfType");
    const keys = new Set(openKeysToRead(type, tenant));
    const visibleBefore = this.clock.now() - this.indexLagMs;
    return this.all()
      .filter((r) => r.openKey !== undefined && keys.has(r.openKey) && r.dueAt !== undefined)
      .filter((r) => (tenant === undefined || r.tenant === tenant) && r.created <= visibleBefore)
      .sort((a, b) => a.created - b.created)
      .map((r) => ({ _id: r._id, created: r.created }));
  }

  /** Pages of `DUE_PAGE` entries (the adapter's are DynamoDB's 1 MB), so paging is exercised. */
  async dueIn(
    openKey: string,
    before: number,
    next?: string,
  ): Promise<{ ids: string[]; next?: string }> {
    this.faults.check("dueIn");
    const after = next === undefined ? undefined : (JSON.parse(next) as [number, string]);
    const entries = this.all()
      .filter((r) => r.openKey === openKey && r.dueAt !== undefined && r.dueAt <= before)
      .map((r) => [r.dueAt as number, r._id] as [number, string])
      .filter(([dueAt, id]) => !after || dueAt > after[0] || (dueAt === after[0] && id > after[1]))
      .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    const page = entries.slice(0, DUE_PAGE);
    const last = page.at(-1);
    const ids = page.map(([, id]) => id);
    return entries.length > DUE_PAGE && last ? { ids, next: JSON.stringify(last) } : { ids };
  }

  async recordCancel(
    type: string,
    request: CancelRequest,
    space: CancelLogSpace,
  ): Promise<"recorded" | "full"> {
    this.faults.check("recordCancel");
    const log = this.logs.get(type);
    if (log && log.bytes > space.room) return "full";
    this.logs.set(type, {
      cancels: [...(log?.cancels ?? []), { filter: request.filter, at: request.at }],
      bytes: (log?.bytes ?? 0) + space.bytes,
      version: (log?.version ?? 0) + 1,
      dueAt: log?.dueAt ?? request.at,
      expiresAt: cancelLogExpiry(request, this.clock.now()),
    });
    return "recorded";
  }

  async cancelsFor(type: string): Promise<CancelRequest[]> {
    this.faults.check("cancelsFor");
    return (this.logs.get(type)?.cancels ?? []).map((request) => ({ ...request }));
  }

  async dropCancels(type: string, applied: readonly CancelRequest[]): Promise<void> {
    this.faults.check("dropCancels");
    const read = this.logs.get(type);
    if (!read) return;
    const remaining = remainingCancels(read.cancels, applied);
    if (remaining.length === read.cancels.length) return;
    // The adapter reads, then writes on the version it read: let other calls in between.
    await Promise.resolve();
    const now = this.logs.get(type);
    if (!now || now.version !== read.version) return; // lost the race: the next pass drops them
    if (remaining.length === 0) {
      this.logs.delete(type);
      return;
    }
    this.logs.set(type, {
      ...now,
      cancels: remaining,
      bytes: cancelLogBytes(remaining),
      version: now.version + 1,
      dueAt: Math.min(...remaining.map((request) => request.at)),
    });
  }

  async typesWithCancels(before: number): Promise<string[]> {
    this.faults.check("typesWithCancels");
    return [...this.logs.entries()].filter(([, log]) => log.dueAt <= before).map(([type]) => type);
  }

  async reportFront(processId: string, front: number, at: number): Promise<void> {
    this.faults.check("reportFront");
    this.fronts.set(processId, { front, at });
  }

  async reconcilerState(): Promise<ReconcilerState> {
    this.faults.check("reconcilerState");
    const fronts = [...this.fronts].map(([processId, front]) => ({ processId, ...front }));
    return this.position === undefined ? { fronts } : { fronts, position: this.position };
  }

  async saveReconcilerPosition(position: string | null): Promise<void> {
    this.faults.check("saveReconcilerPosition");
    this.position = position ?? undefined;
  }

  async forgetFronts(processIds: readonly string[]): Promise<void> {
    this.faults.check("forgetFronts");
    for (const id of processIds) this.fronts.delete(id);
  }

  async knownTypes(): Promise<string[]> {
    this.faults.check("knownTypes");
    return [...this.types].sort();
  }

  async noteScheduleRefusal(key: string, note: ScheduleRefusalNote | null): Promise<void> {
    this.faults.check("noteScheduleRefusal");
    this.refusals.note(key, note);
  }

  async scheduleRefusals(): Promise<ScheduleRefusal[]> {
    this.faults.check("scheduleRefusals");
    return this.refusals.all();
  }

  /**
   * One shard of the `byType` index, newest first. Entries with the same `created` come in
   * ascending id order, the opposite of the listing's, so the merge's tie handling is tested.
   */
  async readShard(read: ShardRead): Promise<ShardPage> {
    this.faults.check("readShard");
    const after = read.startKey as { created: number; id: string } | undefined;
    const shard = this.all()
      .filter((r) => r.typeKey === read.typeKey && r.created >= read.from && r.created <= read.to)
      .filter(
        (r) =>
          !after || r.created < after.created || (r.created === after.created && r._id > after.id),
      )
      .sort((a, b) => b.created - a.created || (a._id < b._id ? -1 : 1));
    const evaluated = shard.slice(0, read.limit);
    const last = evaluated.at(-1);
    const entries = evaluated
      .filter((r) => read.tenant === undefined || r.tenant === read.tenant)
      .map((r) => ({ _id: r._id, created: r.created, ...(r.tenant ? { tenant: r.tenant } : {}) }));
    return {
      entries,
      evaluated: evaluated.length,
      ...(shard.length > read.limit && last
        ? { next: { key: { created: last.created, id: last._id }, created: last.created } }
        : {}),
    };
  }

  /** A conditional update: the changes and what follows their status, if `condition` holds. */
  private update(
    id: string,
    changes: JobChanges,
    condition: (record: JobRecord) => boolean,
  ): JobRecord | null {
    const record = this.read(id);
    if (!record || !condition(record)) return null;
    const updated: JobRecord = { ...record, ...defined(changes) };
    const followers = followStatus(changes);
    // DynamoDB's `SET dueAt = after` reads `after` as it was before the update.
    if (followers.dueAt === "after") updated.dueAt = record.after;
    else if (followers.dueAt !== undefined) updated.dueAt = followers.dueAt;
    for (const key of followers.remove) delete updated[key];
    return this.write(updated);
  }

  private read(id: string): JobRecord | null {
    const text = this.records.get(id);
    return text === undefined ? null : (JSON.parse(text) as JobRecord);
  }

  /** Stores a record and returns a fresh copy of what was stored. */
  private write(record: JobRecord): JobRecord {
    const text = JSON.stringify(record);
    this.records.set(record._id, text);
    return JSON.parse(text) as JobRecord;
  }

  private live(record: JobRecord | null): JobRecord | null {
    return record && !expired(record.expiresAt, this.clock.now()) ? record : null;
  }
}

function expired(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt * 1000 <= now;
}

/** The changes without `undefined` values (the adapter writes only what is given). */
function defined<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
