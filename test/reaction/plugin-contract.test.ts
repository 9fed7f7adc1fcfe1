import { ReactionAPICore } from "@reactioncommerce/api-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jobQueueHostOf, jobQueuePlugin } from "../../lib/reaction/index.ts";
import { captureLogger } from "../support/capture-logger.ts";
import { onSharedDynamoDb, sleep, waitForStatus } from "../support/local-app.ts";
import { startReactionApi } from "../support/reaction-api.ts";

// What the original job-queue plugin promised the rest of a Reaction API, kept by the swap-in.

interface JobsLike {
  find(filter: Record<string, unknown>): { toArray(): Promise<Array<Record<string, unknown>>> };
  findOne(filter: Record<string, unknown>): Promise<Record<string, unknown> | null>;
}
const jobsOf = (reaction: { context: { collections: unknown } }) =>
  (reaction.context.collections as { Jobs: JobsLike }).Jobs;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("registration", () => {
  it("takes the name job-queue, so the original cannot be registered beside it", async () => {
    const api = new ReactionAPICore({});
    await api.registerPlugin(jobQueuePlugin({ backgroundJobs: { local: {} } }));
    await expect(api.registerPlugin({ name: "job-queue", functionsByType: {} })).rejects.toThrow(
      'You registered multiple plugins with the name "job-queue"',
    );
    expect(Object.keys(api.context.backgroundJobs as object).sort()).toEqual([
      "addWorker",
      "cancelJobs",
      "getJob",
      "scheduleJob",
    ]);
  });

  it("refuses a plugin's bad cleanup or tenant rule at startup, naming the plugin and the field, and leaves nothing running", async () => {
    for (const [backgroundJobs, message] of [
      [
        { cleanup: [{ type: "x", purgeAfterDays: 0 }] },
        "bad.backgroundJobs.cleanup[0].purgeAfterDays",
      ],
      [{ tenants: [{ type: "x", key: "shopId" }] }, "bad.backgroundJobs.tenants[0].key"],
      [{ cleanUp: [] }, "bad.backgroundJobs.cleanUp: is not supported"],
    ] as const) {
      await expect(
        startReactionApi({ plugins: [{ name: "bad", backgroundJobs }] }),
      ).rejects.toThrow(message);
    }
  });
});

describe("calls made before the job-queue plugin has started", () => {
  it("wait for it, as with the original, and then run", async () => {
    const reaction = await startReactionApi({ startup: false });
    try {
      const { backgroundJobs } = reaction.context;
      let scheduled = false;
      const early = backgroundJobs
        .scheduleJob({ type: "early/job", data: { n: 1 } })
        .then((job) => {
          scheduled = true;
          return job;
        });
      await sleep(300);
      expect(scheduled).toBe(false);
      const announced: string[] = [];
      reaction.context.appEvents.on("jobServerStart", () => announced.push("jobServerStart"));
      await reaction.api.runServiceStartup();
      expect(announced).toEqual(["jobServerStart"]);
      const job = await early;
      expect((await backgroundJobs.getJob(job!._id))?._doc.data).toEqual({ n: 1 });
    } finally {
      await reaction.stop();
    }
  });
});

describe("REACTION_WORKERS_ENABLED=false", () => {
  it("makes addWorker register nothing and resolve undefined; jobs are scheduled and stay ready (Reaction's integration-test setting)", async () => {
    vi.stubEnv("REACTION_WORKERS_ENABLED", "false");
    const reaction = await startReactionApi({ shops: ["shop1"] });
    try {
      const { backgroundJobs } = reaction.context;
      await expect(
        backgroundJobs.addWorker({ type: "t", async worker() {} }),
      ).resolves.toBeUndefined();
      // Reaction's generateSitemaps integration test, as it runs with workers disabled.
      await reaction.context.mutations.generateSitemaps?.(reaction.context.getInternalContext(), {
        shopId: "shop1",
      } as never);
      const job = await jobsOf(reaction).findOne({
        type: "sitemaps/generate",
        "data.shopId": "shop1",
        "data.notifyUserId": null,
      });
      expect(job).toMatchObject({ data: { shopId: "shop1" }, status: "ready" });
      await sleep(1500);
      expect((await backgroundJobs.getJob(job?._id as string))?._doc.status).toBe("ready");
    } finally {
      await reaction.stop();
    }
  });

  it("any other value than true or false is refused, naming the variable", () => {
    vi.stubEnv("REACTION_WORKERS_ENABLED", "sometimes");
    expect(() => jobQueuePlugin({ backgroundJobs: { local: {} } })).toThrow(
      'REACTION_WORKERS_ENABLED: must be true or false (got "sometimes")',
    );
  });
});

describe("startup in skip mode (a Lambda cold start)", () => {
  it("registers the plugins' workers and changes no job record; one debug line says what was skipped", async () => {
    const logger = captureLogger();
    const reaction = await startReactionApi({
      shops: ["shop1", "shop2"],
      startup: false,
      jobQueue: {
        backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) },
        startupScheduling: "skip",
        logger,
      },
    });
    try {
      const host = jobQueueHostOf(reaction.api);
      await host.gate.booting(() => reaction.api.runServiceStartup());
      expect(await jobsOf(reaction).find({ type: "sitemaps/generate" }).toArray()).toEqual([]);
      expect(logger.lines.filter((line) => line.message === "startup scheduling skipped")).toEqual([
        expect.objectContaining({
          fields: expect.objectContaining({ scheduleJob: 2, cancelJobs: 2 }),
        }),
      ]);
      // Workers are registered: a job scheduled after the boot runs (outside the gate).
      const job = await reaction.context.backgroundJobs.scheduleJob({
        type: "sitemaps/generate",
        data: { shopId: "shop1" },
      });
      await waitForStatus(reaction, job!._id, "completed");
    } finally {
      await reaction.stop();
    }
  });
});

describe("shutdown", () => {
  it("stops what startup started: the local stack's servers", async () => {
    // A DynamoDB Local of its own, to see it stop.
    const reaction = await startReactionApi({
      jobQueue: { backgroundJobs: { local: { quiet: true } } },
    });
    const backend = await jobQueueHostOf(reaction.api).started();
    const { dynamodb } = backend.local.endpoints;
    expect((await fetch(dynamodb, { method: "POST" })).status).toBeGreaterThan(0);
    await reaction.stop();
    await expect(fetch(dynamodb, { method: "POST" })).rejects.toThrow();
  });
});
