import { EventEmitter } from "node:events";
import type { Job, Plugin } from "../../lib/index.ts";
import { sleep } from "./files.ts";

/** Stands in for Reaction's appEvents + SMTP plugin: sends after the worker has returned. */
export const mailer = new EventEmitter();

interface EmailData {
  from?: string;
  to?: string;
  subject?: string;
  html?: string;
}

/**
 * Modelled on Reaction's email plugin: the `sendEmail` worker fails fatally when a field is
 * missing; otherwise it hands the message to an async sender and returns without calling
 * `done`. The sender calls `job.done()` later, after the worker returned.
 */
export const emailPlugin: Plugin = {
  name: "email",
  functionsByType: {
    startup: [
      async (context) => {
        mailer.on("sendEmail", ({ job }: { job: Job }) => {
          // The transport stops when the run is cancelled or times out (job.signal).
          sleep(300, job.signal).then(
            () => job.done().catch(() => {}),
            () => {},
          );
        });
        await context.backgroundJobs.addWorker({
          type: "sendEmail",
          pollInterval: 5000,
          workTimeout: 120_000,
          async worker(job) {
            const { from, to, subject, html } = job.data as EmailData;
            if (!from || !to || !subject || !html) {
              const missing = !to ? "to" : !from ? "from" : !subject ? "subject" : "html";
              await job.fail(`Email job ${job._id} is missing "${missing}"`, { fatal: true });
              return;
            }
            mailer.emit("sendEmail", { job });
          },
        });
      },
    ],
    shutdown: [
      async () => {
        mailer.removeAllListeners("sendEmail");
      },
    ],
  },
};

/** Schedules an email the way Reaction's `sendEmail` mutation does. */
export function emailJob(data: EmailData) {
  return {
    type: "sendEmail",
    data: { shopId: "shop-1", ...data },
    retry: { retries: 5, wait: 180_000 },
  };
}
