import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { JobMessage, LaneQueue } from "../jobs/ports.ts";
import { type LaneName, lanes } from "../resources.ts";

/** The priority lanes on SQS: one standard queue per lane, messages carry `{ id, type }`. */
export class SqsLanes implements LaneQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrls: Record<LaneName, string>,
  ) {}

  async enqueue(lane: LaneName, message: JobMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrls[lane],
        MessageBody: JSON.stringify(message),
        DelaySeconds: clampDelay(delaySeconds),
      }),
    );
  }

  async enqueueMany(lane: LaneName, messages: JobMessage[], delaySeconds: number): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      const batch = messages.slice(start, start + 10);
      const { Failed } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrls[lane],
          Entries: batch.map((message, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(message),
            DelaySeconds: clampDelay(delaySeconds),
          })),
        }),
      );
      if (Failed?.length) {
        // Entries that failed are sent one by one, so the SDK's own retries apply to them.
        for (const failed of Failed) {
          const message = batch[Number(failed.Id)];
          if (message) await this.enqueue(lane, message, delaySeconds);
        }
      }
    }
  }

  async delayRedelivery(queueArn: string, receiptHandle: string, seconds: number): Promise<void> {
    const QueueUrl = queueUrlForArn(this.queueUrls, queueArn);
    if (!QueueUrl) return;
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
      }),
    );
  }
}

export function queueUrlForArn(
  queueUrls: Record<LaneName, string>,
  queueArn: string,
): string | undefined {
  const name = queueArn.split(":").pop();
  return Object.values(queueUrls).find((url) => url.endsWith(`/${name}`));
}

/** SQS accepts whole seconds from 0 to 900. */
export function clampDelay(delaySeconds: number): number {
  return Math.min(lanes.maxDelaySeconds, Math.max(0, Math.ceil(delaySeconds)));
}

/** Parses a lane message body; `null` when it is not one of ours (poison). */
export function parseJobMessage(body: string): JobMessage | null {
  try {
    const value = JSON.parse(body) as Partial<JobMessage> | null;
    if (value && typeof value.id === "string" && typeof value.type === "string") {
      return typeof value.firedAt === "string"
        ? { id: value.id, type: value.type, firedAt: value.firedAt }
        : { id: value.id, type: value.type };
    }
  } catch {
    // fall through: not JSON
  }
  return null;
}
