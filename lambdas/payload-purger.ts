/**
 * The payload purger: the job table's stream (filtered by the construct to removals of records
 * that carry a `dataRef`) in, the removed records' payload objects deleted. A failed delete
 * throws, so Lambda reads the batch again; deleting twice is harmless.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { purgeRemovedPayloads } from "../lib/aws/payload-purge.ts";
import { S3Payloads } from "../lib/aws/payloads.ts";
import { payloadBucketFromEnvironment } from "../lib/environment.ts";

const payloads = new S3Payloads(new S3Client({}), payloadBucketFromEnvironment());

/** Deletes the payloads of the records removed in this batch. */
export async function handler(event: DynamoDBStreamEvent): Promise<{ purged: number }> {
  return { purged: await purgeRemovedPayloads(event.Records, payloads) };
}
