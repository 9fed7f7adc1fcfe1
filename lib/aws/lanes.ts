import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobMessage, LaneQueue } from "../jobs/deps.ts";
import { type LaneName, lanes } from "../resources.ts";

/** SQS takes at most 10 entries per `SendMessageBatch`. */
const SEND_BATCH_SIZE = 10;

/**
 * The priority lanes on SQS: one standard queue per lane, messages carry `{ id, type }`.
 *
 * @example await new SqsLanes(clients.sqs, queueUrls).send("normal", { id, type }, 0);
 */
export class SqsLanes implements LaneQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrls: Record<LaneName, string>,
  ) {}

  async send(lane: LaneName, message: JobMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrls[lane],
        MessageBody: JSON.stringify(message),
        DelaySeconds: clampDelay(delaySeconds),
      }),
    );
  }

  async sendMany(lane: LaneName, messages: JobMessage[], delaySeconds: number): Promise<void> {
    for (let start = 0; start < messages.length; start += SEND_BATCH_SIZE) {
      const batch = messages.slice(start, start + SEND_BATCH_SIZE);
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
      // Entries that failed are sent one by one, so the SDK's own retries apply to them.
      for (const failed of Failed ?? []) {
        const message = batch[Number(failed.Id)];
        if (message) await this.send(lane, message, delaySeconds);
      }
    }
  }
}

/**
 * The lane queue URL for a queue ARN (an SQS event names its queue by ARN), or `undefined`
 * when the ARN is not one of the lanes.
 *
 * @example queueUrlForArn(urls, "arn:aws:sqs:us-east-1:123:prod-normal") // urls.normal
 */
export function queueUrlForArn(
  queueUrls: Record<LaneName, string>,
  queueArn: string,
): string | undefined {
  const name = queueArn.split(":").pop();
  return Object.values(queueUrls).find((url) => url.endsWith(`/${name}`));
}

/**
 * SQS accepts whole seconds from 0 to 900: a delay is rounded up, so a job is never early.
 *
 * @example clampDelay(1.2) // 2
 */
export function clampDelay(delaySeconds: number): number {
  return Math.min(lanes.maxDelaySeconds, Math.max(0, Math.ceil(delaySeconds)));
}
