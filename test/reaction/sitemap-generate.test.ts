import { describe, expect, it } from "vitest";
import { refusalKeyFor } from "../../lib/jobs/keys.ts";
import { jobQueueHostOf } from "../../lib/reaction/index.ts";
import { waitUntil } from "../support/local-app.ts";
import { graphQLClient, useReactionApi } from "../support/reaction-api.ts";

// Reaction's generateSitemaps mutation schedules a one-off sitemaps/generate job; the sitemap
// plugin's own worker runs it and writes the shop's sitemaps.
// Below, what the plugin sends that MongoDB accepted: generateSitemaps without a user cancels
// with `data: { notifyUserId: undefined, shopId }`, and a shop's sitemapRefreshPeriod is any
// text an admin typed, scheduled without await after a settings update.
const reaction = useReactionApi({ shops: ["shop1", "shopT"] });

interface JobsLike {
  findOne(filter: Record<string, unknown>): Promise<Record<string, unknown> | null>;
}

describe("a one-off sitemaps/generate job", () => {
  it("is scheduled by the generateSitemaps mutation and run by Reaction's sitemap worker", async () => {
    const { Jobs } = reaction.context.collections as unknown as { Jobs: JobsLike };
    const query = graphQLClient(reaction.api);
    const result = await query(
      `mutation ($input: GenerateSitemapsInput!) { generateSitemaps(input: $input) { wasJobScheduled } }`,
      { input: { shopId: Buffer.from("reaction/shop:shop1").toString("base64") } },
    );
    expect(result).toEqual({ generateSitemaps: { wasJobScheduled: true } });

    // Reaction's own integration test reads the job back this way.
    const oneOff = {
      type: "sitemaps/generate",
      "data.shopId": "shop1",
      "data.notifyUserId": "test-admin",
    };
    const job = await Jobs.findOne(oneOff);
    expect(job).toMatchObject({ type: "sitemaps/generate", data: { shopId: "shop1" } });

    await waitUntil(async () => (await Jobs.findOne(oneOff))?.status === "completed");
    expect((await Jobs.findOne(oneOff))?.result).toEqual({ value: "sitemaps/generate job done" });
    const sitemaps = await reaction.api.collections.Sitemaps?.find({ shopId: "shop1" }).toArray();
    const handles = (sitemaps ?? []).map((doc) => doc.handle).sort();
    expect(handles).toEqual(["sitemap-pages-1.xml", "sitemap.xml"]);
    const index = sitemaps?.find((doc) => doc.handle === "sitemap.xml");
    expect(index?.xml).toContain("<loc>BASE_URL/sitemap-pages-1.xml</loc>");
  });
});

interface JobsFinder {
  find(filter: Record<string, unknown>): { toArray(): Promise<Array<Record<string, unknown>>> };
}

type Mutation = (context: unknown, input: Record<string, unknown>) => Promise<unknown>;

async function openSitemapJobs(shopId: string) {
  const { Jobs } = reaction.context.collections as unknown as { Jobs: JobsFinder };
  return Jobs.find({
    type: "sitemaps/generate",
    "data.shopId": shopId,
    status: { $in: ["waiting", "ready", "running", "paused"] },
  }).toArray();
}

describe("Reaction's sitemap plugin on the swap-in", () => {
  it("generateSitemaps without a user leaves the shop's repeating sitemap job alone (undefined is null, as in MongoDB)", async () => {
    const [repeating] = await openSitemapJobs("shop1");
    expect(repeating).toMatchObject({ data: { shopId: "shop1" }, status: "waiting" });

    // Reaction's own mutation, called with no user id (a request context whose userId is
    // undefined: the resolver passes `context.userId` as it finds it).
    const generateSitemaps = reaction.context.mutations.generateSitemaps as unknown as Mutation;
    const internal = reaction.context.getInternalContext();
    await generateSitemaps({ ...internal, userId: undefined }, { shopId: "shop1" });

    // The shop's repeating job is still open; the new one-off (run or not yet) has null.
    expect((await openSitemapJobs("shop1")).map((job) => job._id)).toContain(repeating?._id);
    const { Jobs } = reaction.context.collections as unknown as { Jobs: JobsFinder };
    const all = await Jobs.find({ type: "sitemaps/generate", "data.shopId": "shop1" }).toArray();
    expect(
      all.filter((job) => (job.data as Record<string, unknown>).notifyUserId === null),
    ).toEqual([expect.objectContaining({ data: { notifyUserId: null, shopId: "shop1" } })]);
  });

  it("a sitemapRefreshPeriod later.js cannot read, scheduled un-awaited by the setting's afterUpdate, resolves and is recorded", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const plugin = (reaction.api as unknown as { registeredPlugins: Record<string, Plugin> })
        .registeredPlugins["sitemap-generator"];
      const context = {
        ...reaction.context,
        queries: {
          ...reaction.context.queries,
          appSettings: async () => ({ sitemapRefreshPeriod: "every fortnight-ish" }),
        },
      };
      // Reaction calls it so after saving the setting: its promise is dropped.
      plugin?.shopSettingsConfig.sitemapRefreshPeriod.afterUpdate(context, { shopId: "shopT" });

      const backend = await jobQueueHostOf(reaction.api).started();
      const { store } = backend.system.deps;
      const key = refusalKeyFor("sitemaps/generate", { shopId: "shopT" });
      await waitUntil(async () => (await store.scheduleRefusals()).some((r) => r.key === key));
      expect((await store.scheduleRefusals()).find((r) => r.key === key)).toMatchObject({
        text: "every fortnight-ish",
        tenant: "shopT",
        count: 1,
      });
      // As the original: the shop's old job was cancelled first, and nothing new was saved.
      expect(await openSitemapJobs("shopT")).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

interface Plugin {
  shopSettingsConfig: {
    sitemapRefreshPeriod: { afterUpdate(context: unknown, input: { shopId: string }): void };
  };
}
