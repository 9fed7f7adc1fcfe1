/**
 * fauxqs keeps S3 objects in memory, while DynamoDB Local keeps the records in the data
 * folder: without this, a claim-checked job would outlive its payload across an `npm start`
 * restart. The table's stream (the reader the purge uses) mirrors each new record's payload
 * to `<dataDir>/payloads/` and drops it with its record; on start the folder goes back into
 * the bucket. Local only: on AWS the bucket is durable.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import { removedPayloadKeys } from "../aws/payload-purge.ts";
import { type PayloadStore, payloadHash, payloadKey } from "../jobs/payload.ts";

/** A payload's file name: its key, escaped to one path segment. */
const fileOf = (dir: string, key: string) => join(dir, encodeURIComponent(key));

/**
 * Puts every payload kept in `dir` back into the bucket; resolves how many.
 *
 * @example await restorePayloads(join(dataDir, "payloads"), payloads)
 */
export async function restorePayloads(dir: string, payloads: PayloadStore): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const files = readdirSync(dir);
  for (const file of files) {
    const body = readFileSync(join(dir, file), "utf8");
    await payloads.put(decodeURIComponent(file), body, payloadHash(body));
  }
  return files.length;
}

/**
 * Keeps `dir` in step with the bucket from the table's stream records: a new record's payload
 * (if it has one) is copied there, a removed record's is deleted.
 *
 * @example onRecords: (records) => mirrorPayloads(dir, payloads, records)
 */
export async function mirrorPayloads(
  dir: string,
  payloads: PayloadStore,
  records: readonly StreamRecord[],
): Promise<void> {
  // In stream order: a record removed and written again in one batch ends with its payload.
  for (const record of records) {
    const id = record.dynamodb?.Keys?._id?.S;
    if (record.eventName === "INSERT" && id !== undefined) {
      const key = payloadKey(id);
      const body = await payloads.get(key);
      if (body !== null) writeFileSync(fileOf(dir, key), body);
    }
    for (const key of removedPayloadKeys([record])) rmSync(fileOf(dir, key), { force: true });
  }
}
