import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { LaneName } from "../../resources.ts";
import type { DeadLetter, QueueDepth, QueueInspector } from "../ports.ts";

/** A lane's or DLQ's attributes could not be read: names the queue, keeps the SDK's error as cause. */
export class QueueReadError extends Error {
  override name = "QueueReadError";

  constructor(
    readonly queueUrl: string,
    cause: unknown,
  ) {
    const name = (cause as Error)?.name;
    const message = (cause as Error)?.message ?? String(cause);
    const said =
      !name || name === "Error" || name === "ServiceUnreachableError"
        ? message
        : `${name}: ${message}`;
    super(`queue ${queueUrl}: ${said}`, { cause });
  }
}

/** How long a peeked dead letter stays hidden if making it visible again fails. */
const PEEK_VISIBILITY_SECONDS = 30;
const MAX_RECEIVES = 20;

/**
 * The lanes and their DLQs on SQS, for operators: approximate counts (GetQueueAttributes),
 * and a peek at the dead letters that leaves them in place. Never receives from a lane
 * itself: a receive counts toward a message's `maxReceiveCount` and would push it to the DLQ.
 *
 * @example await new SqsQueueInspector(sqs, queueUrls, dlqUrls).depth("normal")
 */
export class SqsQueueInspector implements QueueInspector {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: Record<LaneName, string>,
    private readonly deadLetterQueueUrls: Record<LaneName, string> | undefined,
  ) {}

  async depth(lane: LaneName): Promise<QueueDepth> {
    const lanes = await this.attributes(this.queueUrls[lane]);
    const dlq = this.deadLetterQueueUrls
      ? await this.attributes(this.deadLetterQueueUrls[lane])
      : {};
    return {
      visible: count(lanes.ApproximateNumberOfMessages),
      inFlight: count(lanes.ApproximateNumberOfMessagesNotVisible),
      delayed: count(lanes.ApproximateNumberOfMessagesDelayed),
      deadLetters: count(dlq.ApproximateNumberOfMessages),
    };
  }

  async peekDeadLetters(lane: LaneName, limit: number): Promise<DeadLetter[]> {
    const QueueUrl = this.deadLetterQueueUrls?.[lane];
    if (!QueueUrl) return [];
    const seen = new Map<string, Message>();
    for (let i = 0; i < MAX_RECEIVES && seen.size < limit; i += 1) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          WaitTimeSeconds: 0,
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) if (message.MessageId) seen.set(message.MessageId, message);
    }
    const received = [...seen.values()];
    // Put them back at once: a peek must not hide messages from a redrive.
    for (let start = 0; start < received.length; start += 10) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: received.slice(start, start + 10).map((message, i) => ({
            Id: String(i),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
    return received.map((message) => {
      const sent = Number(message.Attributes?.SentTimestamp);
      return {
        messageId: message.MessageId as string,
        body: message.Body ?? "",
        receiveCount: count(message.Attributes?.ApproximateReceiveCount),
        ...(Number.isFinite(sent) && sent > 0 ? { sentAt: sent } : {}),
      };
    });
  }

  private async attributes(QueueUrl: string): Promise<Record<string, string>> {
    try {
      const { Attributes = {} } = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      );
      return Attributes;
    } catch (error) {
      // The SDK's QueueDoesNotExist does not say which of the six queues.
      throw new QueueReadError(QueueUrl, error);
    }
  }
}

function count(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}
