import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LANES } from "../../lib/resources.ts";
import { type Behavior, type JobType, World } from "./world.ts";

/**
 * The model check: random sequences of API calls, worker outcomes, duplicate and reordered
 * deliveries, crashes, failed writes, index lag, reconciler passes and clock jumps, on the
 * in-memory ports with a fake clock. After every step the invariants of the contract are
 * checked (see `World.checkInvariants` and the worker's start checks); at the end, liveness.
 * A failing run prints its seed and the shrunk sequence; `FC_SEED=<seed>` replays it.
 */

const behavior = fc.constantFrom<Behavior>(
  "done",
  "fail",
  "fatal",
  "throw",
  "hang",
  "doneAfterReturn",
  "slow",
  "cancelThenDone",
  "doneTwice",
  "returnUnsettled",
);
const jobType = fc.constantFrom<JobType>("A", "B");
const shop = fc.constantFrom("s1", "s2");

type Step =
  | {
      kind: "schedule";
      type: JobType;
      priority: string;
      retries: number;
      wait: number;
      backoff: "constant" | "exponential";
      plan: Behavior[];
      shop: string;
    }
  | { kind: "repeat"; type: JobType; schedule: string; cancelRepeats: boolean; shop: string }
  | { kind: "advance"; ms: number }
  | { kind: "pump" }
  | { kind: "reconcile" }
  | { kind: "cancelJobs"; type: JobType; shop?: string; another: boolean }
  | { kind: "control"; pick: number; action: Control; template: boolean }
  | { kind: "duplicate"; count: number }
  | { kind: "shuffle"; seed: number }
  | { kind: "crash" }
  | { kind: "failWrite"; operation: "insertJob" | "settleRun" | "claimJob" | "recordFiring" }
  | { kind: "failSend" }
  | { kind: "indexLag"; ms: number };

type Control = "cancel" | "pause" | "resume" | "restart" | "ready" | "rerun" | "remove";

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("schedule" as const),
      type: jobType,
      priority: fc.constantFrom("low", "normal", "medium", "high", "critical"),
      retries: fc.integer({ min: 0, max: 3 }),
      wait: fc.constantFrom(0, 1000, 60_000),
      backoff: fc.constantFrom("constant" as const, "exponential" as const),
      plan: fc.array(behavior, { maxLength: 4 }),
      shop,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("repeat" as const),
      type: jobType,
      schedule: fc.constantFrom("every 1 minute", "every 15 seconds", "every 7 minutes"),
      cancelRepeats: fc.boolean(),
      shop,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.constantFrom(100, 1000, 5000, 30_000, 61_000, 600_000),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ kind: "pump" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "reconcile" as const }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { kind: fc.constant("cancelJobs" as const), type: jobType, shop, another: fc.boolean() },
      { requiredKeys: ["kind", "type", "another"] },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("control" as const),
      pick: fc.nat(),
      action: fc.constantFrom<Control>(
        "cancel",
        "pause",
        "resume",
        "restart",
        "ready",
        "rerun",
        "remove",
      ),
      template: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("duplicate" as const),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("shuffle" as const), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: "crash" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("failWrite" as const),
      operation: fc.constantFrom(
        "insertJob" as const,
        "settleRun" as const,
        "claimJob" as const,
        "recordFiring" as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "failSend" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("indexLag" as const),
      ms: fc.constantFrom(0, 30_000),
    }),
  },
);

async function apply(world: World, s: Step): Promise<void> {
  const api = world.api;
  switch (s.kind) {
    case "schedule": {
      const job = await api.scheduleJob({
        type: s.type,
        data: { shopId: s.shop, plan: s.plan },
        priority: s.priority,
        retry: { retries: s.retries, wait: s.wait, backoff: s.backoff },
      });
      world.madeLive(job._id);
      world.jobs.push(job._id);
      break;
    }
    case "repeat": {
      if (s.cancelRepeats) world.intendCancel({ type: s.type });
      const at = world.clock.now();
      // cancelRepeats waits out the cancel-log cache window: time passes meanwhile.
      const job = await world
        .meanwhile(
          api.scheduleJob({
            type: s.type,
            data: { shopId: s.shop, repeat: true },
            schedule: s.schedule,
            cancelRepeats: s.cancelRepeats,
          }),
        )
        .catch((error: unknown) => {
          world.abandoned.push({ from: at, to: world.clock.now() });
          throw error;
        });
      world.madeLive(job._id);
      world.templates.push(job._id);
      break;
    }
    case "advance":
      await world.advance(s.ms);
      break;
    case "pump":
      await world.pump();
      break;
    case "reconcile":
      await world.reconcile();
      break;
    case "cancelJobs":
      // From this process or another (whose cancel this process's cached cancel log misses).
      await world.cancelJobs(
        s.shop ? { type: s.type, "data.shopId": s.shop } : { type: s.type },
        s.another,
      );
      break;
    case "control": {
      const ids = s.template ? world.templates : world.jobs;
      const id = ids[s.pick % Math.max(1, ids.length)];
      const job = id ? await api.getJob(id) : null;
      if (!job) break;
      if (s.action === "rerun") {
        const rerun = await job.rerun();
        if (rerun) {
          world.madeLive(rerun);
          world.jobs.push(rerun);
        }
      } else if (s.action === "restart") {
        if (await job.restart()) world.madeLive(job._id);
      } else {
        if (s.action === "cancel") world.intendCancel({ _id: job._id });
        await job[s.action]();
      }
      break;
    }
    case "duplicate":
      world.lanes.duplicateNext(s.count);
      break;
    case "shuffle":
      for (const lane of LANES) world.lanes.shuffle(lane, mulberry(s.seed));
      break;
    case "crash":
      world.crash();
      break;
    case "failWrite":
      world.store.failNext(s.operation);
      break;
    case "failSend":
      world.lanes.failNext("send");
      break;
    case "indexLag":
      world.store.indexLagMs = s.ms;
      break;
  }
  await world.quiesce();
}

/** Runs one sequence; a step that throws an injected fault is part of the game (the caller sees it). */
async function run(steps: Step[]): Promise<string[]> {
  const world = new World();
  try {
    for (const s of steps) {
      try {
        await apply(world, s);
      } catch (error) {
        if (!isExpected(error)) throw error;
      }
      world.checkInvariants();
      if (world.violations.length > 0) return world.violations;
    }
    for (const id of world.templates) {
      await world.cancelJobs({ _id: id }).catch((error: unknown) => {
        if (!isExpected(error)) throw error;
      });
    }
    world.store.indexLagMs = 0;
    await world.drain();
    world.checkInvariants();
    return world.violations;
  } finally {
    world.stop();
  }
}

/** Errors a caller may see: an injected fault, or a refused control action. */
function isExpected(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === "InjectedFault" || name === "JobStateError";
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RUNS = Number(process.env.MODEL_RUNS ?? 1500);

describe("the lifecycle, model-checked on in-memory ports with a fake clock", () => {
  it(`keeps every invariant over ${RUNS} random sequences`, { timeout: 300_000 }, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const violations = await run(steps);
        expect(violations).toEqual([]);
      }),
      {
        numRuns: RUNS,
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
      },
    );
    console.log(
      `model check: ${RUNS} sequences in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});
