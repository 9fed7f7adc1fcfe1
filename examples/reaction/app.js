/**
 * The example Reaction API, unstarted: Reaction's core with the job-queue swap-in registered
 * where plugins.json lists the original, Reaction's email and sitemap plugins, and two
 * stand-ins (`shop-plugin.js`, `smtp-plugin.js`). `server.js` starts it; the CDK construct's
 * `reactionApp: { entry: "examples/reaction/app.js" }` bundles it for Lambda.
 *
 * The plugins are imported statically (not through plugins.json and importPluginsJSONFile)
 * so that esbuild can bundle them for Lambda.
 */
import { randomUUID } from "node:crypto";
import { ReactionAPICore } from "@reactioncommerce/api-core";
import registerEmail from "@reactioncommerce/api-plugin-email";
import registerSitemapGenerator from "@reactioncommerce/api-plugin-sitemap-generator";
import mongoMock from "mongo-mock";
import registerJobQueue from "reaction-background-jobs-aws/reaction";
import registerShop from "./shop-plugin.js";
import registerSmtp from "./smtp-plugin.js";

/**
 * Builds the API with its plugins and its database: MongoDB at `MONGO_URL` when set,
 * otherwise an in-memory stand-in (mongo-mock) holding one shop, so the example needs no
 * MongoDB server. The jobs' backend comes from the environment (`JOBS_BACKEND=memory` in the
 * tests, see sitemaps.test.js).
 */
export async function buildApp() {
  const api = new ReactionAPICore({ version: "0.1.0-example" });
  await api.registerPlugins({
    shop: registerShop,
    jobQueue: registerJobQueue, // was: "@reactioncommerce/api-plugin-job-queue"
    email: registerEmail,
    sitemapGenerator: registerSitemapGenerator,
    smtp: registerSmtp,
  });
  if (process.env.MONGO_URL) {
    await api.connectToMongo({ mongoUrl: process.env.MONGO_URL });
  } else {
    mongoMock.max_delay = 0;
    const client = await mongoMock.MongoClient.connect("mongodb://127.0.0.1:27017/example");
    // A database of its own: mongo-mock keeps every database of the process in memory.
    const db = client.db(`example-${randomUUID()}`);
    await api.setMongoDatabase(db);
    // mongo-mock's handles keep Node running until closed: api.stop() closes them as it
    // closes a MongoDB client.
    api.mongoClient = {
      close: async () => {
        await db.close();
        await client.close();
      },
    };
    for (const collection of Object.values(api.collections)) withReplaceOne(collection);
    await api.collections.Shops.insertOne({
      _id: "example-shop",
      name: "Example shop",
      emails: [{ address: "shop@example.com" }],
    });
  }
  return api;
}

/**
 * mongo-mock 4.2 throws "Not Implemented" from `replaceOne`, which the sitemap worker calls
 * (`Sitemaps.replaceOne(filter, doc, { upsert: true })`): the stand-in database gets it here,
 * as MongoDB does it, from calls mongo-mock has.
 */
function withReplaceOne(collection) {
  collection.replaceOne = async (filter, doc, options = {}) => {
    const existing = await collection.findOne(filter);
    if (!existing && !options.upsert) return { matchedCount: 0, modifiedCount: 0 };
    if (existing) await collection.deleteOne({ _id: existing._id });
    await collection.insertOne(existing ? { ...doc, _id: existing._id } : doc);
    return { matchedCount: existing ? 1 : 0, modifiedCount: existing ? 1 : 0 };
  };
}
