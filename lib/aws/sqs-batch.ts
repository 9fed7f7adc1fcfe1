import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Delivery, DeliveryOutcome } from "../jobs/deps.ts";
import { parseJobMessage } from "../jobs/message.ts";
import { JOB_LANES, type LaneUrls } from "../resources.ts";
import { queueUrlForArn } from "./lanes.ts";

/**
 * Handles one SQS batch; Lambda's event source mapping and the local poller both call it.
 * Lambda passes its context: the invocation's remaining time then bounds which runs start.
 */
export type SqsBatchHandler = (
  event: SQSEvent,
  context?: Pick<Context, "getRemainingTimeInMillis">,
) => Promise<SQSBatchResponse>;

/**
 * A received SQS message as the record Lambda's event source mapping hands over: what the
 * local poller builds its events from, and the tests theirs.
 */
export function sqsRecord(
  message: {
    MessageId?: string;
    ReceiptHandle?: string;
    Body?: string;
    MD5OfBody?: string;
    Attributes?: Partial<Record<string, string>>;
  },
  queueArn: string,
  region: string,
): SQSRecord {
  const attributes = message.Attributes ?? {};
  const now = String(Date.now());
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? now,
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? now,
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** An SQS record as the dispatcher's neutral delivery (its lane known from the queue ARN). */
export function toDelivery(record: SQSRecord, queueUrls?: LaneUrls): Delivery {
  const url = queueUrls && queueUrlForArn(queueUrls, record.eventSourceARN);
  const lane = url ? JOB_LANES.find((name) => queueUrls?.[name] === url) : undefined;
  return {
    messageId: record.messageId,
    message: parseJobMessage(record.body),
    body: record.body,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
    ...(lane ? { lane } : {}),
  };
}

/**
 * The SQS face of the dispatcher: an `SQSEvent` in, a partial batch response out. A message
 * to retry is reported as a batch item failure and held back for its pause with
 * `ChangeMessageVisibility` (not at once, not after the whole visibility timeout).
 *
 * @example export const handler = sqsBatchHandler(sqs, queueUrls, (d) => dispatch(deps, d));
 */
export function sqsBatchHandler(
  sqs: SQSClient,
  queueUrls: LaneUrls,
  dispatch: (
    deliveries: Delivery[],
    budget?: { remainingMs(): number },
  ) => Promise<DeliveryOutcome[]>,
): SqsBatchHandler {
  return async (event, context) => {
    const budget = context && { remainingMs: () => context.getRemainingTimeInMillis() };
    // Each record is dispatched on its own (in order, so slots go to the first), and one to
    // retry is put back as soon as its outcome is known: a message deferred for want of a
    // slot or of time is visible again within seconds, not when the batch's longest run ends.
    const outcomes = await Promise.all(
      event.Records.map(async (record) => {
        const [outcome] = await dispatch([toDelivery(record, queueUrls)], budget);
        if (outcome?.outcome === "retry") await putBack(sqs, queueUrls, record, outcome);
        return outcome;
      }),
    );
    const failures = outcomes.filter((outcome) => outcome?.outcome === "retry");
    return {
      batchItemFailures: failures.map((failure) => ({
        itemIdentifier: (failure as DeliveryOutcome).messageId,
      })),
    };
  };
}

/** Holds a message to retry back for its pause (not at once, not the whole visibility timeout). */
async function putBack(
  sqs: SQSClient,
  queueUrls: LaneUrls,
  record: SQSRecord,
  failure: Extract<DeliveryOutcome, { outcome: "retry" }>,
): Promise<void> {
  const QueueUrl = queueUrlForArn(queueUrls, record.eventSourceARN);
  if (!QueueUrl) return;
  await sqs
    .send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(failure.delaySeconds))),
      }),
    )
    .catch(() => {
      // The message still comes back after the visibility timeout.
    });
}
