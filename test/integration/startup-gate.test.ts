import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../lib/index.ts";
import { captureLogger } from "../support/capture-logger.ts";
import { startLocalApp, waitForStatus } from "../support/local-app.ts";

/** A Lambda cold start (`startupScheduling: "skip"`) only registers workers. */
describe("startup on a Lambda cold start", () => {
  const logger = captureLogger();
  const scheduled: unknown[] = [];
  let app: App;
  beforeAll(async () => {
    app = await startLocalApp(
      {},
      [
        {
          name: "sitemap-like",
          functionsByType: {
            startup: [
              async ({ backgroundJobs }) => {
                await backgroundJobs.addWorker({
                  type: "gate/work",
                  async worker(job) {
                    await job.done();
                  },
                });
                await backgroundJobs.cancelJobs({ type: "gate/work", data: { shopId: "s1" } });
                scheduled.push(
                  await backgroundJobs.scheduleJob({
                    type: "gate/work",
                    data: { shopId: "s1" },
                    schedule: "every 1 hour",
                  }),
                );
              },
            ],
          },
        },
      ],
      { startupScheduling: "skip", logger },
    );
  });
  afterAll(() => app?.stop());

  it("skips startup's scheduleJob and cancelJobs (resolving undefined) and says so in one debug line", async () => {
    expect(scheduled).toEqual([undefined]);
    const debug = logger.lines.filter((line) => line.level === "debug");
    expect(debug).toEqual([
      expect.objectContaining({
        message: "startup scheduling skipped",
        fields: expect.objectContaining({ scheduleJob: 1, cancelJobs: 1 }),
      }),
    ]);
  });

  it("registers the workers, and calls made after startup run as always", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({ type: "gate/work", data: {} });
    expect(job._id).toMatch(/^\w{17}$/);
    expect((await waitForStatus(app, job._id, "completed")).status).toBe("completed");
  });
});
