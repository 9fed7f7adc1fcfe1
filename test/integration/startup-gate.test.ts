import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, type Job } from "../../lib/index.ts";
import { captureLogger } from "../support/capture-logger.ts";
import { onSharedDynamoDb, startLocalApp, waitForStatus } from "../support/local-app.ts";

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

/**
 * What is skipped is what startup calls, not what happens to be called while it runs: a
 * scheduling call a startup set off without awaiting it is still startup's (a cold start must
 * change no job record), and a call from elsewhere while startup runs (an API request, a
 * worker) is not startup's and runs.
 */
describe("startup's own calls, not the boot's time window", () => {
  const logger = captureLogger();
  let app: App;
  let detached: Promise<Job | undefined> | undefined;
  let racing: Job | undefined;
  beforeAll(async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let booted!: () => void;
    const afterBoot = new Promise<void>((resolve) => {
      booted = resolve;
    });
    let reached!: () => void;
    const startupReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    app = createApp({
      backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) },
      startupScheduling: "skip",
      logger,
    });
    app.registerPlugin({
      name: "detached",
      functionsByType: {
        startup: [
          async ({ backgroundJobs }) => {
            await backgroundJobs.addWorker({
              type: "gate/late",
              async worker(job) {
                await job.done();
              },
            });
            // Set off, not awaited: it schedules once startup has returned.
            detached = afterBoot.then(() =>
              backgroundJobs.scheduleJob({ type: "gate/late", data: { from: "startup" } }),
            );
            reached();
            await released;
          },
        ],
      },
    });
    const starting = app.start();
    await startupReached;
    // An API request while startup still runs.
    racing = await app.context.backgroundJobs.scheduleJob({
      type: "gate/late",
      data: { from: "api" },
    });
    release();
    await starting;
    booted();
    await detached;
  });
  afterAll(() => app?.stop());

  it("skips a scheduling call startup set off without awaiting it", async () => {
    expect(await detached).toBeUndefined();
  });

  it("runs a call made from elsewhere while startup runs", async () => {
    expect(racing?._id).toMatch(/^\w{17}$/);
    expect((await waitForStatus(app, racing?._id as string, "completed")).status).toBe("completed");
  });
});
