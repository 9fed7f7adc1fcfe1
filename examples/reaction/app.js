/**
 * The example Reaction API, unstarted: Reaction's core with the job-queue swap-in registered
 * where plugins.json lists the original, Reaction's email and sitemap plugins, and two
 * stand-ins (`shop-plugin.js`, `smtp-plugin.js`). `server.js` starts it; the CDK construct's
 * `reactionApp: { entry: "examples/reaction/app.js" }` bundles it for Lambda.
 *
 * The plugins are imported statically (not through plugins.json and importPluginsJSONFile)
 * so that esbuild can bundle them for Lambda.
 */
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
 * MongoDB server.
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
    await api.setMongoDatabase(client.db("example"));
    await api.collections.Shops.insertOne({
      _id: "example-shop",
      name: "Example shop",
      emails: [{ address: "shop@example.com" }],
    });
  }
  return api;
}
