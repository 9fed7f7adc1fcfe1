import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, inject } from "vitest";
import {
  type App,
  type AppOptions,
  type BackgroundJobs,
  createApp,
  type Job,
  type LocalBackendOptions,
  type Plugin,
} from "../../lib/index.ts";
import type { JobDoc, JobStatus } from "../../lib/jobs/types.ts";

/**
 * This worker's DynamoDB Local of the suite's (one per worker, started by
 * `test/global-setup.ts`): vitest numbers a run's workers from 1 in `VITEST_POOL_ID`.
 */
export function sharedDynamoDbEndpoint(): string {
  const endpoints = inject("dynamodbEndpoints");
  const worker = Math.max(1, Number(process.env.VITEST_POOL_ID) || 1);
  return endpoints[(worker - 1) % endpoints.length] as string;
}

/**
 * Local options that put an app's table on the worker's shared DynamoDB Local instead of a
 * JVM of its own; the app deletes its table on stop.
 */
export function onSharedDynamoDb(local: LocalBackendOptions = {}): LocalBackendOptions {
  return { dynamodbEndpoint: sharedDynamoDbEndpoint(), ...local };
}

/**
 * For apps that stop and start again on the same jobs (a restarted server): a table on the
 * suite's DynamoDB Local under a name of its own, kept across the apps' lives (pass the
 * options to each, with the `dataDir` that keeps the schedules), and `drop()` to delete it.
 *
 * @example const table = restartableTable(); startLocalApp(table.options({ dataDir })); ... await table.drop();
 */
export function restartableTable(): {
  options(local?: LocalBackendOptions): LocalBackendOptions;
  drop(): Promise<void>;
} {
  const resourcePrefix = `restart-${randomUUID().slice(0, 8)}`;
  return {
    options: (local = {}) => onSharedDynamoDb({ resourcePrefix, ...local }),
    async drop() {
      const client = new DynamoDBClient({
        region: "us-east-1",
        endpoint: sharedDynamoDbEndpoint(),
        credentials: LOCAL_CREDENTIALS,
      });
      try {
        await client.send(new DeleteTableCommand({ TableName: `${resourcePrefix}-jobs` }));
      } catch (error) {
        // No table: no app got as far as making it, and the test says why.
        if ((error as Error).name !== "ResourceNotFoundException") throw error;
      } finally {
        client.destroy();
      }
    },
  };
}

/**
 * A started app on its own local stack, quiet: its table on the suite's shared DynamoDB Local,
 * or, with `dataDir`, on a DynamoDB Local of its own that persists there.
 */
export async function startLocalApp(
  local: LocalBackendOptions = {},
  plugins: Plugin[] = [],
  options: Omit<AppOptions, "backgroundJobs"> = {},
): Promise<App> {
  const shared = local.dataDir ? local : onSharedDynamoDb(local);
  const app = createApp({ ...options, backgroundJobs: { local: { quiet: true, ...shared } } });
  for (const plugin of plugins) app.registerPlugin(plugin);
  await app.start();
  return app;
}

/** A local app shared by the tests of a file (or `describe` block), with SDK clients on its servers. */
export interface LocalAppHandle {
  /** The started app; throws if read before the block's `beforeAll` has run. */
  readonly app: App;
  /** Clients on the app's local servers, made on first use and destroyed after the block. */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly scheduler: SchedulerClient;
}

/**
 * Starts a local app in `beforeAll` and stops it (and the clients made from it) in `afterAll`
 * of the enclosing file or `describe` block; the arguments are `startLocalApp`'s.
 *
 * @example const local = useLocalApp({ reconcileIntervalMs: 500 }); ... local.app.context
 */
export function useLocalApp(...args: Parameters<typeof startLocalApp>): LocalAppHandle {
  let started: App | undefined;
  let clients: { dynamodb?: DynamoDBClient; sqs?: SQSClient; scheduler?: SchedulerClient } = {};
  const app = (): App => {
    if (!started) throw new Error("the local app is not started yet (read it inside a test)");
    return started;
  };
  beforeAll(async () => {
    started = await startLocalApp(...args);
  });
  afterAll(async () => {
    for (const client of Object.values(clients)) client?.destroy();
    clients = {};
    await started?.stop();
  });
  return {
    get app() {
      return app();
    },
    get dynamodb() {
      clients.dynamodb ??= dynamodbClientFor(app());
      return clients.dynamodb;
    },
    get sqs() {
      clients.sqs ??= sqsClientFor(app());
      return clients.sqs;
    },
    get scheduler() {
      clients.scheduler ??= schedulerClientFor(app());
      return clients.scheduler;
    },
  };
}

const LOCAL_CREDENTIALS = { accessKeyId: "x", secretAccessKey: "x" };

/** A DynamoDB client on an app's local DynamoDB. The caller destroys it. */
export function dynamodbClientFor(app: Pick<App, "local">): DynamoDBClient {
  return new DynamoDBClient({
    region: app.local.region,
    endpoint: app.local.endpoints.dynamodb,
    credentials: LOCAL_CREDENTIALS,
  });
}

/** An SQS client on an app's local SQS server (queue URLs as given, not as endpoints). */
export function sqsClientFor(app: Pick<App, "local">): SQSClient {
  return new SQSClient({
    region: app.local.region,
    endpoint: app.local.endpoints.sqs,
    useQueueUrlAsEndpoint: false,
    credentials: LOCAL_CREDENTIALS,
  });
}

/** An EventBridge Scheduler client on an app's local scheduler server. */
export function schedulerClientFor(app: Pick<App, "local">): SchedulerClient {
  return new SchedulerClient({
    region: app.local.region,
    endpoint: app.local.endpoints.scheduler,
    credentials: LOCAL_CREDENTIALS,
  });
}

/**
 * A queue's messages: `visible` waits for a receive, `inFlight` was received (the local poller
 * holds it, or a worker runs it) and is not yet deleted.
 */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Polls `getJob` until the job's status is one of `statuses`; returns its document. */
export async function waitForStatus(
  app: { context: { backgroundJobs: Pick<BackgroundJobs, "getJob"> } },
  id: string,
  statuses: JobStatus | JobStatus[],
  timeoutMs = 20_000,
): Promise<JobDoc> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  const deadline = Date.now() + timeoutMs;
  let last: Job | null = null;
  while (Date.now() < deadline) {
    last = await app.context.backgroundJobs.getJob(id);
    if (last && wanted.includes(last._doc.status)) return last._doc;
    await sleep(50);
  }
  throw new Error(
    `job ${id} did not reach ${wanted.join("/")} in ${timeoutMs} ms (last: ${last?._doc.status ?? "none"})`,
  );
}

/** Resolves when `predicate()` is true, polling. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = "condition",
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(25);
  }
  throw new Error(`${what} not reached in ${timeoutMs} ms`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A temporary data folder, removed by the returned function. */
export async function tempDataDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "jobs-data-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A deferred promise: resolve it from outside. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
