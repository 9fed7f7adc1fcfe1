// The package's own package.json: `../../package.json` from `lib/reaction/` and from
// `dist/reaction/` alike; esbuild inlines it into the Lambda bundle.
import packageJson from "../../package.json" with { type: "json" };
import type { MemoryBackendInfo } from "../backend.ts";
import { JobQueueHost, type JobQueueOptions, type PluginRegistration } from "./host.ts";
import { JOBS_COLLECTION_NAME, JobsView } from "./jobs-view.ts";

/**
 * This package's version, as the registration carries it: Reaction's system-information query
 * lists only plugins that have a `version`.
 */
export const JOB_QUEUE_PLUGIN_VERSION: string = packageJson.version;

/** The name Reaction's original registers, so the two cannot be registered side by side. */
export const JOB_QUEUE_PLUGIN_NAME = "job-queue";

/** Where the plugin's registration keeps its host (read by the Lambda boot, across copies). */
export const JOB_QUEUE_HOST: unique symbol = Symbol.for("reaction-background-jobs-aws.host");

/** A Reaction API (`ReactionAPICore`), as far as registering a plugin goes. */
export interface ReactionApp {
  registerPlugin(plugin: Record<string, unknown>): unknown;
}

/** Reaction's `context`, as far as this plugin touches it. */
interface ReactionContext {
  collections: Record<string, unknown>;
  appEvents?: { emit(name: string, ...args: unknown[]): Promise<unknown> };
}

/**
 * The `job-queue` plugin's registration: `context.backgroundJobs`; a `registerPluginHandler`
 * that reads every plugin's `backgroundJobs` (`cleanup`, `tenants`); a `preStartup` that adds
 * `context.collections.Jobs` (read-only) and starts the job backend, before any plugin's
 * `startup` (so a startup that awaits `addWorker` never waits on a later one); a `startup`
 * that starts consuming locally and emits `jobServerStart`; a `shutdown` that stops what was
 * started.
 *
 * @example await app.registerPlugin(jobQueuePlugin({ backgroundJobs: { local: { dataDir: ".data" } } }));
 */
export function jobQueuePlugin(options: JobQueueOptions = {}) {
  const host = new JobQueueHost(options);
  const view = new JobsView({ source: () => host.source() });
  return {
    label: "Job queue (DynamoDB, SQS, EventBridge Scheduler, Lambda)",
    name: JOB_QUEUE_PLUGIN_NAME,
    version: JOB_QUEUE_PLUGIN_VERSION,
    contextAdditions: { backgroundJobs: host.backgroundJobs },
    functionsByType: {
      registerPluginHandler: [
        function jobQueueRegisterPluginHandler(plugin: PluginRegistration) {
          host.registerPlugin(plugin);
        },
      ],
      preStartup: [
        async function jobQueuePreStartup(context: ReactionContext) {
          if (context.collections[JOBS_COLLECTION_NAME] !== undefined)
            throw new Error(
              "context.collections.Jobs is already defined: remove @reactioncommerce/api-plugin-job-queue (or the plugin defining Jobs); the job-queue plugin provides a read-only Jobs view",
            );
          context.collections[JOBS_COLLECTION_NAME] = view;
          await host.start();
        },
      ],
      startup: [
        async function jobQueueStartup(context: ReactionContext) {
          host.consume();
          // As the original announced its job server (no Reaction plugin listens any more).
          await context.appEvents?.emit("jobServerStart");
        },
      ],
      shutdown: [
        async function jobQueueShutdown() {
          await host.stop();
        },
      ],
    },
    [JOB_QUEUE_HOST]: host,
  };
}

/**
 * The host of the `job-queue` plugin registered on a Reaction API (the Lambda boot runs the
 * API's startup through its gate and hands SQS events to its backend).
 */
export function jobQueueHostOf(app: unknown): JobQueueHost {
  const registered = (app as { registeredPlugins?: Record<string, Record<symbol, unknown>> })
    .registeredPlugins?.[JOB_QUEUE_PLUGIN_NAME]?.[JOB_QUEUE_HOST];
  if (!(registered instanceof Object) || !("gate" in registered))
    throw new Error(
      'this Reaction API has no job-queue plugin from reaction-background-jobs-aws: register "reaction-background-jobs-aws/reaction" in plugins.json in place of @reactioncommerce/api-plugin-job-queue',
    );
  return registered as JobQueueHost;
}

/**
 * The memory backend of a Reaction API's job-queue plugin, once it has started (waits for
 * the start): its clock (`advance` with `memory: { clock: "manual" }`) and `idle()`, for the
 * API's own tests. Refused when the plugin runs on another backend.
 *
 * @example await (await memoryBackendOf(api)).idle(); // every job ready now has run
 */
export async function memoryBackendOf(app: unknown): Promise<MemoryBackendInfo> {
  return (await jobQueueHostOf(app).started()).memory;
}
