import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReactionAPICore, type ReactionContext } from "@reactioncommerce/api-core";
import builtInAppEvents from "@reactioncommerce/api-core/src/util/appEvents.js";
import mongoMock from "mongo-mock";
import mongodb from "mongodb";
import type { ReactionBackgroundJobs } from "../../../lib/reaction/host.ts";
import { type JobQueueOptions, registerWith } from "../../../lib/reaction/index.ts";
import { onSharedDynamoDb } from "../local-app.ts";
import { withReplaceOne } from "../reaction-api.ts";
import { withChangeStreams } from "./change-streams.ts";
import { LocalGridStore } from "./grid-store.ts";

/** Reaction v4.2.7's `apps/reaction/plugins.json`, `jobQueue` naming this package. */
const PLUGINS_JSON = new URL("./plugins.json", import.meta.url);
const SWAP_IN = "reaction-background-jobs-aws/reaction";

export interface FullApi {
  api: ReactionAPICore;
  context: ReactionContext & { backgroundJobs: ReactionBackgroundJobs };
  /** mongo-mock's database the API runs on (GridFS stores included). */
  db: unknown;
  /** The plugins.json keys, in the order they were registered. */
  pluginKeys: string[];
  /** The API's HTTP server (GraphQL, `/assets/uploads`, `/assets/files`) on 127.0.0.1. */
  baseUrl: string;
  /** The working directory the API runs in: the files plugin's temp store is its `uploads/`. */
  workDir: string;
  stop(): Promise<void>;
}

export interface FullApiOptions {
  /** The swap-in's options. Default: a quiet local stack on the suite's DynamoDB Local. */
  jobQueue?: JobQueueOptions;
  /** Environment the plugins read when imported (their envalid configs), e.g. `MAIL_URL`. */
  env?: Record<string, string>;
}

/**
 * Reaction v4.2.7's whole API as its `apps/reaction` boots it: every plugin of its plugins.json
 * in that order, `jobQueue` swapped for this package, on a mongo-mock database with the three
 * things mongo-mock lacks filled in (change streams, the authentication plugin's own
 * `MongoClient.connect`, GridFS; see docs/testing.md). Started as `ReactionAPICore.start` does
 * (database, `initServer`, plugin startup, listen), its HTTP server on 127.0.0.1, in a working
 * directory of its own: the files plugin keeps uploads in `./uploads`, as on a real server.
 */
export async function startFullApi(options: FullApiOptions = {}): Promise<FullApi> {
  const plugins = JSON.parse(readFileSync(PLUGINS_JSON, "utf8")) as Record<string, string>;
  const registrations = await importPlugins(plugins, options);
  mongoMock.max_delay = 0;
  const client = await mongoMock.MongoClient.connect("mongodb://127.0.0.1:27017/reaction");
  // A database of its own: mongo-mock keeps every database of the process in memory.
  const db = client.db(randomUUID()) as { close(): Promise<void> };
  const api = new ReactionAPICore({
    rootUrl: "https://shop.example.test/",
    version: "4.2.7",
    mongodb: { ...mongodb, GridStore: LocalGridStore },
    // Reaction's own AppEvents class, an instance of this API's own: the built-in one is one
    // object per process, and the listeners 37 plugins add (email-smtp's "sendEmail" among
    // them) would outlive this API into the next test files of the worker.
    appEvents: new (builtInAppEvents.constructor as new () => object)(),
  });
  const home = process.cwd();
  const workDir = mkdtempSync(join(tmpdir(), "reaction-full-api-"));
  const stop = async () => {
    try {
      await api.stop();
      await db.close(); // mongo-mock keeps the process alive until its databases are closed
      await client.close();
    } finally {
      process.chdir(home);
      rmSync(workDir, { recursive: true, force: true });
    }
  };
  let baseUrl: string;
  try {
    await withMongoClientConnect(db, () => api.registerPlugins(registrations));
    await api.setMongoDatabase(db);
    for (const collection of Object.values(api.collections)) {
      withReplaceOne(collection);
      withChangeStreams(collection);
    }
    process.chdir(workDir);
    api.initServer();
    await api.runServiceStartup();
    baseUrl = await listen((api as unknown as { httpServer: Server }).httpServer);
  } catch (error) {
    await stop();
    throw error;
  }
  const context = api.context as FullApi["context"];
  return { api, context, db, pluginKeys: Object.keys(registrations), baseUrl, workDir, stop };
}

/**
 * Each plugin's `register`, imported as api-core's `importPluginsJSONFile` does, with the
 * plugins' environment set while their config modules read it. `NODE_ENV` is not "test"
 * then: with "test" the files plugin skips starting its workers (its Jest suite has no change
 * streams), and its `saveImage/*` jobs would have nothing to run them.
 */
async function importPlugins(
  plugins: Record<string, string>,
  options: FullApiOptions,
): Promise<Record<string, unknown>> {
  const env = {
    NODE_ENV: "development",
    STRIPE_API_KEY: "sk_test_local_only",
    REACTION_LOG_LEVEL: process.env.REACTION_LOG_LEVEL ?? "FATAL",
    // tus-node-server (the files plugin's uploads) loads aws-sdk v2, which warns at load.
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    ...options.env,
  };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    const registrations: Record<string, unknown> = {};
    for (const [key, specifier] of Object.entries(plugins)) {
      registrations[key] =
        specifier === SWAP_IN
          ? registerWith(
              options.jobQueue ?? { backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) } },
            )
          : ((await import(specifier)) as { default: (app: unknown) => Promise<void> }).default;
    }
    return registrations;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * The authentication plugin (accounts-js) opens a MongoDB connection of its own at
 * registration (`mongoConnectWithRetry(MONGO_URL)` from api-core, `MongoClient.connect`):
 * for that call only, connect returns a client on the API's own mongo-mock database, so its
 * `users` and sessions live with the rest.
 */
async function withMongoClientConnect(db: unknown, register: () => Promise<void>): Promise<void> {
  const { MongoClient } = mongodb as unknown as { MongoClient: { connect: unknown } };
  const connect = MongoClient.connect;
  MongoClient.connect = async () => ({ db: () => db, close: async () => {} });
  try {
    await register();
  } finally {
    MongoClient.connect = connect;
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
