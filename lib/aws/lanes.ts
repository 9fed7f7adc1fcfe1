import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobMessage, LaneQueue } from "../jobs/deps.ts";
import { clampDelay } from "../jobs/lane-delay.ts";
import { envNames, stackOutputNames } from "../names.ts";
import type { JobLane, LaneUrls } from "../resources.ts";

/** SQS takes at most 10 entries per `SendMessageBatch`. */
const SEND_BATCH_SIZE = 10;
/** What one `SendMessageBatch` may carry: 256 KB of bodies and attributes (we keep to it). */
const SEND_BATCH_BYTES = 256 * 1024;

/**
 * The priority lanes on SQS: one standard queue per lane, messages carry `{ id, type, group,
 * at }`. Every message has `MessageGroupId` = its fairness group (the job's tenant), so SQS
 * fair queues keep one shop's backlog from delaying the others.
 *
 * @example await new SqsLanes(clients.sqs, queueUrls).send("normal", { id, type }, 0);
 */
export class SqsLanes implements LaneQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrls: LaneUrls,
  ) {}

  async send(lane: JobLane, message: JobMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.urlOf(lane),
        MessageBody: JSON.stringify(message),
        DelaySeconds: clampDelay(delaySeconds),
        ...groupOf(message),
      }),
    );
  }

  async sendMany(lane: JobLane, messages: JobMessage[], delaySeconds: number): Promise<void> {
    for (const batch of batches(messages)) {
      const { Failed } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.urlOf(lane),
          Entries: batch.map((message, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(message),
            DelaySeconds: clampDelay(delaySeconds),
            ...groupOf(message),
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

  private urlOf(lane: JobLane): string {
    return laneUrl(this.queueUrls, lane);
  }
}

/** Raised when a job of a server type is sent and the deployment names no server lane. */
export class ServerLaneMissingError extends Error {
  override name = "ServerLaneMissingError";
  readonly field = envNames.queueUrl("server");
  constructor() {
    super(
      `${envNames.queueUrl("server")} is not set: jobs of ${envNames.serverTypes} travel on the server lane (the construct's serverTypes prop creates it; its output ${stackOutputNames.queueUrl("server")} names it)`,
    );
  }
}

/**
 * A lane's queue URL; the server lane's is refused by `ServerLaneMissingError` when the
 * deployment has none.
 */
export function laneUrl(queueUrls: LaneUrls, lane: JobLane): string {
  const url = queueUrls[lane];
  if (url === undefined) throw new ServerLaneMissingError();
  return url;
}

/** Messages in `SendMessageBatch` calls of at most 10 entries and 256 KB. */
function batches(messages: readonly JobMessage[]): JobMessage[][] {
  const result: JobMessage[][] = [];
  let batch: JobMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(JSON.stringify(message), "utf8") + (message.group?.length ?? 0);
    if (batch.length === SEND_BATCH_SIZE || (batch.length > 0 && bytes + size > SEND_BATCH_BYTES)) {
      result.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) result.push(batch);
  return result;
}

function groupOf(message: JobMessage): { MessageGroupId?: string } {
  return message.group === undefined ? {} : { MessageGroupId: message.group };
}

/**
 * The lane queue URL for a queue ARN (an SQS event names its queue by ARN), or `undefined`
 * when the ARN is not one of the lanes.
 *
 * @example queueUrlForArn(urls, "arn:aws:sqs:us-east-1:123:prod-normal") // urls.normal
 */
export function queueUrlForArn(queueUrls: LaneUrls, queueArn: string): string | undefined {
  const name = queueArn.split(":").pop();
  return Object.values(queueUrls).find((url) => url?.endsWith(`/${name}`));
}
