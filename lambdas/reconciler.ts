import { lambdaApp } from "./app.ts";

/** Scheduled every minute: re-enqueues lost messages, expires dead runs, re-sweeps cancels. */
export async function handler(): Promise<unknown> {
  const app = await lambdaApp();
  return app.reconcile();
}
