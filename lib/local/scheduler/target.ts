import { randomUUID } from "node:crypto";
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobLogger } from "../../log.ts";
import type { Schedule } from "./records.ts";

const UNIVERSAL_SQS_SEND = "arn:aws:scheduler:::aws-sdk:sqs:sendMessage";
const ATTEMPTS = 3;
/** Real time between delivery attempts (× the attempt): the SQS server's hiccups are real. */
const RETRY_PAUSE_MS = 500;

/**
 * Delivers one firing of `schedule` for `scheduledTime` to its SQS target, as EventBridge
 * Scheduler does: the context placeholders filled into the input, a universal
 * `sqs:sendMessage` target or a queue ARN, up to three attempts. A firing that fails them all
 * is logged and dropped (EventBridge would send it to the schedule's DLQ, which we do not use).
 */
export async function deliverFiring(
  sqs: SQSClient,
  logger: JobLogger,
  schedule: Schedule,
  scheduledTime: number,
): Promise<void> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    try {
      await sendToTarget(sqs, schedule, scheduledTime, attempt);
      return;
    } catch (error) {
      logger.warn("scheduler target failed", {
        schedule: schedule.Name,
        attempt,
        error: (error as Error).message,
      });
      if (attempt < ATTEMPTS)
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt));
    }
  }
}

async function sendToTarget(
  sqs: SQSClient,
  schedule: Schedule,
  scheduledTime: number,
  attempt: number,
): Promise<void> {
  const context: Record<string, string> = {
    "<aws.scheduler.schedule-arn>": schedule.Arn,
    "<aws.scheduler.scheduled-time>": new Date(scheduledTime)
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z"),
    "<aws.scheduler.execution-id>": randomUUID(),
    "<aws.scheduler.attempt-number>": String(attempt),
  };
  let input = schedule.Target.Input ?? "";
  for (const [placeholder, value] of Object.entries(context))
    input = input.split(placeholder).join(value);
  if (schedule.Target.Arn === UNIVERSAL_SQS_SEND) {
    const params = JSON.parse(input) as {
      QueueUrl: string;
      MessageBody: string;
      DelaySeconds?: number;
      MessageGroupId?: string;
    };
    await sqs.send(new SendMessageCommand(params));
    return;
  }
  const queue = /^arn:aws:sqs:[^:]+:[^:]+:(.+)$/.exec(schedule.Target.Arn);
  if (queue) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue[1] }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: input }));
    return;
  }
  throw new Error(`target ${schedule.Target.Arn} is not supported locally (SQS targets only)`);
}
