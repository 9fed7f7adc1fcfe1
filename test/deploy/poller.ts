import { type LambdaClient, ListEventSourceMappingsCommand } from "@aws-sdk/client-lambda";
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { DeployedFunction } from "./lambda-runtime.ts";

/** An event source mapping as deployed: the queue it reads, how many, how failures count. */
export interface QueueMapping {
  queueArn: string;
  queueUrl: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

/** What one poller has done, for the test's figures. */
export interface PollerCounts {
  invocations: number;
  /** Messages deleted after a successful invocation. */
  deleted: number;
  /** Messages left on the queue: a batch item failure, or a whole batch that failed. */
  leftOnQueue: number;
  /** Receives answered as a crashed invocation (see `crashing`). */
  crashed: number;
}

/**
 * The dispatcher's SQS event source mappings, as deployed (`ListEventSourceMappings`), with
 * each queue's URL.
 */
export async function deployedMappings(
  lambda: LambdaClient,
  sqs: SQSClient,
  functionName: string,
): Promise<QueueMapping[]> {
  const { EventSourceMappings = [] } = await lambda.send(
    new ListEventSourceMappingsCommand({ FunctionName: functionName }),
  );
  const mappings: QueueMapping[] = [];
  for (const mapping of EventSourceMappings) {
    const queueArn = mapping.EventSourceArn ?? "";
    const queueName = queueArn.split(":").pop() ?? "";
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    mappings.push({
      queueArn,
      queueUrl: QueueUrl ?? "",
      batchSize: mapping.BatchSize ?? 10,
      reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes(
        "ReportBatchItemFailures",
      ),
    });
  }
  return mappings;
}

/**
 * What Lambda's SQS event source mapping does for a function, over moto's queues (moto keeps
 * the mappings but invokes nothing without Docker): each mapping's queue is read in batches of
 * its `BatchSize`, handed to the function as an SQS event, and the batch's messages deleted
 * after the invocation returns, except, with `ReportBatchItemFailures`, the ones it names. A
 * throw, or a response naming a message that was not in the batch, leaves the whole batch.
 *
 * Left messages come back after the queue's visibility timeout, as on AWS. The deployed
 * lanes' is 5,400 s (6 × the function timeout); a test that needs a failed message back in
 * its time sets a queue's entry (by name) in `visibilityTimeouts`, which this poller then passes to
 * ReceiveMessage (SQS lets a receiver ask for its own). `crashing` makes a queue's receives
 * end as a crashed invocation would: nothing invoked, the batch left on the queue.
 */
export class LambdaSqsPoller {
  readonly counts: PollerCounts = { invocations: 0, deleted: 0, leftOnQueue: 0, crashed: 0 };
  /** Queue name → the visibility timeout (s) its receives ask for; the queue's own otherwise. */
  readonly visibilityTimeouts = new Map<string, number>();
  /** Queue names whose receives crash (a dispatcher that keeps dying before it answers). */
  readonly crashing = new Set<string>();
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly fn: DeployedFunction,
    readonly mappings: QueueMapping[],
    private readonly region: string,
    private readonly idleMs = 150,
  ) {}

  /** Reads every mapping's queue, each in its own loop (invocations may overlap, as on AWS). */
  start(): void {
    this.running = true;
    this.loops = this.mappings.map((mapping) => this.loop(mapping));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(mapping: QueueMapping): Promise<void> {
    while (this.running) {
      const handled = await this.pollOnce(mapping).catch(() => 0);
      if (handled === 0) await new Promise((resolve) => setTimeout(resolve, this.idleMs));
    }
  }

  /** One receive and, if it got messages, one invocation; resolves how many it received. */
  async pollOnce(mapping: QueueMapping): Promise<number> {
    const visibility = this.visibilityTimeouts.get(queueName(mapping.queueArn));
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: mapping.queueUrl,
        MaxNumberOfMessages: mapping.batchSize,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
        ...(visibility === undefined ? {} : { VisibilityTimeout: visibility }),
      }),
    );
    if (Messages.length === 0) return 0;
    if (this.crashing.has(queueName(mapping.queueArn))) {
      this.counts.crashed += Messages.length;
      this.counts.leftOnQueue += Messages.length;
      return Messages.length;
    }
    const event: SQSEvent = { Records: Messages.map((m) => this.record(m, mapping.queueArn)) };
    this.counts.invocations += 1;
    let failed: Set<string>;
    try {
      const response = await this.fn.invoke<SQSBatchResponse | undefined>(event);
      failed = this.failedIds(response, mapping, event.Records);
    } catch {
      failed = new Set(event.Records.map((r) => r.messageId));
    }
    const done = Messages.filter((m) => !failed.has(m.MessageId ?? ""));
    this.counts.leftOnQueue += failed.size;
    for (let at = 0; at < done.length; at += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: mapping.queueUrl,
          Entries: done.slice(at, at + 10).map((m, index) => ({
            Id: String(index),
            ReceiptHandle: m.ReceiptHandle,
          })),
        }),
      );
    }
    this.counts.deleted += done.length;
    return Messages.length;
  }

  /** The messages to leave: the named ones, or all when the answer cannot be trusted. */
  private failedIds(
    response: SQSBatchResponse | undefined,
    mapping: QueueMapping,
    records: SQSRecord[],
  ): Set<string> {
    if (!mapping.reportBatchItemFailures) return new Set();
    const ids = new Set(records.map((r) => r.messageId));
    const named = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    if (named.some((id) => !ids.has(id))) return ids; // Lambda: an unknown id fails the batch
    return new Set(named);
  }

  /** A received message as the record Lambda's event source mapping hands over. */
  private record(message: Message, queueArn: string): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? "",
      receiptHandle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
        SentTimestamp: attributes.SentTimestamp ?? "",
        SenderId: attributes.SenderId ?? "",
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? "",
        ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: this.region,
    };
  }
}

/** A queue's name, from its ARN or URL (the last segment): what `crashing` and `visibilityTimeouts` are keyed by. */
export function queueName(arnOrUrl: string): string {
  return arnOrUrl.split(/[:/]/).pop() ?? "";
}
