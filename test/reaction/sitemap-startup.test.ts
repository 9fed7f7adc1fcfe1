import { GetScheduleCommand } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobQueueHostOf } from "../../lib/reaction/index.ts";
import { restartableTable, schedulerClientFor, tempDataDir } from "../support/local-app.ts";
import { startReactionApi } from "../support/reaction-api.ts";

// Reaction's sitemap plugin, unchanged: its startup cancels each shop's sitemap job and
// schedules it again ("every 24 hours"), as it does at every server start.
const SHOPS = ["shopA", "shopB"];
let data: Awaited<ReturnType<typeof tempDataDir>>;
// Each server start finds the jobs of the one before: the same table, the same schedules.
const table = restartableTable();
beforeAll(async () => {
  data = await tempDataDir();
});
afterAll(async () => {
  await data.remove();
  await table.drop();
});

/** Starts a Reaction API on the data folder, hands it to `check`, and stops it. */
async function withApi(
  check: (api: Awaited<ReturnType<typeof startReactionApi>>) => Promise<void>,
) {
  const reaction = await startReactionApi({
    shops: SHOPS,
    jobQueue: { backgroundJobs: { local: table.options({ quiet: true, dataDir: data.dir }) } },
  });
  try {
    await check(reaction);
  } finally {
    await reaction.stop();
  }
}

async function openSitemapJobs(reaction: Awaited<ReturnType<typeof startReactionApi>>) {
  const { Jobs } = reaction.context.collections;
  return (await (Jobs as unknown as JobsLike)
    .find({ type: "sitemaps/generate", status: { $in: ["waiting", "ready", "running", "paused"] } })
    .toArray()) as Array<{ _id: string; data: { shopId: string }; repeats: number }>;
}

interface JobsLike {
  find(filter: Record<string, unknown>): { toArray(): Promise<unknown[]> };
}

describe("the sitemap plugin's startup on the job-queue swap-in", () => {
  it("leaves one open repeating job per shop, armed on EventBridge Scheduler as cron(0 0 * * ? *), and keeps one per shop across restarts", async () => {
    let firstIds: string[] = [];
    await withApi(async (reaction) => {
      const open = await openSitemapJobs(reaction);
      expect(open.map((job) => job.data.shopId).sort()).toEqual(SHOPS);
      expect(open.every((job) => job.repeats > 0)).toBe(true);
      const backend = await jobQueueHostOf(reaction.api).started();
      const scheduler = schedulerClientFor(backend);
      try {
        for (const job of open) {
          const schedule = await scheduler.send(
            new GetScheduleCommand({ Name: `job-${job._id}`, GroupName: "local-jobs" }),
          );
          expect(schedule.ScheduleExpression).toBe("cron(0 0 * * ? *)");
          expect(schedule.ScheduleExpressionTimezone).toBe("UTC");
        }
      } finally {
        scheduler.destroy();
      }
      firstIds = open.map((job) => job._id);
    });

    // A second server start (same job table): the old jobs are cancelled, one new one per shop.
    await withApi(async (reaction) => {
      const open = await openSitemapJobs(reaction);
      expect(open.map((job) => job.data.shopId).sort()).toEqual(SHOPS);
      expect(open.some((job) => firstIds.includes(job._id))).toBe(false);
      const { Jobs } = reaction.context.collections as unknown as { Jobs: JobsLike };
      const cancelled = (await Jobs.find({
        type: "sitemaps/generate",
        status: "cancelled",
      }).toArray()) as Array<{ _id: string }>;
      expect(cancelled.map((job) => job._id).sort()).toEqual([...firstIds].sort());
    });
  });
});
