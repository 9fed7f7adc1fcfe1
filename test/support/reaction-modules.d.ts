// Reaction's packages and mongo-mock ship no types: what the tests use of them.

declare module "@reactioncommerce/api-core" {
  export interface MongoCollection {
    insertOne(doc: Record<string, unknown>): Promise<unknown>;
    findOne(
      filter?: Record<string, unknown>,
      options?: unknown,
    ): Promise<Record<string, unknown> | null>;
    find(
      filter?: Record<string, unknown>,
      options?: unknown,
    ): { toArray(): Promise<Record<string, unknown>[]> };
  }
  export type ReactionFunction = (context: ReactionContext, ...args: never[]) => Promise<unknown>;
  export interface ReactionContext {
    [key: string]: unknown;
    app: ReactionAPICore;
    appEvents: {
      on(name: string, handler: (...args: never[]) => unknown): void;
      emit(name: string, ...args: unknown[]): Promise<void>;
    };
    collections: Record<string, MongoCollection>;
    queries: Record<string, ReactionFunction>;
    mutations: Record<string, ReactionFunction>;
    getInternalContext(): ReactionContext;
  }
  export class ReactionAPICore {
    constructor(options?: Record<string, unknown>);
    context: ReactionContext;
    collections: Record<string, MongoCollection>;
    registeredPlugins: Record<string, Record<string | symbol, unknown>>;
    graphQL: { resolvers: Record<string, Record<string, (...args: never[]) => unknown>> };
    apolloServer: unknown;
    db: unknown;
    registerPlugin(plugin: Record<string, unknown>): Promise<void>;
    registerPlugins(plugins: Record<string, unknown>): Promise<void>;
    setMongoDatabase(db: unknown): Promise<void>;
    runServiceStartup(): Promise<void>;
    initServer(): void;
    stop(): Promise<void>;
  }
}

declare module "@reactioncommerce/api-plugin-email" {
  export default function register(app: unknown): Promise<void>;
}

declare module "@reactioncommerce/api-plugin-sitemap-generator" {
  export default function register(app: unknown): Promise<void>;
}

declare module "@reactioncommerce/api-utils/graphql/getPaginatedResponse.js" {
  export default function getPaginatedResponse(
    cursor: unknown,
    args: Record<string, unknown>,
    options?: Record<string, boolean>,
  ): Promise<{
    nodes: Array<Record<string, unknown>>;
    pageInfo: Record<string, unknown>;
    totalCount: number | null;
  }>;
}

declare module "apollo-server-testing" {
  export function createTestClient(server: unknown): {
    query(request: { query: unknown; variables?: Record<string, unknown> }): Promise<{
      data?: Record<string, unknown>;
      errors?: unknown[];
    }>;
  };
}

declare module "mongo-mock" {
  const mongoMock: {
    max_delay: number;
    MongoClient: {
      connect(url: string): Promise<{ db(name?: string): unknown; close(): Promise<void> }>;
    };
    /** The BSON ObjectID of the MongoDB driver it wraps (js-bson 1.x). */
    ObjectID: new (
      hex?: string,
    ) => { toHexString(): string };
  };
  export default mongoMock;
}

declare module "apollo-server" {
  export function gql(source: string): unknown;
}

declare module "@reactioncommerce/api-utils/encodeOpaqueId.js" {
  export default function encodeOpaqueId(namespace: string): (id: string) => string;
}

declare module "*/examples/reaction/shop-plugin.js" {
  export default function register(app: unknown): Promise<void>;
}
