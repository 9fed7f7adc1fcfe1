import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { SqsBatchHandler } from "../jobs/dispatcher.ts";
import type { JobLogger } from "../log.ts";
import { LANES, type LaneName } from "../resources.ts";

export interface PollerOptions {
  sqs: SQSClient;
  queueUrls: Record<LaneName, string>;
  queueArns: Record<LaneName, string>;
  region: string;
  handler: SqsBatchHandler;
  /** How many more messages the process can start now (free worker slots). */
  capacity(): number;
  /** Resolves when capacity may have changed, or after `timeoutMs`. */
  capacityChanged(timeoutMs: number): Promise<void>;
  logger: JobLogger;
  /** Long-poll wait when every lane is empty, in seconds. */
  waitSeconds?: number;
}

/**
 * The local stand-in for Lambda's SQS event source mappings: it reads the lanes in priority
 * order, hands the real dispatcher SQS-event-shaped batches, deletes what succeeded and leaves
 * `batchItemFailures` to come back after the visibility timeout, as the mapping does.
 *
 * Strict priority: it hands over messages only into free worker slots, one lane at a time,
 * and before handing over a lane's messages it short-polls every higher lane, so nothing
 * starts from a lower lane while a higher one holds a job. It long-polls only when all lanes
 * are empty; what a long poll brings is buffered and sorted by lane before it is handed over.
 */
export class LocalPoller {
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly longPolls = new Map<LaneName, Promise<void>>();
  /** Received, not yet handed over: sorted by lane on every round (strict priority). */
  private readonly buffer: Record<LaneName, Message[]> = { critical: [], normal: [], low: [] };
  private loop?: Promise<void>;

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.loop = this.run();
  }

  /** Stops receiving, waits up to `graceMs` for batches being handled, then returns. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.longPolls.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const free = this.options.capacity();
        if (free <= 0) {
          await this.options.capacityChanged(1000);
          continue;
        }
        // The best lane we hold messages for; first look for anything in a higher lane.
        let best = LANES.findIndex((lane) => this.buffer[lane].length > 0);
        if (best === -1) best = LANES.length;
        for (let i = 0; i < best; i += 1) {
          const lane = LANES[i] as LaneName;
          const messages = await this.receive(lane, Math.min(10, free), 0);
          if (messages.length > 0) {
            this.buffer[lane].push(...messages);
            best = i;
            break;
          }
        }
        if (this.stopped) return;
        const lane = LANES[best];
        if (lane) {
          this.dispatch(lane, this.buffer[lane].splice(0, Math.min(10, free)));
          continue;
        }
        // Every lane is empty: long-poll them all; whatever comes in is buffered and sorted
        // by lane on the next round.
        for (const lane of LANES) {
          if (this.longPolls.has(lane)) continue;
          const poll = this.receive(lane, Math.min(10, free), this.options.waitSeconds ?? 5)
            .then((messages) => {
              this.buffer[lane].push(...messages);
            })
            .catch((error: unknown) => {
              if (!this.stopped) {
                this.options.logger.error("poller receive failed", {
                  lane,
                  error: (error as Error).message,
                });
              }
            })
            .finally(() => this.longPolls.delete(lane));
          this.longPolls.set(lane, poll);
        }
        await Promise.race(this.longPolls.values());
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.error("poller receive failed", { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async receive(lane: LaneName, max: number, waitSeconds: number): Promise<Message[]> {
    const { Messages } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrls[lane],
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
      }),
      { abortSignal: this.abort.signal },
    );
    return Messages ?? [];
  }

  private dispatch(lane: LaneName, messages: Message[]): void {
    const event: SQSEvent = { Records: messages.map((message) => this.toRecord(lane, message)) };
    const handled = this.options
      .handler(event)
      .then(async (response) => {
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = messages.filter((message) => !failed.has(message.MessageId as string));
        if (done.length === 0) return;
        await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrls[lane],
            Entries: done.map((message, i) => ({
              Id: String(i),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
      })
      .catch((error: unknown) => {
        // As with Lambda: a handler that throws leaves the whole batch for redelivery.
        this.options.logger.error("batch failed", { lane, error: (error as Error).message });
      })
      .finally(() => this.inFlight.delete(handled));
    this.inFlight.add(handled);
  }

  private toRecord(lane: LaneName, message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId as string,
      receiptHandle: message.ReceiptHandle as string,
      body: message.Body ?? "",
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? "local",
        ApproximateFirstReceiveTimestamp:
          attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: this.options.queueArns[lane],
      awsRegion: this.options.region,
    };
  }
}
