import { afterEach, describe, expect, it } from "vitest";
import { JobValidationError } from "../../lib/errors.ts";
import type { Job } from "../../lib/jobs/job.ts";
import { reconcile } from "../../lib/jobs/reconcile.ts";
import { World } from "./world.ts";

/**
 * The edges the issue "A lifecycle you can prove" found, each as a named test on the
 * in-memory ports with a fake clock. Each fails on the code before that issue.
 */
let world: World;
afterEach(() => {
  world.stop();
  expect(world.violations).toEqual([]);
});

async function scheduled(type: "A" | "B", plan: string[], options: Record<string, unknown> = {}) {
  const job = await world.api.scheduleJob({ type, data: { shopId: "s1", plan }, ...options });
  world.madeLive(job._id);
  return job;
}

describe("a cancelled run gives its slot back", () => {
  it("at once when it is cancelled in this process, though its worker returned unsettled", async () => {
    world = new World(); // type A: concurrency 1, workTimeout 30 s
    const first = await scheduled("A", ["returnUnsettled"]);
    await world.pump();
    await world.cancelJobs({ _id: first._id });
    const second = await scheduled("A", []);
    await world.pump();
    expect(world.record(second._id)?.status).toBe("completed");
    expect(world.starts.map((start) => start.at)).toEqual([
      world.starts[0]?.at,
      world.starts[0]?.at,
    ]);
  });

  it("within the run's record check (5 s) when another process cancels it", async () => {
    world = new World();
    const first = await scheduled("A", ["returnUnsettled"]);
    await world.pump();
    const startedAt = world.clock.now();
    // Another process (an operator, an API server) cancels it: only the record changes here.
    await world.store.transition(first._id, ["running"], { status: "cancelled", runId: null });
    const second = await scheduled("A", []);
    await world.advance(6000);
    const secondStart = world.starts.find((start) => start.id === second._id);
    expect(secondStart?.at).toBeLessThanOrEqual(startedAt + 6000);
    expect(world.record(second._id)?.status).toBe("completed");
  });
});

describe("job.signal", () => {
  it("aborts when the run is cancelled, taken over, or past its workTimeout", async () => {
    world = new World();
    const seen: Array<{ id: string; reason: string }> = [];
    const watch = (job: Job) =>
      job.signal.addEventListener("abort", () =>
        seen.push({ id: job._id, reason: (job.signal.reason as Error).message }),
      );
    const handed = new Map<string, Job>();
    world.onStart = (job) => {
      handed.set(job._id, job);
      watch(job);
    };
    const cancelled = await scheduled("B", ["hang"]);
    const timedOut = await scheduled("B", ["hang"]);
    await world.pump();
    await world.cancelJobs({ _id: cancelled._id });
    expect(seen).toEqual([{ id: cancelled._id, reason: "the job was cancelled" }]);
    await world.advance(31_000);
    expect(seen[1]).toEqual({ id: timedOut._id, reason: "the run is past its workTimeout" });
    expect(world.record(timedOut._id)?.failures.at(-1)?.value).toMatch(/workTimeout/);
  });
});

it("a restart() is not cancelled by a cancelJobs request older than the restart", async () => {
  world = new World();
  const job = await scheduled("A", ["fail"]);
  await world.pump();
  expect(world.record(job._id)?.status).toBe("failed");
  await world.cancelJobs({ type: "A" }); // could not touch it: it had failed already
  await world.advance(100);
  const handle = await world.api.getJob(job._id);
  expect(await handle?.restart()).toBe(true);
  world.madeLive(job._id);
  await world.advance(1000);
  expect(world.record(job._id)?.status).toBe("completed");
});

it("the record's type picks the worker: a message naming another type is dropped with one warning", async () => {
  world = new World();
  const job = await scheduled("B", []);
  const real = world.lanes.messages("normal")[0];
  world.lanes.delete("normal", real?.messageId ?? "");
  world.lanes.put("normal", JSON.stringify({ id: job._id, type: "A" }));
  await world.pump();
  const forged = world.warnings.filter((warning) => warning.jobId === job._id);
  expect(forged.map((warning) => warning.message)).toEqual([
    "message dropped: its type is not the job's",
  ]);
  expect(world.starts.filter((start) => start.type === "A")).toEqual([]);
  // Its real message was lost: once it is 1.5 x staleAfter behind the delivery front (idle
  // lanes: now), the reconciler sends it again, and B's worker runs it.
  await world.advance(89_000);
  await world.reconcile();
  expect(world.starts).toEqual([]);
  await world.advance(2000);
  await world.reconcile();
  await world.pump();
  expect(world.starts.map((start) => start.type)).toEqual(["B"]);
  expect(world.record(job._id)?.status).toBe("completed");
});

it("strict priority per type holds while other types have free slots", async () => {
  world = new World(); // A: one slot; B: two, idle throughout
  const lows = [];
  for (let i = 0; i < 3; i += 1) lows.push(await scheduled("A", ["slow"], { priority: "low" }));
  await world.pump(); // the first low one starts, the others wait in the buffer
  const critical = await scheduled("A", ["slow"], { priority: "critical" });
  await world.advance(25_000);
  const order = world.starts.map((start) => start.id);
  expect(order.slice(0, 2)).toEqual([lows[0]?._id, critical._id]);
});

describe("repeating jobs", () => {
  it("a duplicated chain link arms one next link per instant", async () => {
    world = new World();
    const template = await world.api.scheduleJob({
      type: "B",
      data: {},
      schedule: "every 15 seconds",
    });
    world.lanes.duplicateNext(20);
    await world.advance(120_000);
    world.checkInvariants(); // no more than one pending link ahead of the last firing
    const occurrences = world.store.all().filter((r) => r.templateId === template._id);
    expect(occurrences).toHaveLength(8);
    expect(new Set(occurrences.map((r) => r._id)).size).toBe(8);
  });

  it("after downtime it fires once for the missed instants, then resumes on its grid", async () => {
    world = new World();
    const template = await world.api.scheduleJob({
      type: "B",
      data: {},
      schedule: "every 15 seconds",
    });
    await world.clock.advanceTo(world.clock.now() + 10 * 60_000 + 5000); // nobody polls
    await world.pump();
    await world.advance(1000);
    const occurrences = () => world.store.all().filter((r) => r.templateId === template._id);
    expect(occurrences()).toHaveLength(1);
    const after = world.record(template._id)?.after as number;
    expect(after % 15_000).toBe(0);
    expect(after).toBeGreaterThan(world.clock.now());
    await world.advance(30_000);
    expect(occurrences()).toHaveLength(3);
  });

  it("a template cancelled while the index lags stops firing", async () => {
    world = new World();
    world.store.indexLagMs = 60_000;
    const template = await world.api.scheduleJob({
      type: "B",
      data: {},
      schedule: "every 15 seconds",
    });
    world.madeLive(template._id);
    await world.cancelJobs({ type: "B" }); // the index does not show the template yet
    await world.advance(60_000);
    expect(world.record(template._id)?.status).toBe("cancelled");
    expect(world.store.all().filter((r) => r.templateId === template._id)).toEqual([]);
  });

  it("a pause that lands between a firing's read and its write is not overwritten", async () => {
    world = new World();
    const template = await world.api.scheduleJob({
      type: "B",
      data: {},
      schedule: "every 1 minute",
    });
    const recordFiring = world.store.recordFiring.bind(world.store);
    let raced = false;
    world.store.recordFiring = async (id, firing, changes) => {
      if (!raced) {
        raced = true;
        await (await world.api.getJob(id))?.pause();
      }
      return recordFiring(id, firing, changes);
    };
    await world.advance(61_000);
    expect(raced).toBe(true);
    expect(world.record(template._id)?.status).toBe("paused");
    expect(world.store.all().filter((r) => r.templateId === template._id)).toEqual([]);
  });

  it("an occurrence whose first insert failed is created when the firing comes back", async () => {
    world = new World();
    const template = await world.api.scheduleJob({
      type: "B",
      data: {},
      schedule: "every 1 minute",
    });
    await world.advance(59_000);
    world.store.failNext("insertJob");
    await world.advance(2000); // fires: recorded, then the insert fails
    expect(world.store.all().filter((r) => r.templateId === template._id)).toEqual([]);
    await world.advance(15_000); // the message comes back after its pause
    const occurrences = world.store.all().filter((r) => r.templateId === template._id);
    expect(occurrences.map((r) => r.status)).toEqual(["completed"]);
  });
});

describe("data and results are JSON, exactly", () => {
  it("round-trip numbers past 2^53 and below 1e-130, and own __proto__ keys", async () => {
    world = new World();
    const data = JSON.parse('{"__proto__": {"x": 1}, "a": 2, "n": 1e21, "tiny": 1e-200}');
    const job = await world.api.scheduleJob({ type: "B", data });
    const stored = await world.api.getJob(job._id);
    expect(Object.hasOwn(stored?.data ?? {}, "__proto__")).toBe(true);
    expect(JSON.stringify(stored?.data)).toBe(JSON.stringify(data));
    await world.pump();
    expect(world.record(job._id)?.result).toEqual({ n: 1e21 }); // the worker's done({ n: 1e21 })
  });

  it("refuses a result that is not JSON with a JobValidationError naming result", async () => {
    world = new World();
    const errors: unknown[] = [];
    world.onStart = (job) => {
      job.done({ big: 10n }).catch((error: unknown) => errors.push(error));
    };
    await scheduled("B", ["returnUnsettled"]);
    await world.pump();
    expect(errors[0]).toBeInstanceOf(JobValidationError);
    expect((errors[0] as JobValidationError).field).toBe("result.big");
  });
});

describe("cancel requests stay bounded", () => {
  it("are dropped once applied, and a filter over 64 KB is refused", async () => {
    world = new World();
    await world.cancelJobs({ type: "A", "data.shopId": "s1" });
    expect(await world.store.cancelsFor("A")).toHaveLength(1);
    await world.advance(11_000);
    await world.reconcile();
    expect(await world.store.cancelsFor("A")).toEqual([]);
    await expect(
      world.api.cancelJobs({ type: "A", data: { blob: "x".repeat(70 * 1024) } }),
    ).rejects.toMatchObject({ name: "JobValidationError", field: "filter" });
  });

  it("a full log makes cancelJobs wait out the index lag instead of throwing", async () => {
    world = new World();
    world.store.indexLagMs = 5000;
    const hidden = await scheduled("A", []);
    const calls = [];
    for (let i = 0; i < 6; i += 1)
      calls.push(world.cancelJobs({ type: "A", data: { blob: `${i}${"x".repeat(60 * 1024)}` } }));
    calls.push(world.cancelJobs({ type: "A" }));
    await world.clock.advance(10_000);
    await Promise.all(calls);
    await world.pump(); // nothing a resolved cancelJobs covered may start
    expect(world.starts).toEqual([]);
    expect(world.record(hidden._id)?.status).toBe("cancelled");
    expect(world.warnings.map((w) => w.message)).toContain(
      "cancel log full; waiting out the index lag",
    );
  });
});

describe("the reconciler's work follows what needs action (the delivery front)", () => {
  it("a backlog waiting its turn is neither read nor sent again; a message lost in it is, once", async () => {
    world = new World(); // A: one slot; "slow" runs 20 s: 150 jobs are a 50-minute backlog
    const jobs = [];
    for (let i = 0; i < 150; i += 1) {
      jobs.push(await scheduled("A", ["slow"]));
      await world.clock.advance(1000); // one a second, nothing received yet
    }
    const lost = jobs[40] as { _id: string };
    const message = world.lanes.messages("normal").find((m) => m.body.includes(lost._id));
    world.lanes.delete("normal", message?.messageId ?? "");
    const reports = [];
    while (world.store.all().some((r) => r.status !== "completed") && reports.length < 80) {
      await world.advance(60_000);
      reports.push(await reconcile(world.deps));
    }
    expect(world.violations).toEqual([]);
    expect(reports.reduce((sum, r) => sum + r.requeued, 0)).toBe(1);
    // A pass reads the running job (its lease) and, once, the lost one: never the backlog.
    expect(Math.max(...reports.map((r) => r.read))).toBeLessThanOrEqual(2);
    const starts = world.starts.map((start) => start.id);
    expect(new Set(starts).size).toBe(150);
    expect(starts.length).toBe(150);
    // Found once the front passed it by staleAfter (60 s) plus the lag a process may keep
    // to itself (30 s): after the jobs sent up to 90 s after it had been received.
    expect(starts.indexOf(lost._id)).toBeGreaterThan(40 + 90);
  });
});

describe("a turn's jobs sent long after they were written", () => {
  it("are not taken for lost while their messages wait their turn", async () => {
    world = new World(); // A: one slot, "slow" runs 20 s
    const insertJob = world.store.insertJob.bind(world.store);
    world.store.insertJob = async (record) => {
      await world.clock.sleep(90_000); // a slow store: the batch is sent 90 s after its calls
      return insertJob(record);
    };
    const jobs = await world.meanwhile(
      Promise.all(
        Array.from({ length: 20 }, () =>
          world.api.scheduleJob({ type: "A", data: { plan: ["slow"] } }),
        ),
      ),
    );
    let requeued = 0;
    for (let pass = 0; pass < 12; pass += 1) {
      await world.advance(30_000);
      requeued += (await reconcile(world.deps)).requeued;
    }
    expect(requeued).toBe(0);
    expect(new Set(world.starts.map((start) => start.id)).size).toBe(world.starts.length);
    expect(world.starts.length).toBeGreaterThan(10);
    expect(jobs).toHaveLength(20);
  });
});

describe("a reconciler pass is bounded in time", () => {
  it("stops after its budget, and the next pass goes on at the partition it had not finished", async () => {
    world = new World();
    const jobs = [];
    for (let i = 0; i < 40; i += 1) jobs.push(await scheduled(i % 2 ? "A" : "B", []));
    for (const message of world.lanes.messages("normal"))
      world.lanes.delete("normal", message.messageId);
    await world.clock.advance(120_000); // every message lost, long ago
    // A clock that moves 100 ms each time the pass looks at it: a slow store.
    let t = world.clock.now();
    const slow = { ...world.deps, clock: { now: () => (t += 100), sleep: world.deps.clock.sleep } };
    const read: string[] = [];
    const dueIn = world.store.dueIn.bind(world.store);
    world.store.dueIn = (key, before, next) => {
      read.push(key);
      return dueIn(key, before, next);
    };
    const reports = [];
    do {
      read.length = 0;
      t = world.clock.now();
      const position = (await world.store.reconcilerState()).position;
      reports.push(await reconcile(slow, { reconcileBudgetMs: 1500 }));
      if (position) expect(read[0]).toBe(position);
    } while (!reports.at(-1)?.complete && reports.length < 20);
    expect(reports.length).toBeGreaterThan(2);
    expect(reports[0]?.complete).toBe(false);
    // Together the passes read every partition once (2 types x 32).
    expect(reports.reduce((sum, r) => sum + r.partitions, 0)).toBeGreaterThanOrEqual(64);
    expect(reports.reduce((sum, r) => sum + r.requeued, 0)).toBe(40);
    expect((await world.store.reconcilerState()).position).toBeUndefined();
    await world.advance(30_000); // one pump a second, three slots
    expect(jobs.map((job) => world.record(job._id)?.status)).toEqual(jobs.map(() => "completed"));
  });
});
