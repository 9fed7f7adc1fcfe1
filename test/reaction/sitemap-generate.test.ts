import { describe, expect, it } from "vitest";
import { waitUntil } from "../support/local-app.ts";
import { graphQLClient, useReactionApi } from "../support/reaction-api.ts";

// Reaction's generateSitemaps mutation schedules a one-off sitemaps/generate job; the sitemap
// plugin's own worker runs it and writes the shop's sitemaps.
const reaction = useReactionApi({ shops: ["shop1"] });

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
