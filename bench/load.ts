/**
 * (d) of `npm run bench`: 20,000 jobs of 50 shops and 5 types, scheduled faster than the
 * workers run them, so a backlog of minutes forms (longer than the reconciler's 60 s
 * staleness, which the earlier reconciler took for lost messages). Shop s0 schedules 40% of
 * the jobs, the 49 others share the rest. Reconciler passes run every 5 s from a second app
 * whose requests alone are counted.
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
  scale: number,
  print: (record: Record<string, unknown>) => void,
): Promise<void> {
  const jobs = Math.round(20_000 * scale);
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
  // Shop s0: 40% of the jobs; the others the rest, in a fixed shuffled order.
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const shopOf = () => (random() < 0.4 ? "s0" : `s${1 + Math.floor(random() * (SHOPS - 1))}`);
  for (let s = 0; s < SHOPS; s += 1) waits.set(`s${s}`, []);

  const passes: Array<{ ms: number; requests: number; requeued: number; read: number }> = [];
  let running = true;
  const reconciling = (async () => {
    while (running) {
      await sleep(5000);
      counter.reset();
      const began = performance.now();
      const report = await reconciler.reconcile();
      passes.push({
        ms: round(performance.now() - began, 1),
        requests: counter.total(),
        requeued: report.requeued,
        read: report.read,
      });
    }
  })();

  const began = Date.now();
  for (let i = 0; i < jobs; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, jobs - i) }, (_, n) =>
        backgroundJobs.scheduleJob({
          type: `load/type${(i + n) % TYPES}`,
          data: { shopId: shopOf(), at: Date.now() },
        }),
      ),
    );
  }
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
    bench: `load: ${jobs} jobs, ${SHOPS} shops (s0: 40%), ${TYPES} types, a backlog`,
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
    p95WaitMs: {
      bigShop: p95.find((s) => s.shop === "s0")?.p95Ms,
      otherShops: { min: small[0], median: percentile(small, 50), max: small.at(-1) },
    },
    perShop: p95.map((s) => [s.shop, s.jobs, s.p95Ms]),
  });
}
