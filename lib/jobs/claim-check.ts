/**
 * The claim check applied at the store seam: a `JobStore` that keeps large `data` in a
 * payload store (S3) and gives every caller the record with its whole `data`, so the
 * lifecycle, the worker, `getJob`, the Jobs view, `cancelJobs` matching and the operator tools
 * need not know. Policy (sizes, key, reference) is in `payload.ts`.
 */
import { JobValidationError } from "../errors.ts";
import {
  checkDataSize,
  claimCheckNeeded,
  INLINE_DATA_MAX_BYTES,
  isPayloadRef,
  type PayloadRef,
  type PayloadStore,
  PayloadUnavailableError,
  payloadHash,
  payloadKey,
} from "./payload.ts";
import type { JobStore } from "./ports.ts";
import type { JobRecord, JsonObject } from "./types.ts";

/**
 * Payload texts this process read or wrote lately, by key and hash, up to `maxBytes`, least
 * recently used dropped first. A payload never changes under its hash, so a job's claim,
 * settle and later reads fetch it once.
 */
class PayloadCache {
  private readonly texts = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(id: string): string | undefined {
    const text = this.texts.get(id);
    if (text === undefined) return undefined;
    this.texts.delete(id);
    this.texts.set(id, text);
    return text;
  }

  set(id: string, text: string): void {
    if (this.texts.has(id) || text.length > this.maxBytes) return;
    this.texts.set(id, text);
    this.bytes += text.length;
    for (const [oldest, old] of this.texts) {
      if (this.bytes <= this.maxBytes) break;
      this.texts.delete(oldest);
      this.bytes -= old.length;
    }
  }
}

/** Default: room for two of the largest payloads (16 MiB each) in a 512 MB function. */
export const DEFAULT_PAYLOAD_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Wraps a job table so that `data` over `INLINE_DATA_MAX_BYTES` goes to `payloads`: written
 * under the job's key BEFORE the record's conditional put (a retried put finds the same
 * object), the record carrying a `PayloadRef`; every record read back has its whole `data`,
 * checked against the reference's hash. Without `payloads` (a deployment that names no
 * bucket), such `data` is refused with a `JobValidationError` naming `data`.
 *
 * @example const store = new ClaimCheckedStore(new DynamoJobStore(documents, { tableName }), s3Payloads);
 */
export class ClaimCheckedStore implements JobStore {
  private readonly cache: PayloadCache;
  private readonly reading = new Map<string, Promise<string>>();

  constructor(
    private readonly inner: JobStore,
    private readonly payloads: PayloadStore | undefined,
    options: { cacheBytes?: number } = {},
  ) {
    this.cache = new PayloadCache(options.cacheBytes ?? DEFAULT_PAYLOAD_CACHE_BYTES);
  }

  async insertJob(record: JobRecord): Promise<"inserted" | "exists"> {
    // A copy of another job (a rerun, an occurrence) writes its data again under its own key.
    const { dataRef: _copied, ...fresh } = record;
    const text = JSON.stringify(fresh.data);
    const { needed, bytes } = claimCheckNeeded(text);
    if (!needed) return this.inner.insertJob(fresh);
    checkDataSize(text);
    if (!this.payloads) {
      throw new JobValidationError(
        "data",
        `is ${bytes} bytes as JSON; over ${INLINE_DATA_MAX_BYTES} it goes to the payload bucket, and this deployment names none (set JOBS_PAYLOAD_BUCKET, as the construct does)`,
      );
    }
    const ref: PayloadRef = { key: payloadKey(fresh._id), bytes, sha256: payloadHash(text) };
    await this.payloads.put(ref.key, text, ref.sha256);
    this.cache.set(cacheId(ref), text);
    try {
      return await this.inner.insertJob({ ...fresh, data: {}, dataRef: ref });
    } catch (error) {
      await this.dropOrphan(fresh._id, ref.key);
      throw error;
    }
  }

  async getJob(id: string) {
    return this.whole(await this.inner.getJob(id));
  }
  async getJobs(ids: readonly string[]) {
    const records = await this.inner.getJobs(ids);
    const whole = await Promise.all(
      records.map((record) =>
        this.whole(record).catch((error: unknown) => {
          // Its record is being removed (the purge deletes the object): leave it out, as the
          // listing leaves out a record removed a moment earlier.
          if (error instanceof PayloadUnavailableError && error.reason === "missing") return null;
          throw error;
        }),
      ),
    );
    return whole.filter((record): record is JobRecord => record !== null);
  }
  async claimJob(...args: Parameters<JobStore["claimJob"]>) {
    const result = await this.inner.claimJob(...args);
    return "claimed" in result
      ? { claimed: await this.wholeRecord(result.claimed) }
      : { current: await this.whole(result.current) };
  }
  async settleRun(...args: Parameters<JobStore["settleRun"]>) {
    return this.whole(await this.inner.settleRun(...args));
  }
  async expireRun(...args: Parameters<JobStore["expireRun"]>) {
    return this.whole(await this.inner.expireRun(...args));
  }
  async recordFiring(...args: Parameters<JobStore["recordFiring"]>) {
    return this.whole(await this.inner.recordFiring(...args));
  }
  async transition(...args: Parameters<JobStore["transition"]>) {
    return this.whole(await this.inner.transition(...args));
  }
  heartbeat(...args: Parameters<JobStore["heartbeat"]>) {
    return this.inner.heartbeat(...args);
  }
  removeJob(...args: Parameters<JobStore["removeJob"]>) {
    // The payload goes with the record through the table's stream (lib/aws/payload-purge.ts),
    // which sees TTL deletions too: one path for every way a record goes.
    return this.inner.removeJob(...args);
  }
  openJobsOfType(...args: Parameters<JobStore["openJobsOfType"]>) {
    return this.inner.openJobsOfType(...args);
  }
  dueIn(...args: Parameters<JobStore["dueIn"]>) {
    return this.inner.dueIn(...args);
  }
  recordCancel(...args: Parameters<JobStore["recordCancel"]>) {
    return this.inner.recordCancel(...args);
  }
  cancelsFor(...args: Parameters<JobStore["cancelsFor"]>) {
    return this.inner.cancelsFor(...args);
  }
  dropCancels(...args: Parameters<JobStore["dropCancels"]>) {
    return this.inner.dropCancels(...args);
  }
  typesWithCancels(...args: Parameters<JobStore["typesWithCancels"]>) {
    return this.inner.typesWithCancels(...args);
  }
  reportFront(...args: Parameters<JobStore["reportFront"]>) {
    return this.inner.reportFront(...args);
  }
  reconcilerState() {
    return this.inner.reconcilerState();
  }
  saveReconcilerPosition(...args: Parameters<JobStore["saveReconcilerPosition"]>) {
    return this.inner.saveReconcilerPosition(...args);
  }
  forgetFronts(...args: Parameters<JobStore["forgetFronts"]>) {
    return this.inner.forgetFronts(...args);
  }
  readShard(...args: Parameters<JobStore["readShard"]>) {
    return this.inner.readShard(...args);
  }
  knownTypes() {
    return this.inner.knownTypes();
  }
  noteScheduleRefusal(...args: Parameters<JobStore["noteScheduleRefusal"]>) {
    return this.inner.noteScheduleRefusal(...args);
  }
  scheduleRefusals() {
    return this.inner.scheduleRefusals();
  }

  private async whole(record: JobRecord | null): Promise<JobRecord | null> {
    return record ? this.wholeRecord(record) : null;
  }

  /** The record with its payload read back into `data` (a record without one as it is). */
  private async wholeRecord(record: JobRecord): Promise<JobRecord> {
    const ref = record.dataRef;
    if (ref === undefined) return record;
    if (!isPayloadRef(ref) || !this.payloads) {
      throw new PayloadUnavailableError(
        record._id,
        String((ref as { key?: unknown })?.key),
        this.payloads ? "malformed reference" : "no bucket",
      );
    }
    const text = await this.payloadText(record._id, ref, this.payloads);
    return { ...record, data: JSON.parse(text) as JsonObject };
  }

  private payloadText(jobId: string, ref: PayloadRef, payloads: PayloadStore): Promise<string> {
    const id = cacheId(ref);
    const cached = this.cache.get(id);
    if (cached !== undefined) return Promise.resolve(cached);
    let reading = this.reading.get(id);
    if (!reading) {
      reading = (async () => {
        const text = await payloads.get(ref.key);
        if (text === null) throw new PayloadUnavailableError(jobId, ref.key, "missing");
        if (payloadHash(text) !== ref.sha256)
          throw new PayloadUnavailableError(jobId, ref.key, "changed");
        this.cache.set(id, text);
        return text;
      })().finally(() => this.reading.delete(id));
      this.reading.set(id, reading);
    }
    return reading;
  }

  /**
   * After a failed put: deletes the payload only when the record is known not to exist (a put
   * that timed out may still have been written, and its job needs the object).
   */
  private async dropOrphan(jobId: string, key: string): Promise<void> {
    try {
      if ((await this.inner.getJob(jobId)) === null) await this.payloads?.delete(key);
    } catch {
      // Unknown: keep it (an orphan costs storage; a missing payload would cost the job).
    }
  }
}

function cacheId(ref: PayloadRef): string {
  return `${ref.key}#${ref.sha256}`;
}
