/**
 * A dispatcher in its own process, as a Lambda would be: reads the resource names and
 * endpoints from the environment, dispatches one message for the job id in argv, and says
 * "started <id>" when the worker begins. The worker never finishes: the test kills this
 * process with SIGKILL mid-job.
 */
import { createApp } from "../../lib/index.ts";
import { sqsEvent } from "./sqs-event.ts";

const [jobId, type] = process.argv.slice(2) as [string, string];
const app = createApp({ logger: { info() {}, warn() {}, error() {} } });
app.registerPlugin({
  name: "child",
  functionsByType: {
    startup: [
      async ({ backgroundJobs }) => {
        await backgroundJobs.addWorker({
          type,
          workTimeout: 1000,
          async worker(job) {
            process.stdout.write(`started ${job._id}\n`);
            await new Promise(() => {}); // until killed
          },
        });
      },
    ],
  },
});
await app.start();
await app.handleSqsEvent(sqsEvent([JSON.stringify({ id: jobId, type })]));
