import { afterAll, describe, expect, it } from "vitest";
import type { Plugin } from "../../lib/index.ts";
import { startLocalApp, tempDataDir, waitForStatus } from "../support/local-app.ts";

const data = await tempDataDir();
afterAll(() => data.remove());

function imagesPlugin(ran: string[], paused: boolean): Plugin {
  return {
    name: "images",
    functionsByType: {
      startup: [
        async ({ backgroundJobs }) => {
          const handle = await backgroundJobs.addWorker({
            type: "persist/image",
            async worker(job) {
              ran.push(job._id);
              await job.done();
            },
          });
          if (paused) handle.pause();
        },
      ],
    },
  };
}

describe("persistence across stop() and start() on the same data folder", () => {
  it("keeps job records, and runs exactly once the jobs left open", async () => {
    const firstRuns: string[] = [];
    const first = await startLocalApp({ dataDir: data.dir }, [imagesPlugin(firstRuns, true)]);
    const done = await first.context.backgroundJobs.scheduleJob({
      type: "persist/other",
      data: { n: 0 },
    });
    await waitForStatus(first, done._id, "failed"); // no worker for this type
    const open = [];
    for (let n = 1; n <= 5; n += 1) {
      open.push(
        await first.context.backgroundJobs.scheduleJob({ type: "persist/image", data: { n } }),
      );
    }
    await first.stop();
    expect(firstRuns).toEqual([]);

    const secondRuns: string[] = [];
    const second = await startLocalApp({ dataDir: data.dir }, [imagesPlugin(secondRuns, false)]);
    try {
      for (const job of open) {
        const doc = await waitForStatus(second, job._id, "completed");
        expect(doc.data).toEqual(job.data);
      }
      expect(secondRuns.sort()).toEqual(open.map((job) => job._id).sort());
      expect((await second.context.backgroundJobs.getJob(done._id))?._doc.status).toBe("failed");
    } finally {
      await second.stop();
    }
  });
});
