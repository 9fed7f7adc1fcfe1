import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type App, createApp, type Plugin, type ReconcileReport } from "../lib/index.ts";

/**
 * The app for one Lambda process, built once per cold start: resource names from the
 * environment the CDK construct sets, workers registered by the plugins' own startup
 * functions, exactly as on a laptop. Their scheduling calls are skipped here (a cold start
 * changes no job record): `startupHandler` makes them, once per deployment.
 */
export function lambdaApp(plugins: Plugin[]): () => Promise<App> {
  let started: Promise<App> | undefined;
  return () => {
    started ??= (async () => {
      const app = createApp();
      for (const plugin of plugins) app.registerPlugin(plugin);
      await app.start();
      return app;
    })().catch((error: unknown) => {
      started = undefined; // the next invocation tries again
      throw error;
    });
    return started;
  };
}

/**
 * The SQS-triggered dispatcher: the same handler the local poller calls. It answers with a
 * partial batch response and never throws (a throw would fail the whole batch), except when
 * the app itself cannot start, when every message must come back.
 */
export function dispatcherHandler(
  plugins: Plugin[],
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const app = lambdaApp(plugins);
  return async (event, context) => (await app()).handleSqsEvent(event, context);
}

/**
 * The deploy-time startup: the one place the plugins' startup schedules and cancels jobs on
 * AWS (the construct's Trigger runs it once per deployment that changes the plugins). The
 * dispatcher's and the reconciler's cold starts only register workers.
 */
export function startupHandler(plugins: Plugin[]): () => Promise<{ plugins: number }> {
  return async () => {
    const app = createApp({ startupScheduling: "run" });
    for (const plugin of plugins) app.registerPlugin(plugin);
    await app.start();
    await app.stop();
    return { plugins: plugins.length };
  };
}

/** Scheduled every minute: re-sends lost messages, ends dead runs, re-arms chains, re-sweeps cancels. */
export function reconcilerHandler(plugins: Plugin[]): () => Promise<ReconcileReport> {
  const app = lambdaApp(plugins);
  return async () => (await app()).reconcile();
}
