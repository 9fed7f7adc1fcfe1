import type { Plugin } from "../../lib/index.ts";

/**
 * Modelled on Reaction's files plugin: a `saveImage/local` worker, jobs scheduled with
 * `priority: "normal"` and exponential retries, and a 7-day cleanup rule. Images whose name
 * starts with "flaky" fail their first attempt, so a retry shows.
 */
export const filesPlugin: Plugin = {
  name: "files",
  backgroundJobs: { cleanup: [{ type: "saveImage/local", purgeAfterDays: 7 }] },
  functionsByType: {
    startup: [
      async (context) => {
        await context.backgroundJobs.addWorker({
          type: "saveImage/local",
          pollInterval: 3000,
          workTimeout: 600_000,
          async worker(job) {
            const { doc, collectionName } = job.data as {
              doc: { _id: string; name: string };
              collectionName: string;
            };
            try {
              await convertImage(doc, collectionName, job.doc.retried, job.signal);
              await job.done(`Finished converting temporary image from ${doc._id}`);
            } catch (error) {
              await job.fail(
                `Failed to convert temporary image from ${doc._id}. Error: ${(error as Error).message}`,
              );
            }
          },
        });
      },
    ],
  },
};

async function convertImage(
  doc: { name: string },
  _collection: string,
  attempt: number,
  signal: AbortSignal,
): Promise<void> {
  // Stands in for the download and resize: it stops when the run is cancelled or times out.
  await sleep(50 + Math.random() * 200, signal);
  if (doc.name.startsWith("flaky") && attempt === 1)
    throw new Error("storage not reachable (first attempt)");
}

/** Schedules an image job the way the files plugin's `createSaveImageJob` does (fire and forget). */
export function saveImageJob(doc: { _id: string; name: string }) {
  return {
    type: "saveImage/local",
    data: { doc, collectionName: "Media" },
    priority: "normal",
    retry: { retries: 5, wait: 5000, backoff: "exponential" as const },
  };
}

/** `setTimeout` as a promise that rejects with the signal's reason when the run ends. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
