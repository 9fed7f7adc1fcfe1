/**
 * `npm run redrive`: empties the lanes' dead-letter queues of a deployment. Live jobs go back
 * on their lanes; poison and finished jobs are dropped; prints the report as JSON. Reads the
 * same environment as the Lambda functions (JOBS_TABLE_NAME, JOBS_QUEUE_URL_*, JOBS_DLQ_URL_*).
 */
import { createApp } from "../lib/index.ts";

const app = createApp();
await app.start();
try {
  const report = await app.redriveDeadLetters();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  await app.stop();
}
