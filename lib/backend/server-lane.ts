/**
 * The server lane's consumer: what an API server runs to take the jobs of the types placed on
 * it (`JOBS_SERVER_TYPES`). It long-polls the server lane's queue and hands each batch to the
 * same dispatcher Lambda's event source mapping calls (`JobBackend.handleSqsEvent`), so the
 * claim, the fences, cancel, per-type concurrency and the retry and DLQ rules are Lambda's.
 * It receives only as many messages as its server types' workers have free slots, so a
 * server never holds jobs another server could start.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { type SqsBatchHandler, sqsRecord } from "../aws/sqs-batch.ts";
import type { JobLogger } from "../log.ts";
import { lanes } from "../resources.ts";

export interface ServerLaneConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  region: string;
  handler: SqsBatchHandler;
  /** How many more server-lane jobs this process can start now (free slots of its server types). */
  capacity(): number;
  /** Resolves when capacity may have changed, or after `timeoutMs`. */
  capacityChanged(timeoutMs: number): Promise<void>;
  logger: JobLogger;
  /** Long-poll wait in seconds: default 20, the SQS maximum (tests shorten it). */
  waitSeconds?: number;
}

/**
 * Long-polls the server lane and dispatches what it receives, until `stop()`.
 *
 * @example
 * const consumer = new ServerLaneConsumer({ sqs, queueUrl, region, handler, capacity, capacityChanged, logger });
 * consumer.start();
 * await consumer.stop();
 */
export class ServerLaneConsumer {
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly queueArn: string;
  private loop?: Promise<void>;

  constructor(private readonly options: ServerLaneConsumerOptions) {
    this.queueArn = queueArnOf(options.queueUrl, options.region);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the long poll at once, then waits up to `graceMs` for the batches being handled. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
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
    const { options } = this;
    while (!this.stopped) {
      try {
        const room = options.capacity();
        if (room <= 0) {
          // Every slot busy (or no worker of a server type yet): take nothing another server could start.
          await options.capacityChanged(1000);
          continue;
        }
        const { Messages = [] } = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(lanes.batchSize, room),
            WaitTimeSeconds: options.waitSeconds ?? lanes.receiveWaitSeconds,
            MessageSystemAttributeNames: ["All"],
          }),
          { abortSignal: this.abort.signal },
        );
        if (Messages.length > 0 && !this.stopped) this.dispatch(Messages);
      } catch (error) {
        if (this.stopped) return;
        options.logger.error("server lane receive failed", { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** As an event source mapping: the batch to the dispatcher, then delete what succeeded. */
  private dispatch(messages: Message[]): void {
    const { options } = this;
    const event: SQSEvent = {
      Records: messages.map((message) => sqsRecord(message, this.queueArn, options.region)),
    };
    const handled = options
      .handler(event)
      .then(async (response) => {
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = messages.filter((message) => !failed.has(message.MessageId as string));
        if (done.length === 0) return;
        await options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done.map((message, i) => ({
              Id: String(i),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
      })
      .catch((error: unknown) => {
        // As with Lambda: a batch that failed as a whole comes back after its visibility timeout.
        options.logger.error("server lane batch failed", { error: (error as Error).message });
      })
      .finally(() => this.inFlight.delete(handled));
    this.inFlight.add(handled);
  }
}

/**
 * A queue's ARN from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`), as an
 * SQS event names the queue: the dispatcher knows the lane by the name at its end.
 *
 * @example queueArnOf("https://sqs.eu-west-1.amazonaws.com/123/prod-server", "eu-west-1") // "arn:aws:sqs:eu-west-1:123:prod-server"
 */
export function queueArnOf(queueUrl: string, region: string): string {
  const [account = "000000000000", name = ""] = new URL(queueUrl).pathname
    .split("/")
    .filter(Boolean)
    .slice(-2);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}
