/**
 * Reaction's real sitemap plugin sends what MongoDB accepted: `generateSitemaps` without a user
 * cancels with `data: { notifyUserId: undefined, shopId }`, and a shop's `sitemapRefreshPeriod`
 * is any text an admin typed, scheduled without `await` after a settings update.
 */
import { describe, expect, it } from "vitest";
import { refusalKeyFor } from "../../lib/jobs/keys.ts";
import { jobQueueHostOf } from "../../lib/reaction/index.ts";
import { waitUntil } from "../support/local-app.ts";
import { useReactionApi } from "../support/reaction-api.ts";

const reaction = useReactionApi({ shops: ["shopU", "shopT"] });

interface JobsLike {
  find(filter: Record<string, unknown>): { toArray(): Promise<Array<Record<string, unknown>>> };
}

type Mutation = (context: unknown, input: Record<string, unknown>) => Promise<unknown>;

async function openSitemapJobs(shopId: string) {
  const { Jobs } = reaction.context.collections as unknown as { Jobs: JobsLike };
  return Jobs.find({
    type: "sitemaps/generate",
    "data.shopId": shopId,
    status: { $in: ["waiting", "ready", "running", "paused"] },
  }).toArray();
}

describe("Reaction's sitemap plugin on the swap-in", () => {
  it("generateSitemaps without a user leaves the shop's repeating sitemap job alone (undefined is null, as in MongoDB)", async () => {
    const [repeating] = await openSitemapJobs("shopU");
    expect(repeating).toMatchObject({ data: { shopId: "shopU" }, status: "waiting" });

    // Reaction's own mutation, called with no user id (a request context whose userId is
    // undefined: the resolver passes `context.userId` as it finds it).
    const generateSitemaps = reaction.context.mutations.generateSitemaps as unknown as Mutation;
    const internal = reaction.context.getInternalContext();
    await generateSitemaps({ ...internal, userId: undefined }, { shopId: "shopU" });

    const open = await openSitemapJobs("shopU");
    expect(open.map((job) => job._id)).toContain(repeating?._id);
    expect(open.find((job) => job._id !== repeating?._id)?.data).toEqual({
      notifyUserId: null,
      shopId: "shopU",
    });
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
