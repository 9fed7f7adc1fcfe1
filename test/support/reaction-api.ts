import { randomUUID } from "node:crypto";
import { ReactionAPICore, type ReactionContext } from "@reactioncommerce/api-core";
import registerEmail from "@reactioncommerce/api-plugin-email";
import registerSitemap from "@reactioncommerce/api-plugin-sitemap-generator";
import { gql } from "apollo-server";
import { createTestClient } from "apollo-server-testing";
import mongoMock from "mongo-mock";
import { afterAll, beforeAll } from "vitest";
import registerShop from "../../examples/reaction/shop-plugin.js";
import type { ReactionBackgroundJobs } from "../../lib/reaction/host.ts";
import { type JobQueueOptions, registerWith } from "../../lib/reaction/index.ts";
import { onSharedDynamoDb } from "./local-app.ts";

export interface ReactionTestApi {
  api: ReactionAPICore;
  context: ReactionContext & { backgroundJobs: ReactionBackgroundJobs };
  stop(): Promise<void>;
}

/**
 * Runs GraphQL operations against the API's Apollo server as Reaction's own integration tests
 * do (`apollo-server-testing`), signed in as a user every permission check lets through.
 */
export function graphQLClient(api: ReactionAPICore) {
  if (!api.apolloServer) api.initServer();
  api.context.user = { _id: "test-admin" };
  const client = createTestClient(api.apolloServer);
  return async <T = Record<string, unknown>>(
    operation: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> => {
    const result = await client.query({ query: gql(operation), variables });
    if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
}

export interface ReactionTestOptions {
  /** Shop ids inserted before startup. Default one shop. */
  shops?: string[];
  /** The job-queue plugin's options. Default: a local stack, quiet, on the suite's DynamoDB Local. */
  jobQueue?: JobQueueOptions;
  /** More plugin registrations, after the email and sitemap plugins. */
  plugins?: Array<Record<string, unknown>>;
  /** Run `runServiceStartup()` (default true). */
  startup?: boolean;
}

/**
 * A Reaction API as a team's would be: `ReactionAPICore` with the job-queue swap-in registered
 * where plugins.json lists the original (after the first plugin), Reaction's real email and
 * sitemap plugins, and a mongo-mock database standing in for MongoDB. No HTTP server.
 */
export async function startReactionApi(
  options: ReactionTestOptions = {},
): Promise<ReactionTestApi> {
  const api = new ReactionAPICore({});
  // Reaction's appEvents is one object per process, stopped by every api.stop(): a test file
  // that starts several APIs resumes it for each, and the listeners this API's plugins and its
  // test add go with it on stop (a later file's email test must not meet this one's sender).
  const appEvents = api.context.appEvents as {
    resume?(): void;
    handlers?: Record<string, unknown[]>;
  };
  appEvents.resume?.();
  const listenersBefore = Object.fromEntries(
    Object.entries(appEvents.handlers ?? {}).map(([name, list]) => [name, [...list]]),
  );
  await api.registerPlugins({
    // The example app's stand-in for the shop, settings and authorization plugins.
    shop: registerShop,
    jobQueue: registerWith(
      options.jobQueue ?? { backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) } },
    ),
    email: registerEmail,
    sitemapGenerator: registerSitemap,
  });
  for (const plugin of options.plugins ?? []) await api.registerPlugin(plugin);
  mongoMock.max_delay = 0;
  const client = await mongoMock.MongoClient.connect("mongodb://127.0.0.1:27017/reaction");
  // A database of its own: mongo-mock keeps every database of the process in memory.
  const db = client.db(randomUUID()) as { close(): Promise<void> };
  await api.setMongoDatabase(db);
  for (const collection of Object.values(api.collections)) withReplaceOne(collection);
  for (const shopId of options.shops ?? ["shop1"]) {
    await api.collections.Shops?.insertOne({ _id: shopId, name: `Shop ${shopId}` });
  }
  const stop = async () => {
    await api.stop();
    if (appEvents.handlers) {
      for (const name of Object.keys(appEvents.handlers))
        appEvents.handlers[name] = listenersBefore[name] ?? [];
    }
    await db.close(); // mongo-mock keeps the process alive until its databases are closed
    await client.close();
  };
  if (options.startup ?? true) {
    try {
      await api.runServiceStartup();
    } catch (error) {
      await stop();
      throw error;
    }
  }
  return { api, context: api.context as ReactionTestApi["context"], stop };
}

/**
 * mongo-mock 4.2 throws "Not Implemented" from `replaceOne`, which the sitemap worker calls
 * (`Sitemaps.replaceOne(filter, doc, { upsert: true })`): the stand-in database gets it here,
 * as MongoDB does it, from calls mongo-mock has.
 */
export function withReplaceOne(collection: object): void {
  const target = collection as Record<string, unknown> & {
    findOne(filter: object): Promise<{ _id: unknown } | null>;
    deleteOne(filter: object): Promise<unknown>;
    insertOne(doc: object): Promise<unknown>;
  };
  target.replaceOne = async (filter: object, doc: object, options: { upsert?: boolean } = {}) => {
    const existing = await target.findOne(filter);
    if (!existing && !options.upsert) return { matchedCount: 0, modifiedCount: 0 };
    if (existing) await target.deleteOne({ _id: existing._id });
    await target.insertOne(existing ? { ...doc, _id: existing._id } : doc);
    return { matchedCount: existing ? 1 : 0, modifiedCount: existing ? 1 : 0 };
  };
}

/** `startReactionApi` in `beforeAll`, stopped in `afterAll` of the enclosing file or block. */
export function useReactionApi(options?: ReactionTestOptions): ReactionTestApi {
  let started: ReactionTestApi | undefined;
  beforeAll(async () => {
    started = await startReactionApi(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const get = () => {
    if (!started) throw new Error("the Reaction API is not started yet (read it inside a test)");
    return started;
  };
  return {
    get api() {
      return get().api;
    },
    get context() {
      return get().context;
    },
    stop: () => get().stop(),
  };
}
