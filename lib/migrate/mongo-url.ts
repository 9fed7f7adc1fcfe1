/**
 * Connecting to a shop's MongoDB by URL with the real `mongodb` driver, for
 * `bgjobs migrate-from-mongo`. The driver is not a dependency of this package: a Reaction API
 * has it (through `@reactioncommerce/api-core`), and it is loaded only here.
 */
import type { MongoDatabase } from "./read.ts";

/** MongoDB could not be reached, or the driver is missing: says which URL and why. */
export class MongoConnectionError extends Error {
  override name = "MongoConnectionError";
}

export interface MongoConnection {
  db: MongoDatabase;
  /** The database's name (from `--db`, else the URL's path). */
  name: string;
  close(): Promise<void>;
}

interface MongoDriver {
  MongoClient: {
    connect(
      url: string,
      options: Record<string, unknown>,
    ): Promise<{
      db(name?: string): MongoDatabase & { databaseName: string };
      close(): Promise<void>;
    }>;
  };
}

/**
 * Connects to `url` (and picks database `dbName`, else the URL's), giving up after
 * `timeoutMs` without a server.
 *
 * @example const { db, close } = await connectMongo("mongodb://127.0.0.1:27017/reaction");
 */
export async function connectMongo(
  url: string,
  options: { dbName?: string; timeoutMs: number },
): Promise<MongoConnection> {
  if (!/^mongodb(\+srv)?:\/\//.test(url))
    throw new MongoConnectionError(
      `--mongo-url must start with mongodb:// or mongodb+srv://, got ${JSON.stringify(url)}`,
    );
  const dbName = options.dbName ?? databaseInUrl(url);
  if (!dbName)
    throw new MongoConnectionError(
      `${redacted(url)} names no database: add it to the URL (mongodb://host/reaction) or pass --db NAME`,
    );
  const driver = await loadDriver();
  let client: Awaited<ReturnType<MongoDriver["MongoClient"]["connect"]>>;
  try {
    client = await driver.MongoClient.connect(url, {
      // Driver 3.x's current engine (4.x and later ignore the option).
      useUnifiedTopology: true,
      serverSelectionTimeoutMS: options.timeoutMs,
    });
  } catch (error) {
    throw new MongoConnectionError(
      `cannot reach MongoDB at ${redacted(url)}: ${(error as Error).message}`,
    );
  }
  const db = client.db(dbName);
  return { db, name: db.databaseName, close: () => client.close() };
}

async function loadDriver(): Promise<MongoDriver> {
  try {
    // A name in a variable: no bundler pulls the driver in, and it needs no type declarations.
    const name = "mongodb";
    const loaded = (await import(name)) as MongoDriver & { default?: MongoDriver };
    return loaded.MongoClient ? loaded : (loaded.default as MongoDriver);
  } catch {
    throw new MongoConnectionError(
      "the mongodb driver is not installed here: run bgjobs from the Reaction API's folder (api-core brings it), or npm install mongodb",
    );
  }
}

/** The database a connection string names (its path), if any. */
function databaseInUrl(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}
