import type { SQSEvent } from "aws-lambda";

/** An SQS event as Lambda's event source mapping hands it over, one record per body. */
export function sqsEvent(
  bodies: string[],
  queueArn = "arn:aws:sqs:us-east-1:000000000000:local-normal",
): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `message-${i}`,
      receiptHandle: `handle-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "AIDAEXAMPLE",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: "us-east-1",
    })),
  };
}
