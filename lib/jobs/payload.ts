/**
 * Large `data` as a claim check: the policy (how big `data` may be, from what size it leaves
 * the record, where it goes, what the record keeps of it) and the port of the object store
 * that holds it. The S3 adapter is `lib/aws/payloads.ts`; the store wrapper that applies the
 * policy is `claim-check.ts`.
 */
import { createHash } from "node:crypto";
import { JobValidationError } from "../errors.ts";

/**
 * The largest `data` accepted: MongoDB's document limit, 16 MiB (16,777,216 bytes), measured
 * as the UTF-8 bytes of `data`'s JSON text, the form it is stored and hashed in. (BSON sizes
 * differ from JSON's by a few bytes a field; the bound, not the encoding, is what Reaction
 * plugins were written against.)
 */
export const MAX_DATA_BYTES = 16 * 1024 * 1024;

/**
 * The largest `data` kept in the job record itself: 256 KiB of JSON. A DynamoDB item holds
 * 400 KB; a record also carries its result (32 KiB), failures and log (16 KiB each), attempts
 * and audit (8 KiB each) and its own fields, bounded in `records.ts`, which leaves 256 KiB
 * with some 60 KB to spare. Larger `data` goes to the payload bucket (a claim check) and the
 * record keeps a `PayloadRef`. SQS never sees `data` (a message carries the job id).
 */
export const INLINE_DATA_MAX_BYTES = 256 * 1024;

/** Where payloads live in the bucket: the construct's grants and lifecycle rule are scoped to it. */
export const PAYLOAD_PREFIX = "data/";

/** What a record keeps of `data` that went to the bucket: the claim check. */
export interface PayloadRef {
  /** The object's key in the payload bucket: `payloadKey(job id)`. */
  key: string;
  /** The size of `data`'s JSON text, UTF-8 bytes. */
  bytes: number;
  /** SHA-256 (hex) of that text: checked on every read, so a wrong object is never run. */
  sha256: string;
}

/**
 * What the claim check needs from an object store. Each call is one request (or one multipart
 * upload); a missing object is `null`, never the store's own error.
 */
export interface PayloadStore {
  /** Writes `body` (JSON text) under `key`, replacing what is there: a retried write is harmless. */
  put(key: string, body: string, sha256: string): Promise<void>;
  /** The text under `key`, or `null` when there is none. */
  get(key: string): Promise<string | null>;
  /** Deletes `key`; a missing object is fine. */
  delete(key: string): Promise<void>;
}

/**
 * The object key of a job's payload: derived from its id alone, so writing it again (a retried
 * `scheduleJob` write, a migration run twice) lands on the same object, and the record that
 * owns it is known from the key.
 *
 * @example payloadKey("a1B2c3") // "data/a1B2c3.json"
 */
export function payloadKey(jobId: string): string {
  return `${PAYLOAD_PREFIX}${encodeURIComponent(jobId)}.json`;
}

/** SHA-256 of a payload's text, hex. */
export function payloadHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Whether `data`'s JSON text goes to the bucket (over `INLINE_DATA_MAX_BYTES`), with its size.
 *
 * @example claimCheckNeeded(JSON.stringify({ html: "x".repeat(300_000) })).needed // true
 */
export function claimCheckNeeded(text: string): { needed: boolean; bytes: number } {
  const bytes = Buffer.byteLength(text, "utf8");
  return { needed: bytes > INLINE_DATA_MAX_BYTES, bytes };
}

/**
 * Refuses `data` larger than MongoDB accepted, naming `data` and the measure used.
 *
 * @example checkDataSize(JSON.stringify(data)) // throws a JobValidationError past 16 MiB
 */
export function checkDataSize(text: string): void {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_DATA_BYTES) {
    throw new JobValidationError(
      "data",
      `is ${bytes} bytes as UTF-8 JSON; the limit is ${MAX_DATA_BYTES} (16 MiB, MongoDB's document limit). Store it elsewhere and pass a reference`,
    );
  }
}

/** Why a payload could not be read: what `PayloadUnavailableError.reason` says. */
export type PayloadProblem = "missing" | "changed" | "malformed reference" | "no bucket";

const PROBLEMS: Record<PayloadProblem, string> = {
  missing: "its object is missing (purged with its record, or never written)",
  changed: "its object does not match the record's SHA-256",
  "malformed reference": "the record's reference is malformed",
  "no bucket": "no payload bucket is configured (JOBS_PAYLOAD_BUCKET)",
};

/** A claim-checked record's payload could not be read as written: missing or changed. */
export class PayloadUnavailableError extends Error {
  override name = "PayloadUnavailableError";
  /** The job field at fault: always `data`. */
  readonly field = "data";
  constructor(
    readonly jobId: string,
    readonly key: string,
    readonly reason: PayloadProblem,
  ) {
    super(`data of job ${jobId}: ${PROBLEMS[reason]} (payload ${key})`);
  }
}

/** Whether a stored value is a `PayloadRef` (the record codec reads it back as a plain map). */
export function isPayloadRef(value: unknown): value is PayloadRef {
  if (typeof value !== "object" || value === null) return false;
  const ref = value as Record<string, unknown>;
  return (
    typeof ref.key === "string" && typeof ref.bytes === "number" && typeof ref.sha256 === "string"
  );
}
