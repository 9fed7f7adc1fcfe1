import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { JobBackend } from "../lib/backend.ts";
import type { ReconcileReport } from "../lib/jobs/reconcile.ts";
import { jobQueueHostOf } from "../lib/reaction/plugin.ts";

/**
 * A team's Reaction API, unstarted: `ReactionAPICore` with its plugins registered (the
 * job-queue swap-in among them) and, usually, its MongoDB connection made.
 */
export interface ReactionApi {
  db?: unknown;
  connectToMongo(options?: { mongoUrl?: string }): Promise<void>;
  runServiceStartup(): Promise<void>;
}

/** The module the construct's `reactionApp.entry` names: `export async function buildApp()`. */
export type BuildReactionApp = () => Promise<ReactionApi>;

/**
 * The Reaction API of one Lambda process, booted once per cold start: built by the team's
 * module, connected to MongoDB (`MONGO_URL`) if the module did not, then Reaction's
 * `runServiceStartup()` with no HTTP server, through the job-queue plugin's startup gate: in
 * Lambda a cold start only registers workers, and the plugins' scheduling calls (the sitemap
 * plugin's per-shop repeats) are skipped; the Reaction API server's own starts make them.
 * Workers then run with `context` exactly as on the server: collections, appEvents, queries,
 * mutations.
 */
export function reactionLambdaApp(build: BuildReactionApp): () => Promise<JobBackend> {
  let started: Promise<JobBackend> | undefined;
  return () => {
    started ??= (async () => {
      const api = await build();
      const host = jobQueueHostOf(api);
      if (!api.db) await api.connectToMongo();
      await host.gate.booting(() => api.runServiceStartup());
      return host.started();
    })().catch((error: unknown) => {
      started = undefined; // the next invocation tries again
      throw error;
    });
    return started;
  };
}

/** The SQS-triggered dispatcher for a Reaction API: the handler the local poller calls too. */
export function reactionDispatcherHandler(
  build: BuildReactionApp,
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const app = reactionLambdaApp(build);
  return async (event) => (await app()).handleSqsEvent(event);
}

/** The reconciler, scheduled every minute, over the same Reaction API's job backend. */
export function reactionReconcilerHandler(build: BuildReactionApp): () => Promise<ReconcileReport> {
  const app = reactionLambdaApp(build);
  return async () => (await app()).reconcile();
}
