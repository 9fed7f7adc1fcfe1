/**
 * Purged with its record: the payload of every removed job record goes too. One function for
 * both carriers of the table's stream: the payload purger Lambda (a DynamoDB event source
 * filtered to removals of records with a `dataRef`) and the local stack's stream reader
 * (lib/local/table-stream.ts), which hands it the records `GetRecords` returned. A removal is
 * a removal whoever made it: `job.remove()`, an operator's purge, DynamoDB's TTL.
 */
import { type PayloadStore, payloadKey } from "../jobs/payload.ts";

/** A DynamoDB attribute value as stream records carry it (the Lambda event and `GetRecords` alike). */
interface StreamAttribute {
  S?: string;
  N?: string;
  M?: Record<string, StreamAttribute>;
}

/** The part of a stream record the purge reads. */
export interface RemovedRecordLike {
  eventName?: string;
  dynamodb?: { OldImage?: Record<string, StreamAttribute> };
}

/**
 * The payload keys of the removed records among `records`: a `REMOVE` whose old image carries
 * a `dataRef`, and only the record's own key (`payloadKey(_id)`), so a malformed image can
 * never delete another job's payload.
 *
 * @example removedPayloadKeys(event.Records) // ["data/a1B2c3.json"]
 */
export function removedPayloadKeys(records: readonly RemovedRecordLike[]): string[] {
  const keys: string[] = [];
  for (const record of records) {
    if (record.eventName !== "REMOVE") continue;
    const image = record.dynamodb?.OldImage;
    const id = image?._id?.S;
    const key = image?.dataRef?.M?.key?.S;
    if (id !== undefined && key !== undefined && key === payloadKey(id)) keys.push(key);
  }
  return keys;
}

/**
 * Deletes the payloads of the records removed in a batch of stream records. Throws when a
 * delete fails, so the batch is read again (deleting twice is harmless).
 *
 * @example await purgeRemovedPayloads(event.Records, new S3Payloads(s3, bucket));
 */
export async function purgeRemovedPayloads(
  records: readonly RemovedRecordLike[],
  payloads: PayloadStore,
): Promise<number> {
  const keys = removedPayloadKeys(records);
  await Promise.all(keys.map((key) => payloads.delete(key)));
  return keys.length;
}
