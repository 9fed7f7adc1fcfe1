import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type App,
  type AppOptions,
  createApp,
  type Job,
  type LocalBackendOptions,
  type Plugin,
} from "../../lib/index.ts";
import type { JobDoc, JobStatus } from "../../lib/jobs/types.ts";

/** A started app on its own local stack (in memory unless `dataDir`), quiet. */
export async function startLocalApp(
  local: LocalBackendOptions = {},
  plugins: Plugin[] = [],
  options: Omit<AppOptions, "backgroundJobs"> = {},
): Promise<App> {
  const app = createApp({ ...options, backgroundJobs: { local: { quiet: true, ...local } } });
  for (const plugin of plugins) app.registerPlugin(plugin);
  await app.start();
  return app;
}

/** Polls `getJob` until the job's status is one of `statuses`; returns its document. */
export async function waitForStatus(
  app: App,
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
