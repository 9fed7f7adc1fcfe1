/**
 * The payload bucket on S3: the `PayloadStore` port (lib/jobs/payload.ts), one request per
 * call, a multipart upload for large payloads. Error names become results (`null` for a
 * missing object); the policy is in lib/jobs.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { PAYLOAD_PREFIX, type PayloadStore } from "../jobs/payload.ts";

/**
 * Payloads above this go up in parts of this size: S3 takes up to 5 GiB in one PUT, but a
 * part is retried alone, and fauxqs (the local stack's S3) accepts at most 11 MiB a request.
 */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

const CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * Payloads as objects of one bucket. Each object carries its SHA-256 (S3 checks a single PUT
 * against it; the claim check checks every read).
 *
 * @example const payloads = new S3Payloads(clients.s3, "my-stack-payloads");
 */
export class S3Payloads implements PayloadStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Whether the bucket holds any payload (one ListObjectsV2 of at most one key). */
  async holdsAny(): Promise<boolean> {
    const { KeyCount = 0 } = await this.s3.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: PAYLOAD_PREFIX, MaxKeys: 1 }),
    );
    return KeyCount > 0;
  }

  async put(key: string, body: string, sha256: string): Promise<void> {
    const bytes = Buffer.from(body, "utf8");
    const metadata = { sha256 };
    if (bytes.length <= MULTIPART_PART_BYTES) {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: CONTENT_TYPE,
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
          Metadata: metadata,
        }),
      );
      return;
    }
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: CONTENT_TYPE,
        Metadata: metadata,
      }),
    );
    if (!UploadId) throw new Error(`S3 CreateMultipartUpload for ${key} returned no UploadId`);
    try {
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let offset = 0; offset < bytes.length; offset += MULTIPART_PART_BYTES) {
        const PartNumber = parts.length + 1;
        const { ETag } = await this.s3.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId,
            PartNumber,
            Body: bytes.subarray(offset, offset + MULTIPART_PART_BYTES),
          }),
        );
        if (!ETag) throw new Error(`S3 UploadPart ${PartNumber} of ${key} returned no ETag`);
        parts.push({ ETag, PartNumber });
      }
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      // Best effort; the bucket's lifecycle rule aborts what is left after a day.
      await this.s3
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId }))
        .catch(() => {});
      throw error;
    }
  }

  async get(key: string): Promise<string | null> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Body ? await Body.transformToString("utf8") : "";
    } catch (error) {
      if ((error as Error).name === "NoSuchKey") return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
