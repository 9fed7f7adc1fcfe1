import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { JobStore, LaneQueue } from "../jobs/ports.ts";
import { laneFor } from "../jobs/priority.ts";
import { TERMINAL } from "../jobs/types.ts";
import { LANES, type LaneName } from "../resources.ts";
import { parseJobMessage } from "./lanes.ts";

export interface RedriveReport {
  /** Messages of live jobs put back on their lanes. */
  redriven: Array<{ jobId: string; lane: LaneName }>;
  /** Messages dropped, and why (poison, unknown job, job already finished). */
  dropped: Array<{ lane: LaneName; messageId: string; reason: string; body: string }>;
}

/**
 * Empties the lanes' dead-letter queues: a message of a job that can still run goes back on
 * its lane (a fresh message, so a fresh receive count); poison, unknown jobs and finished
 * jobs are dropped and reported. SQS's own redrive (StartMessageMoveTask) would put poison
 * back too, and fauxqs does not have it: this is receive, send, delete.
 */
export async function redriveDeadLetterQueues(options: {
  sqs: SQSClient;
  deadLetterQueueUrls: Record<LaneName, string>;
  store: JobStore;
  lanes: LaneQueue;
}): Promise<RedriveReport> {
  const report: RedriveReport = { redriven: [], dropped: [] };
  for (const lane of LANES) {
    const QueueUrl = options.deadLetterQueueUrls[lane];
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
        const drop = (reason: string) =>
          report.dropped.push({
            lane,
            messageId: message.MessageId ?? "",
            reason,
            body: body.slice(0, 200),
          });
        const parsed = parseJobMessage(body);
        if (!parsed) {
          drop("not a job message");
          continue;
        }
        const record = await options.store.getJob(parsed.id);
        if (!record) drop(`no job ${parsed.id}`);
        else if (TERMINAL.includes(record.status))
          drop(`job ${parsed.id} is already ${record.status}`);
        else {
          const target = laneFor(record.priority);
          await options.lanes.enqueue(target, parsed, 0);
          report.redriven.push({ jobId: parsed.id, lane: target });
        }
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
