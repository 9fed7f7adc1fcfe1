import type { Plugin } from "../../lib/index.ts";
import { sleep } from "./files.ts";

const SHOPS = ["shop-1", "shop-2"];

/**
 * Modelled on Reaction's sitemap-generator plugin: a `sitemaps/generate` worker, and per shop
 * at startup `cancelJobs({ type, data: { shopId } })` then a repeating `scheduleJob` with the
 * shop's refresh period (Reaction's default: "every 24 hours"). A `heartbeat/ping` job every
 * minute shows occurrences within a minute of `npm start`.
 */
export const sitemapPlugin: Plugin = {
  name: "sitemap-generator",
  backgroundJobs: { cleanup: [{ type: "sitemaps/generate", purgeAfterDays: 3 }] },
  functionsByType: {
    startup: [
      async ({ backgroundJobs }) => {
        await backgroundJobs.addWorker({
          type: "sitemaps/generate",
          workTimeout: 180_000,
          async worker(job) {
            const { shopId } = job.data as { shopId: string };
            await sleep(100, job.signal); // stands in for building the shop's sitemap
            await job.done(`sitemaps/generate job done for ${shopId}`, { repeatId: true });
          },
        });
        await backgroundJobs.addWorker({
          type: "heartbeat/ping",
          async worker(job) {
            await job.done("pong", { repeatId: true });
          },
        });
        for (const shopId of SHOPS) {
          await backgroundJobs.cancelJobs({ type: "sitemaps/generate", data: { shopId } });
          await backgroundJobs.scheduleJob({
            type: "sitemaps/generate",
            data: { shopId },
            retry: { retries: 5, wait: 60_000, backoff: "exponential" },
            schedule: "every 24 hours",
          });
        }
        await backgroundJobs.scheduleJob({
          type: "heartbeat/ping",
          data: {},
          schedule: "every 1 minute",
          cancelRepeats: true,
        });
      },
    ],
  },
};
