import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaApp } from "./app.ts";

/**
 * The SQS-triggered dispatcher: the same handler the local poller calls. It answers with a
 * partial batch response and never throws (a throw would fail the whole batch).
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const app = await lambdaApp();
  return app.handleSqsEvent(event);
}
