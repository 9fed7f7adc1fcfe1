import type { SQSEvent } from "aws-lambda";
import { sqsRecord } from "../../lib/aws/sqs-batch.ts";

/** An SQS event as Lambda's event source mapping hands it over, one record per body. */
export function sqsEvent(
  bodies: string[],
  queueArn = "arn:aws:sqs:us-east-1:000000000000:local-normal",
): SQSEvent {
  return {
    Records: bodies.map((body, i) =>
      sqsRecord(
        { MessageId: `message-${i}`, ReceiptHandle: `handle-${i}`, Body: body },
        queueArn,
        "us-east-1",
      ),
    ),
  };
}
