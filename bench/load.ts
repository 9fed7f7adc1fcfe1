/**
 * (d) of `npm run bench`: 20,000 jobs of 50 shops and 5 types. Shop s0 floods 40% of them at
 * once (an import), far faster than the workers run them, so a backlog of minutes forms
 * (longer than the staleness this run sets, 10 s, past which the earlier reconciler took a
 * waiting job for a lost message and sent it again); meanwhile the 49 other shops schedule the rest at a steady 120 jobs a second.
 * Fair picking should keep their waits short while s0's grow. Reconciler passes run every
 * 5 s from a second app whose requests alone are counted.
 */
import type { App, Job, RequestCounter } from "../lib/index.ts";
import { percentile, round } from "./cost.ts";

const SHOPS = 50;
const TYPES = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function loadTest(
  app: App,
  reconciler: App,
  counter: RequestCounter,
  options: { scale: number; staleAfterMs: number },
  print: (record: Record<string, unknown>) => void,
): Promise<void> {
  const jobs = Math.round(20_000 * options.scale);
  const { backgroundJobs } = app.context;
  const startsById = new Map<string, number>();
  const waits = new Map<string, number[]>();
  let completed = 0;
  for (let t = 0; t < TYPES; t += 1) {
    await backgroundJobs.addWorker({
      type: `load/type${t}`,
      concurrency: 4,
      async worker(job: Job) {
        const shop = job.data.shopId as string;
        startsById.set(job._id, (startsById.get(job._id) ?? 0) + 1);
        waits.get(shop)?.push(Date.now() - (job.data.at as number));
        await sleep(5);
        await job.done();
        completed += 1;
      },
    });
  }
  for (let s = 0; s < SHOPS; s += 1) waits.set(`s${s}`, []);
  let typeTurn = 0;
  const schedule = (shopId: string) =>
    backgroundJobs.scheduleJob({
      type: `load/type${typeTurn++ % TYPES}`,
      data: { shopId, at: Date.now() },
    });

  const passes: Array<{ ms: number; requests: number; requeued: number; read: number }> = [];
  let running = true;
  const reconciling = (async () => {
    while (running) {
      await sleep(5000);
      counter.reset();
      const began = performance.now();
      const report = await reconciler.reconcile({ staleAfterMs: options.staleAfterMs });
      passes.push({
        ms: round(performance.now() - began, 1),
        requests: counter.total(),
        requeued: report.requeued,
        read: report.read,
      });
    }
  })();

  const began = Date.now();
  const flood = Math.round(jobs * 0.4);
  const flooding = (async () => {
    for (let i = 0; i < flood; i += 500)
      await Promise.all(Array.from({ length: Math.min(500, flood - i) }, () => schedule("s0")));
  })();
  const trickle = jobs - flood;
  for (let i = 0; i < trickle; i += 12) {
    const tick = Date.now();
    await Promise.all(
      Array.from({ length: Math.min(12, trickle - i) }, (_, n) =>
        schedule(`s${1 + ((i + n) % (SHOPS - 1))}`),
      ),
    );
    await sleep(Math.max(0, 100 - (Date.now() - tick))); // 120 jobs a second
  }
  await flooding;
  const scheduledMs = Date.now() - began;
  const deadline = Date.now() + 1_800_000;
  while (completed < jobs && Date.now() < deadline) await sleep(100);
  running = false;
  await reconciling;

  const twice = [...startsById.values()].filter((n) => n > 1).length;
  const p95 = [...waits]
    .filter(([, w]) => w.length > 0)
    .map(([shop, w]) => {
      const sorted = [...w].sort((a, b) => a - b);
      return { shop, jobs: w.length, p95Ms: percentile(sorted, 95) };
    });
  const small = p95
    .filter((s) => s.shop !== "s0")
    .map((s) => s.p95Ms)
    .sort((a, b) => a - b);
  const requests = passes.map((p) => p.requests).sort((a, b) => a - b);
  print({
    bench: `load: ${jobs} jobs, ${SHOPS} shops (s0 floods 40% at once, 49 trickle 120/s), ${TYPES} types`,
    scheduledInMs: scheduledMs,
    drainedInMs: Date.now() - began,
    jobsPerSec: round((jobs / (Date.now() - began)) * 1000, 1),
    lost: jobs - completed,
    runTwice: twice,
    reconcilerPasses: {
      passes: passes.length,
      requestsPerPass: {
        min: requests[0],
        median: percentile(requests, 50),
        max: requests.at(-1),
      },
      msPerPass: { max: Math.max(...passes.map((p) => p.ms)) },
      recordsReadPerPass: { max: Math.max(...passes.map((p) => p.read)) },
      requeued: passes.reduce((sum, p) => sum + p.requeued, 0),
    },
    staleAfterMs: options.staleAfterMs,
    longestWaitMs: Math.max(...[...waits.values()].flat()),
    p95WaitMs: {
      bigShop: p95.find((s) => s.shop === "s0")?.p95Ms,
      otherShops: { min: small[0], median: percentile(small, 50), max: small.at(-1) },
    },
    perShop: p95.map((s) => [s.shop, s.jobs, s.p95Ms]),
  });
}
