import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { type SqsBatchHandler, sqsRecord } from "../aws/sqs-batch.ts";
import type { JobMessage } from "../jobs/deps.ts";
import { parseJobMessage } from "../jobs/message.ts";
import type { JobLogger } from "../log.ts";
import { LANES, type LaneName } from "../resources.ts";
import { FairShare, pickDeliverable } from "./pick.ts";

/**
 * Received messages held per lane, at most: a higher lane is always read while it has room.
 * Deep enough that a shop queueing behind another's backlog of thousands is seen (and picked
 * in turn) soon: fauxqs keeps no `MessageGroupId` on standard queues, so the poller, not the
 * queue, gives fairness locally, among what it holds.
 */
const BUFFER_PER_LANE = 10_000;

export interface PollerOptions {
  sqs: SQSClient;
  queueUrls: Record<LaneName, string>;
  queueArns: Record<LaneName, string>;
  region: string;
  handler: SqsBatchHandler;
  /** How many more jobs of `type` the process can start now (unbounded: takes no slot). */
  freeFor(type: string): number;
  /** Resolves when capacity may have changed, or after `timeoutMs`. */
  capacityChanged(timeoutMs: number): Promise<void>;
  logger: JobLogger;
  /** Long-poll wait when every lane is empty, in seconds. */
  waitSeconds?: number;
  /** A message was received and is held here (the delivery front counts it, `front.ts`). */
  hold?(messageId: string, message: JobMessage): void;
}

/**
 * The local stand-in for Lambda's SQS event source mappings: it reads the lanes, hands the
 * real dispatcher SQS-event-shaped batches, deletes what succeeded and leaves
 * `batchItemFailures` to come back, as the mapping does.
 *
 * Strict priority per job type, fair among tenants (`pickDeliverable`): every round it reads each lane that has buffer room (so it
 * holds every visible message, up to its buffer), then hands over only what `pickDeliverable`
 * allows: into free slots of the message's type, never a lower lane's job of a type while a
 * higher lane holds one of it. It long-polls only when every lane is empty.
 */
export class LocalPoller {
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly longPolls = new Map<LaneName, Promise<void>>();
  private readonly buffer: Record<LaneName, Message[]> = { critical: [], normal: [], low: [] };
  private readonly parsed = new WeakMap<Message, JobMessage | null>();
  private readonly fairness = new FairShare();
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
        let received = 0;
        for (const lane of LANES) {
          const room = BUFFER_PER_LANE - this.buffer[lane].length;
          if (room <= 0 || this.longPolls.has(lane)) continue;
          const messages = await this.receive(lane, Math.min(10, room), 0);
          this.buffer[lane].push(...messages);
          received += messages.length;
        }
        if (this.stopped) return;
        const picked = pickDeliverable(
          this.buffer,
          (message) => this.parse(message)?.type ?? null,
          (type) => this.options.freeFor(type),
          (message) => this.parse(message)?.group ?? "",
          this.fairness,
        );
        let handed = 0;
        for (const lane of LANES) {
          for (let start = 0; start < picked[lane].length; start += 10) {
            this.dispatch(lane, picked[lane].slice(start, start + 10));
          }
          handed += picked[lane].length;
        }
        if (handed > 0 || received > 0) continue;
        if (LANES.some((lane) => this.buffer[lane].length > 0)) {
          // Everything held waits for a slot: wait for one, then look at the lanes again.
          await this.options.capacityChanged(1000);
          continue;
        }
        await this.longPollAll();
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.error("poller receive failed", { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Every lane is empty: long-poll them all; what comes in is sorted out on the next round. */
  private async longPollAll(): Promise<void> {
    for (const lane of LANES) {
      if (this.longPolls.has(lane)) continue;
      const poll = this.receive(lane, 10, this.options.waitSeconds ?? 5)
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
  }

  private parse(message: Message): JobMessage | null {
    let parsed = this.parsed.get(message);
    if (parsed === undefined) {
      parsed = parseJobMessage(message.Body ?? "");
      this.parsed.set(message, parsed);
    }
    return parsed;
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
    for (const message of Messages ?? []) {
      const parsed = this.parse(message);
      if (parsed && message.MessageId) this.options.hold?.(message.MessageId, parsed);
    }
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
    return sqsRecord(message, this.options.queueArns[lane], this.options.region);
  }
}
