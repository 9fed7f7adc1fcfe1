/**
 * The example API's own test, as a Reaction team writes one: Reaction's sitemap plugin's
 * `generateSitemaps` mutation, through GraphQL, with the job queue swapped in and running in
 * this process (`JOBS_BACKEND=memory`): no Java, no local stack, no AWS; the job records
 * vanish with the process. `npm test` runs it with vitest; under Jest, drop the vitest import
 * (`describe`, `it`, `expect` and the hooks are globals there) and set `JOBS_BACKEND=memory`
 * in the test environment.
 */

import { gql } from "apollo-server";
import { createTestClient } from "apollo-server-testing";
import { memoryBackendOf } from "reaction-background-jobs-aws/reaction";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "./app.js";

const SHOP_ID = "example-shop";
const opaqueShopId = Buffer.from(`reaction/shop:${SHOP_ID}`).toString("base64");

let api;
let previousBackend;
beforeAll(async () => {
  // Usually set once for the whole suite (Jest's `testEnvironmentOptions`, a setup file, or
  // `JOBS_BACKEND=memory jest`); here for this file only, and put back afterwards.
  previousBackend = process.env.JOBS_BACKEND;
  process.env.JOBS_BACKEND = "memory";
  api = await buildApp();
  await api.runServiceStartup();
});

afterAll(async () => {
  await api?.stop();
  if (previousBackend === undefined) delete process.env.JOBS_BACKEND;
  else process.env.JOBS_BACKEND = previousBackend;
});

describe("generateSitemaps", () => {
  it("schedules a sitemaps/generate job that Reaction's sitemap worker runs, writing the shop's sitemaps", async () => {
    api.initServer();
    api.context.user = { _id: "test-admin" };
    const { mutate } = createTestClient(api.apolloServer);
    const result = await mutate({
      mutation: gql`
        mutation ($input: GenerateSitemapsInput!) {
          generateSitemaps(input: $input) { wasJobScheduled }
        }
      `,
      variables: { input: { shopId: opaqueShopId } },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ generateSitemaps: { wasJobScheduled: true } });

    // Every job ready now has run: no polling, no sleeps.
    await (await memoryBackendOf(api)).idle();

    const [job] = await api.collections.Jobs.find({
      type: "sitemaps/generate",
      "data.shopId": SHOP_ID,
      "data.notifyUserId": "test-admin",
    }).toArray();
    expect(job).toMatchObject({
      status: "completed",
      result: { value: "sitemaps/generate job done" },
    });
    const sitemaps = await api.collections.Sitemaps.find({ shopId: SHOP_ID }).toArray();
    expect(sitemaps.map((sitemap) => sitemap.handle).sort()).toEqual([
      "sitemap-pages-1.xml",
      "sitemap.xml",
    ]);
  });
});
