import { afterEach, describe, expect, it } from "vitest";
import { dispatch } from "../../lib/jobs/deliver.ts";
import type { Job } from "../../lib/jobs/job.ts";
import { parseJobMessage } from "../../lib/jobs/message.ts";
import { World } from "./world.ts";

/**
 * Races an adversarial read found against the lifecycle contract, on the in-memory ports with
 * a fake clock: ties of the clock, cancels landing mid-claim, firings interleaving. Each `it`
 * names the behaviour the contract promises; each failed before its fix.
 */
let world: World;
afterEach(() => {
  world.stop();
});

async function scheduled(type: "A" | "B", plan: string[], options: Record<string, unknown> = {}) {
  const job = await world.api.scheduleJob({ type, data: { shopId: "s1", plan }, ...options });
  world.madeLive(job._id);
  return job;
}

const occurrencesOf = (templateId: string) =>
  world.store.all().filter((record) => record.templateId === templateId);

describe("cancelJobs touches only jobs that were live before it was called", () => {
  // Reaction's sitemap plugin (generateSitemaps): await cancelJobs(opts); await scheduleJob(opts).
  it("a one-off job scheduled after cancelJobs resolved (same millisecond) still runs", async () => {
    world = new World();
    await world.cancelJobs({ type: "A", data: { shopId: "s1", plan: [] } });
    const job = await scheduled("A", []);
    await world.pump();
    expect(world.record(job._id)?.status).toBe("completed");
    expect(world.starts.map((start) => start.id)).toEqual([job._id]);
  });

  // Reaction's sitemap plugin (startup, per shop): cancelJobs({ type, data }) then a repeating
  // scheduleJob without cancelRepeats.
  it("a repeating job scheduled after cancelJobs resolved (same millisecond) keeps firing", async () => {
    world = new World();
    await world.cancelJobs({ type: "B", data: { shopId: "s1" } });
    const template = await world.api.scheduleJob({
      type: "B",
      data: { shopId: "s1" },
      schedule: "every 1 minute",
    });
    await world.advance(61_000);
    expect(world.record(template._id)?.status).toBe("waiting");
    expect(occurrencesOf(template._id).map((r) => r.status)).toEqual(["completed"]);
  });
});

describe("nothing starts after the cancelJobs that covered it resolved", () => {
  /** Runs `during` right after the claim of `jobId` is written, before the dispatcher goes on. */
  function betweenClaimAndStart(jobId: () => string, during: () => Promise<void>) {
    const claimJob = world.store.claimJob.bind(world.store);
    let done = false;
    world.store.claimJob = async (id, claim) => {
      const result = await claimJob(id, claim);
      if (!done && id === jobId() && "claimed" in result) {
        done = true;
        await during();
      }
      return result;
    };
  }

  it("cancelJobs({ _id }) landing between the claim write and the worker start: the worker never starts", async () => {
    world = new World();
    let id = "";
    let resolvedAt = -1;
    betweenClaimAndStart(
      () => id,
      async () => {
        await world.cancelJobs({ _id: id });
        resolvedAt = world.starts.length;
      },
    );
    id = (await scheduled("B", ["slow"]))._id;
    await world.pump();
    expect(resolvedAt).toBe(0); // the cancel had resolved before any worker started
    expect(world.record(id)?.status).toBe("cancelled");
    expect(world.starts).toEqual([]);
    expect(world.violations).toEqual([]);
  });

  it("cancelJobs({ type }) landing between the claim write and the worker start: the worker never starts", async () => {
    world = new World();
    let id = "";
    betweenClaimAndStart(
      () => id,
      () => world.cancelJobs({ type: "B" }),
    );
    id = (await scheduled("B", ["slow"]))._id;
    await world.pump();
    expect(world.record(id)?.status).toBe("cancelled");
    // The claim finds the request in the cancel log, but its own cancel write loses to the one
    // that landed, so cancelledByLog answers false and the run begins anyway.
    expect(world.starts).toEqual([]);
    expect(world.violations).toEqual([]);
  });
});

describe("the claims' cancel-log cache (at most one read a type per second a process)", () => {
  it("a claim trusting a log read before another process's cancelJobs starts only before that call resolved", async () => {
    world = new World();
    world.store.indexLagMs = 60_000; // the cancel's own sweep cannot see the jobs
    let logReads = 0;
    const cancelsFor = world.store.cancelsFor.bind(world.store);
    world.store.cancelsFor = async (type) => {
      logReads += 1;
      return cancelsFor(type);
    };
    const first = await scheduled("B", []);
    await world.pump(); // its claim reads B's cancel log (empty): this process caches it
    const second = await scheduled("B", []); // live before the cancel, so covered by it
    const third = await scheduled("B", []);
    await world.cancelJobs({ type: "B" }, true); // from an API server: this cache misses it
    await world.pump();
    expect(world.violations).toEqual([]);
    expect(world.record(first._id)?.status).toBe("completed");
    // Started within the cache window, before cancelJobs resolved, or cancelled at its claim.
    for (const job of [second, third]) {
      const started = world.starts.find((start) => start.id === job._id);
      const status = world.record(job._id)?.status;
      expect(started ? status === "completed" : status === "cancelled").toBe(true);
    }
    expect(logReads).toBeLessThanOrEqual(2);
  });
});

describe("job.signal aborts at once when the run is cancelled in this process", () => {
  it("even when cancelJobs read the job (ready) just before this process claimed it", async () => {
    world = new World(); // A: one slot
    const signals: AbortSignal[] = [];
    world.onStart = (job: Job) => signals.push(job.signal);
    const first = await scheduled("A", ["hang"]);
    // The cancel reads the record while it is ready; the dispatcher claims it and starts the
    // worker; then the cancel's write lands.
    const transition = world.store.transition.bind(world.store);
    let raced = false;
    world.store.transition = async (id, from, changes) => {
      if (!raced && id === first._id && changes.status === "cancelled") {
        raced = true;
        await world.pump();
      }
      return transition(id, from, changes);
    };
    await world.cancelJobs({ _id: first._id });
    expect(raced).toBe(true);
    expect(world.record(first._id)?.status).toBe("cancelled");
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    // ...and its slot comes back at once, as for any cancel in this process.
    const second = await scheduled("A", []);
    await world.pump();
    expect(world.record(second._id)?.status).toBe("completed");
  });
});

describe("repeat occurrences never overlap", () => {
  it("firings for successive instants handled in one batch make one running occurrence", async () => {
    world = new World(); // B: two slots
    const template = await world.api.scheduleJob({
      type: "B",
      data: { plan: ["slow"] }, // each occurrence runs 20 s
      schedule: "every 1 minute",
    });
    // Nobody polls for three minutes (a cold start, a backlog): three firings wait on the lane.
    await world.clock.advanceTo(world.clock.now() + 3 * 60_000 + 5000);
    await world.pump();
    const open = occurrencesOf(template._id).filter((r) => r.status === "running");
    expect(open).toHaveLength(1);
  });

  it("a firing that reads the template after the previous firing was recorded but before its occurrence was written is skipped", async () => {
    world = new World(); // B: two slots
    const template = await world.api.scheduleJob({
      type: "B",
      data: { plan: ["slow"] }, // each occurrence runs 20 s
      schedule: "every 1 minute",
    });
    await world.clock.advanceTo(world.clock.now() + 2 * 60_000 + 5000); // 10:01 and 10:02 fired
    const [first, second] = world.lanes.messages("normal");
    world.lanes.delete("normal", second?.messageId ?? ""); // handled by another receiver, below
    // The 10:01 firing has recorded itself on the template; just before its occurrence is
    // written, the 10:02 firing is handled (another Lambda instance, another batch).
    const insertJob = world.store.insertJob.bind(world.store);
    let held = false;
    world.store.insertJob = async (record) => {
      if (!held && record.templateId === template._id) {
        held = true;
        void dispatch(world.deps, [
          {
            messageId: "other",
            message: parseJobMessage(second?.body ?? ""),
            body: second?.body ?? "",
            receiveCount: 1,
          },
        ]);
        for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
      }
      return insertJob(record);
    };
    expect(JSON.parse(first?.body ?? "{}").firedAt).toBe("2026-01-05T10:01:00Z");
    await world.pump();
    await world.advance(1000); // let the held insert finish (the worker runs 20 s)
    expect(held).toBe(true);
    const running = occurrencesOf(template._id).filter((r) => r.status === "running");
    expect(running.map((r) => r._id)).toHaveLength(1);
  });
});
