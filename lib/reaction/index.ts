/**
 * The swap-in for Reaction's `@reactioncommerce/api-plugin-job-queue`: list this module in a
 * Reaction API's plugins.json in its place and every plugin keeps `context.backgroundJobs`
 * (on DynamoDB, SQS, EventBridge Scheduler and Lambda) and a read-only
 * `context.collections.Jobs`.
 *
 * @example
 * // plugins.json: "jobQueue": "reaction-background-jobs-aws/reaction"
 * import registerJobQueue from "reaction-background-jobs-aws/reaction";
 * await registerJobQueue(api); // api: a ReactionAPICore
 */
import type { JobQueueOptions } from "./host.ts";
import { jobQueuePlugin, type ReactionApp } from "./plugin.ts";

/**
 * Registers the `job-queue` plugin on a Reaction API, as every Reaction plugin package's
 * default export does. Its backend comes from the environment: in memory when
 * `JOBS_BACKEND=memory` (the API's tests), the deployment's `JOBS_*` variables when
 * `JOBS_TABLE_NAME` is set, else the embedded local stack in `JOBS_DATA_DIR` (default `.data`).
 */
export default async function register(app: ReactionApp): Promise<void> {
  await app.registerPlugin(jobQueuePlugin());
}

/**
 * A `register` with options (a backend, `workersEnabled`, a logger), for a Reaction API built
 * in code rather than from plugins.json.
 *
 * @example await api.registerPlugins({ jobQueue: registerWith({ backgroundJobs: { local: {} } }) });
 */
export function registerWith(options: JobQueueOptions): (app: ReactionApp) => Promise<void> {
  return async (app) => {
    await app.registerPlugin(jobQueuePlugin(options));
  };
}

export type { MemoryBackendInfo } from "../backend.ts";
export { type MigrationReport, migrateJobsFromMongo } from "../migrate/index.ts";
export { DEFAULT_DATA_DIR, reactionEnvNames } from "./environment.ts";
export type { JobQueueOptions, ReactionBackgroundJobs } from "./host.ts";
export { JOBS_COLLECTION_NAME, JobsView, ReadOnlyViewError } from "./jobs-view.ts";
export {
  JOB_QUEUE_PLUGIN_NAME,
  jobQueueHostOf,
  jobQueuePlugin,
  memoryBackendOf,
  type ReactionApp,
} from "./plugin.ts";
