/**
 * The job table on DynamoDB: the `JobStore` port, each method delegated to its statement
 * family (records, cancel log, progress, type registry, listing). Lifecycle rules it applies
 * (index keys, the cancel log's size) come from `lib/jobs`; reserved ids from `lib/jobs/keys.ts`.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type {
  CancelLogSpace,
  CancelRequest,
  JobChanges,
  JobStore,
  RunClaim,
  ScheduleRefusalNote,
  ShardRead,
} from "../../jobs/deps.ts";
import type { JobRecord, JobStatus } from "../../jobs/types.ts";
import * as cancelLog from "./cancel-log.ts";
import * as listing from "./listing.ts";
import * as progress from "./progress.ts";
import * as records from "./records.ts";
import * as refusals from "./schedule-refusals.ts";
import { type JobTable, type JobTableOptions, jobTableOf } from "./table.ts";
import { TypeRegistry } from "./type-registry.ts";

export type { JobTableOptions } from "./table.ts";

/**
 * The job table on DynamoDB: one conditional statement per lifecycle step.
 *
 * @example const store = new DynamoJobStore(clients.documents, { tableName: "local-jobs" });
 */
export class DynamoJobStore implements JobStore {
  private readonly table: JobTable;
  private readonly types: TypeRegistry;

  constructor(client: DynamoDBDocumentClient, options: JobTableOptions) {
    this.table = jobTableOf(client, options);
    this.types = new TypeRegistry(this.table);
  }

  async insertJob(record: JobRecord) {
    // Registered before the job exists, so a listing by tenant never misses its type.
    await this.types.register(record.type);
    return records.insertJob(this.table, record);
  }
  getJob(id: string) {
    return records.getJob(this.table, id);
  }
  claimJob(id: string, claim: RunClaim) {
    return records.claimJob(this.table, id, claim);
  }
  settleRun(id: string, runId: string, changes: JobChanges) {
    return records.settleRun(this.table, id, runId, changes);
  }
  expireRun(id: string, runId: string, now: number, changes: JobChanges) {
    return records.expireRun(this.table, id, runId, now, changes);
  }
  recordFiring(
    id: string,
    firing: { firedAt: number; status: JobStatus; previous: number | null },
    changes: JobChanges,
  ) {
    return records.recordFiring(this.table, id, firing, changes);
  }
  heartbeat(id: string, runId: string, leaseUntil: number, changes: Partial<JobRecord>) {
    return records.heartbeat(this.table, id, runId, leaseUntil, changes);
  }
  transition(id: string, from: readonly JobStatus[], changes: JobChanges) {
    return records.transition(this.table, id, from, changes);
  }
  removeJob(id: string, from: readonly JobStatus[]) {
    return records.removeJob(this.table, id, from);
  }
  getJobs(ids: readonly string[]) {
    return records.getJobs(this.table, ids);
  }
  openJobsOfType(type: string, tenant?: string) {
    return listing.openJobsOfType(this.table, type, tenant);
  }
  dueIn(openKey: string, before: number, next?: string) {
    return listing.dueIn(this.table, openKey, before, next);
  }
  recordCancel(type: string, request: CancelRequest, space: CancelLogSpace) {
    return cancelLog.recordCancel(this.table, type, request, space);
  }
  cancelsFor(type: string) {
    return cancelLog.cancelsFor(this.table, type);
  }
  dropCancels(type: string, applied: readonly CancelRequest[]) {
    return cancelLog.dropCancels(this.table, type, applied);
  }
  typesWithCancels(before: number) {
    return cancelLog.typesWithCancels(this.table, before);
  }
  reportFront(processId: string, front: number, at: number) {
    return progress.reportFront(this.table, processId, front, at);
  }
  reconcilerState() {
    return progress.reconcilerState(this.table);
  }
  saveReconcilerPosition(position: string | null) {
    return progress.saveReconcilerPosition(this.table, position);
  }
  forgetFronts(processIds: readonly string[]) {
    return progress.forgetFronts(this.table, processIds);
  }
  readShard(read: ShardRead) {
    return listing.readShard(this.table, read);
  }
  knownTypes() {
    return this.types.knownTypes();
  }
  noteScheduleRefusal(key: string, note: ScheduleRefusalNote | null) {
    return refusals.noteScheduleRefusal(this.table, key, note);
  }
  scheduleRefusals() {
    return refusals.scheduleRefusals(this.table);
  }
}
