import { type App, createApp } from "../lib/index.ts";
import { plugins } from "./plugins.ts";

let started: Promise<App> | undefined;

/**
 * The app, built once per cold start: resource names from the environment the CDK construct
 * sets, workers registered by the plugins' startup functions, exactly as locally.
 */
export function lambdaApp(): Promise<App> {
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
}
