import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { JobStore, LaneQueue } from "../jobs/deps.ts";
import type { Placement } from "../jobs/placement.ts";
import { redriveDecision } from "../jobs/redrive.ts";
import { JOB_LANES, type JobLane, type LaneUrls } from "../resources.ts";

export interface RedriveReport {
  /** Messages of live jobs put back on their lanes. */
  redriven: Array<{ jobId: string; lane: JobLane }>;
  /** Messages dropped, and why (poison, unknown job, job already finished). */
  dropped: Array<{ lane: JobLane; messageId: string; reason: string; body: string }>;
}

/**
 * Empties the lanes' dead-letter queues, each message as `redriveDecision` rules: a live job's
 * goes back on its lane, the rest are dropped and reported. SQS's own redrive
 * (StartMessageMoveTask) would put poison back too, and fauxqs does not have it: this is
 * receive, send, delete.
 */
export async function redriveDeadLetterQueues(options: {
  sqs: SQSClient;
  deadLetterQueueUrls: LaneUrls;
  store: JobStore;
  lanes: LaneQueue;
  /** Which lane each job goes back to: the server lane for a server type. */
  placement?: Placement;
  /** Only these lanes' DLQs (default: all, the server lane's when it has one). */
  only?: readonly JobLane[];
  /** Called after each message with how many are done so far (a progress bar). */
  onMessage?: (done: number) => void;
}): Promise<RedriveReport> {
  const report: RedriveReport = { redriven: [], dropped: [] };
  for (const lane of options.only ?? JOB_LANES) {
    const QueueUrl = options.deadLetterQueueUrls[lane];
    if (QueueUrl === undefined) continue;
    for (;;) {
      const { Messages = [] } = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 60,
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const body = message.Body ?? "";
        const decision = await redriveDecision(options.store, body, options.placement);
        if (decision.action === "drop") {
          report.dropped.push({
            lane,
            messageId: message.MessageId ?? "",
            reason: decision.reason,
            body: body.slice(0, 200),
          });
        } else {
          await options.lanes.send(decision.lane, decision.message, 0);
          report.redriven.push({ jobId: decision.message.id, lane: decision.lane });
        }
        options.onMessage?.(report.redriven.length + report.dropped.length);
      }
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: Messages.map((message, i) => ({
            Id: String(i),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
  }
  return report;
}
