/**
 * One contract for the job table, run against the in-memory store (the model check's) and the
 * DynamoDB adapter on DynamoDB Local: what the lifecycle may rely on holds for both.
 */
import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoJobStore } from "../../lib/aws/dynamo/job-store.ts";
import { JobValidationError } from "../../lib/errors.ts";
import {
  CANCEL_LOG_MAX_BYTES,
  cancelLogBytes,
  cancelLogRoom,
  cancelRequestBytes,
} from "../../lib/jobs/cancel-log.ts";
import type { CancelRequest, JobListPage, JobListQuery, JobStore } from "../../lib/jobs/deps.ts";
import { followStatus, indexKeys } from "../../lib/jobs/index-keys.ts";
import { CANCEL_LOG_PREFIX, NEVER_DUE, openKeysToRead } from "../../lib/jobs/keys.ts";
import { listJobs } from "../../lib/jobs/list/index.ts";
import type { JobRecord, JsonObject } from "../../lib/jobs/types.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { captureLogger } from "../support/capture-logger.ts";
import { sharedDynamoDbEndpoint } from "../support/local-app.ts";
import { FakeClock } from "../support/memory/clock.ts";

/** Fake time far past the real one: DynamoDB Local's TTL sweeper must not touch our records. */
const T0 = Date.UTC(2030, 0, 1);

interface World {
  store: JobStore;
  clock: FakeClock;
}
/** A fresh store (on its own fake clock, starting at `T0`), called inside each test. */
type MakeWorld = (options?: { indexLagMs?: number }) => World;

/** A fresh id or type per use: the DynamoDB table is shared by every test in the file. */
function unique(label: string): string {
  return `${label}${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

function job(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    _id: unique("J"),
    type: unique("type"),
    data: { shopId: "s1" },
    status: "ready",
    priority: 0,
    retries: 6,
    retried: 0,
    retryWait: 5000,
    retryBackoff: "constant",
    retryUntil: 8.64e15,
    repeatRetries: 6,
    after: T0,
    created: T0,
    updated: T0,
    progress: { completed: 0, total: 1, percent: 0 },
    failures: [],
    runId: null,
    repeated: 0,
    log: [],
    ...overrides,
  };
}

/** JSON no DynamoDB map can carry: beyond 38 digits' range, and an own `__proto__` key. */
const TRICKY_TEXT = '{"big":1e21,"tiny":1e-200,"nested":{"__proto__":{"x":1},"a":2},"list":[1e21]}';
const tricky = (): JsonObject => JSON.parse(TRICKY_TEXT) as JsonObject;

function expectTricky(value: unknown): void {
  expect(JSON.stringify(value)).toBe(JSON.stringify(tricky()));
  const object = value as { big: number; tiny: number; nested: Record<string, unknown> };
  expect(object.big).toBe(1e21);
  expect(object.tiny).toBe(1e-200);
  expect(Object.hasOwn(object.nested, "__proto__")).toBe(true);
  expect(Object.getPrototypeOf(object.nested)).toBe(Object.prototype);
  expect(object.nested.x).toBeUndefined();
  expect(object.nested.a).toBe(2);
}

const claimOf = (record: JobRecord, now = T0, runId = unique("R")) => ({
  runId,
  type: record.type,
  now,
  workTimeout: 60_000,
});

/** Appends to a type's cancel log with the room `cancelJobs` gives it. */
function append(store: JobStore, type: string, request: CancelRequest) {
  return store.recordCancel(type, request, cancelLogRoom(request));
}

function jobStoreContract(name: string, makeWorld: MakeWorld): void {
  describe(name, () => {
    it("inserts a job once: the same id again is `exists`, and the first record stays", async () => {
      const { store } = makeWorld();
      const record = job();
      expect(await store.insertJob(record)).toBe("inserted");
      expect(await store.insertJob({ ...record, priority: 10 })).toBe("exists");
      expect(await store.getJob(record._id)).toMatchObject({ _id: record._id, priority: 0 });
      expect(await store.getJob(unique("missing"))).toBeNull();
    });

    it("claims a ready, due job of the claim's type: running, leased, one attempt spent", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const claim = claimOf(record, T0 + 5);
      const result = await store.claimJob(record._id, claim);
      expect(result).toMatchObject({
        claimed: { status: "running", runId: claim.runId, leaseUntil: T0 + 5 + 60_000 },
      });
      expect(result).toMatchObject({ claimed: { retries: 5, retried: 1, workTimeout: 60_000 } });
      const again = await store.claimJob(record._id, claimOf(record, T0 + 6));
      expect(again).toEqual({ current: expect.objectContaining({ runId: claim.runId }) });
    });

    it("does not claim a job not yet due, paused, a template, or unknown", async () => {
      const { store } = makeWorld();
      const early = job({ status: "waiting", after: T0 + 1000 });
      const paused = job({ status: "paused" });
      const template = job({
        status: "waiting",
        repeat: { schedule: "every 5 mins", form: "cron" },
      });
      for (const record of [early, paused, template]) {
        await store.insertJob(record);
        const result = await store.claimJob(record._id, claimOf(record));
        expect(result).toEqual({ current: expect.objectContaining({ status: record.status }) });
      }
      expect(await store.claimJob(early._id, claimOf(early, T0 + 1000))).toHaveProperty("claimed");
      const missing = job();
      expect(await store.claimJob(missing._id, claimOf(missing))).toEqual({ current: null });
    });

    it("a claim of another type returns the record unchanged and leaves it claimable", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const before = await store.getJob(record._id);
      const result = await store.claimJob(record._id, { ...claimOf(record), type: "other/type" });
      expect(result).toEqual({ current: before });
      expect(await store.getJob(record._id)).toEqual(before);
      expect(await store.claimJob(record._id, claimOf(record))).toHaveProperty("claimed");
    });

    it("settles a run only under its runId, and only once", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const claim = claimOf(record);
      await store.claimJob(record._id, claim);
      const done = { status: "completed" as const, runId: null, updated: T0 + 10 };
      expect(await store.settleRun(record._id, "someone-else", done)).toBeNull();
      expect(await store.getJob(record._id)).toMatchObject({ status: "running" });
      expect(await store.settleRun(record._id, claim.runId, done)).toMatchObject({
        status: "completed",
        runId: null,
      });
      expect(await store.settleRun(record._id, claim.runId, done)).toBeNull();
    });

    it("expires a run only once its lease has passed, and only that run", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const claim = claimOf(record);
      await store.claimJob(record._id, claim);
      const lease = T0 + 60_000;
      const failed = { status: "failed" as const, runId: null };
      expect(await store.expireRun(record._id, claim.runId, lease, failed)).toBeNull();
      expect(await store.expireRun(record._id, "other", lease + 1, failed)).toBeNull();
      expect(await store.expireRun(record._id, claim.runId, lease + 1, failed)).toMatchObject({
        status: "failed",
      });
    });

    it("records a firing only from the template as read: its status and its last firing", async () => {
      const { store } = makeWorld();
      const template = job({
        status: "waiting",
        repeat: { schedule: "every 1 min", form: "cron" },
      });
      await store.insertJob(template);
      const changes = (firedAt: number) => ({ status: "waiting" as const, lastFiredAt: firedAt });
      const t1 = T0 + 60_000;
      const firing = (firedAt: number, status: "waiting" | "paused", previous: number | null) =>
        ({ firedAt, status, previous }) as const;
      expect(
        await store.recordFiring(template._id, firing(t1, "paused", null), changes(t1)),
      ).toBeNull();
      expect(
        await store.recordFiring(template._id, firing(t1, "waiting", null), changes(t1)),
      ).toMatchObject({ lastFiredAt: t1 });
      // Another firing that read the template before t1 was recorded cannot record too.
      const t2 = t1 + 60_000;
      expect(
        await store.recordFiring(template._id, firing(t2, "waiting", null), changes(t2)),
      ).toBeNull();
      for (const again of [t1, t1 - 60_000]) {
        expect(
          await store.recordFiring(template._id, firing(again, "waiting", t1), changes(again)),
        ).toBeNull();
      }
      await store.transition(template._id, ["waiting"], { status: "paused" });
      expect(
        await store.recordFiring(template._id, firing(t2, "waiting", t1), changes(t2)),
      ).toBeNull();
      expect(
        await store.recordFiring(template._id, firing(t2, "paused", t1), {
          status: "paused",
          lastFiredAt: t2,
        }),
      ).toMatchObject({ lastFiredAt: t2, status: "paused" });
    });

    it("heartbeats only under the runId, extending the lease and saving progress", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const claim = claimOf(record);
      await store.claimJob(record._id, claim);
      const progress = { completed: 1, total: 2, percent: 50 };
      expect(await store.heartbeat(record._id, "other", T0 + 99_000, { progress })).toBe(false);
      expect(await store.heartbeat(record._id, claim.runId, T0 + 99_000, { progress })).toBe(true);
      expect(await store.getJob(record._id)).toMatchObject({ leaseUntil: T0 + 99_000, progress });
      await store.settleRun(record._id, claim.runId, { status: "completed" });
      expect(await store.heartbeat(record._id, claim.runId, T0 + 1, { progress })).toBe(false);
    });

    it("transitions only from the given statuses, and removes only from the given ones", async () => {
      const { store } = makeWorld();
      const record = job({ status: "waiting" });
      await store.insertJob(record);
      expect(await store.transition(record._id, ["paused"], { status: "ready" })).toBeNull();
      expect(
        await store.transition(record._id, ["ready", "waiting"], { status: "cancelled" }),
      ).toMatchObject({ status: "cancelled" });
      expect(await store.removeJob(record._id, ["completed", "failed"])).toBe(false);
      expect(await store.getJob(record._id)).not.toBeNull();
      expect(await store.removeJob(record._id, ["cancelled"])).toBe(true);
      expect(await store.getJob(record._id)).toBeNull();
      expect(await store.removeJob(record._id, ["cancelled"])).toBe(false);
    });

    it("keeps the open index in step with the status: due by `after`, paused never, gone when ended", async () => {
      const { store } = makeWorld();
      const record = job({ status: "waiting", after: T0 + 1000 });
      await store.insertJob(record);
      const open = async () => (await store.openJobsOfType(record.type)).map((entry) => entry._id);
      const due = async (before: number) => {
        const pages = await Promise.all(
          openKeysToRead(record.type).map((key) => store.dueIn(key, before)),
        );
        return pages.some((page) => page.ids.includes(record._id));
      };
      expect(await open()).toEqual([record._id]);
      expect([await due(T0 + 999), await due(T0 + 1000)]).toEqual([false, true]);

      await store.transition(record._id, ["waiting"], { status: "paused" });
      expect([await open(), await due(T0 + 1000)]).toEqual([[record._id], false]);

      await store.transition(record._id, ["paused"], { status: "waiting", after: T0 + 2000 });
      expect([await due(T0 + 1999), await due(T0 + 2000)]).toEqual([false, true]);

      const claim = claimOf(record, T0 + 2000);
      await store.claimJob(record._id, claim);
      // A running job stays in the due index (the reconciler checks its lease).
      expect([await open(), await due(T0 + 2000)]).toEqual([[record._id], true]);

      await store.settleRun(record._id, claim.runId, { status: "completed" });
      expect([await open(), await due(Number.MAX_SAFE_INTEGER)]).toEqual([[], false]);
    });

    it("reads many jobs at once, leaving out unknown, expired and non-job ids", async () => {
      const { store, clock } = makeWorld();
      const records = Array.from({ length: 130 }, () => job());
      for (const record of records) await store.insertJob(record);
      const gone = records[0] as JobRecord;
      const claim = claimOf(gone);
      await store.claimJob(gone._id, claim);
      await store.settleRun(gone._id, claim.runId, {
        status: "completed",
        expiresAt: Math.floor(clock.now() / 1000) + 1,
      });
      await clock.advance(1000);
      const ids = [...records.map((r) => r._id), unique("missing"), "#types"];
      const read = await store.getJobs(ids);
      expect(read.map((r) => r._id).sort()).toEqual(
        records
          .slice(1)
          .map((r) => r._id)
          .sort(),
      );
      expect(read.find((r) => r._id === records[1]?._id)).toMatchObject({ data: { shopId: "s1" } });
      expect(await store.getJobs([])).toEqual([]);
    });

    it("lists a type's open jobs, or one tenant's, and pages each open shard oldest first", async () => {
      const { store } = makeWorld();
      const type = unique("type");
      const records = Array.from({ length: 120 }, (_, i) =>
        job({ type, after: T0 + (i % 7), tenant: i % 2 ? "s1" : "s2" }),
      );
      for (const record of records) await store.insertJob(record);
      const ids = (entries: Array<{ _id: string }>) => entries.map((e) => e._id).sort();
      expect(ids(await store.openJobsOfType(type))).toEqual(ids(records));
      expect(ids(await store.openJobsOfType(type, "s1"))).toEqual(
        ids(records.filter((r) => r.tenant === "s1")),
      );
      const seen: string[] = [];
      for (const key of openKeysToRead(type)) {
        let page: { ids: string[]; next?: string } | undefined;
        do {
          page = await store.dueIn(key, T0 + 5, page?.next);
          const dues = page.ids.map((id) => records.find((r) => r._id === id)?.after as number);
          expect(dues).toEqual([...dues].sort((a, b) => a - b));
          seen.push(...page.ids);
        } while (page.next);
      }
      expect(seen.sort()).toEqual(ids(records.filter((r) => r.after <= T0 + 5)));
      expect(openKeysToRead(type, "s1")).toHaveLength(8);
    });

    it("keeps the processes' delivery fronts and the reconciler's position", async () => {
      const { store } = makeWorld();
      const [a, b] = [unique("p"), unique("p")];
      await store.reportFront(a, T0 - 5000, T0);
      await store.reportFront(b, T0 - 1000, T0 + 1);
      await store.reportFront(a, T0 - 4000, T0 + 2);
      const mine = async () =>
        (await store.reconcilerState()).fronts
          .filter((f) => f.processId === a || f.processId === b)
          .sort((x, y) => x.at - y.at);
      expect(await mine()).toEqual([
        { processId: b, front: T0 - 1000, at: T0 + 1 },
        { processId: a, front: T0 - 4000, at: T0 + 2 },
      ]);
      await store.forgetFronts([a]);
      expect((await mine()).map((f) => f.processId)).toEqual([b]);
      await store.saveReconcilerPosition("t#3");
      expect((await store.reconcilerState()).position).toBe("t#3");
      await store.saveReconcilerPosition(null);
      expect((await store.reconcilerState()).position).toBeUndefined();
    });

    it("lets the index keeping win over a change it overrides, rather than failing", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const claim = claimOf(record);
      await store.claimJob(record._id, claim);
      // Back to waiting: a lease in the changes is removed all the same, not an error.
      const back = await store.settleRun(record._id, claim.runId, {
        status: "waiting",
        after: T0 + 5000,
        leaseUntil: T0 + 1,
        workTimeout: 1,
      });
      expect(back).toMatchObject({ status: "waiting", dueAt: T0 + 5000 });
      expect(back).not.toHaveProperty("leaseUntil");
      expect(back).not.toHaveProperty("workTimeout");
    });

    it("hides a job from its type's index for the index lag", async () => {
      const { store, clock } = makeWorld({ indexLagMs: 5000 });
      const record = job({ created: clock.now() });
      await store.insertJob(record);
      expect(await store.openJobsOfType(record.type)).toEqual([]);
      await clock.advance(5000);
      expect(await store.openJobsOfType(record.type)).toEqual([
        { _id: record._id, created: record.created },
      ]);
    });

    it("returns no record past its TTL", async () => {
      const { store, clock } = makeWorld();
      const record = job();
      await store.insertJob(record);
      const claim = claimOf(record);
      await store.claimJob(record._id, claim);
      const expiresAt = Math.floor(clock.now() / 1000) + 10;
      await store.settleRun(record._id, claim.runId, { status: "completed", expiresAt });
      expect(await store.getJob(record._id)).toMatchObject({ status: "completed", expiresAt });
      await clock.advance(10_000);
      expect(await store.getJob(record._id)).toBeNull();
    });

    it("round-trips data, result, failures and log exactly, on every read and write path", async () => {
      const { store } = makeWorld();
      const record = job({ data: tricky(), failures: [tricky()] });
      await store.insertJob(record);
      const read = await store.getJob(record._id);
      expectTricky(read?.data);
      expectTricky(read?.failures[0]);

      const refused = await store.claimJob(record._id, { ...claimOf(record), type: "other" });
      expectTricky("current" in refused ? refused.current?.data : undefined);
      const claim = claimOf(record);
      const claimed = await store.claimJob(record._id, claim);
      expectTricky("claimed" in claimed ? claimed.claimed.data : undefined);

      const entry = { time: T0, runId: claim.runId, level: "info" as const, message: "m" };
      await store.heartbeat(record._id, claim.runId, T0 + 99_000, {
        log: [{ ...entry, data: tricky() }],
      });
      expectTricky((await store.getJob(record._id))?.log[0]?.data);

      const settled = await store.settleRun(record._id, claim.runId, {
        status: "completed",
        result: tricky(),
        failures: [tricky(), tricky()],
      });
      expectTricky(settled?.result);
      expectTricky(settled?.failures[1]);
      expectTricky(settled?.data);
      const final = await store.getJob(record._id);
      expectTricky(final?.result);
      expectTricky(final?.log[0]?.data);
    });

    it("does not let a caller's objects alias the stored record", async () => {
      const { store } = makeWorld();
      const record = job();
      await store.insertJob(record);
      record.data.shopId = "changed";
      const read = (await store.getJob(record._id)) as JobRecord;
      read.data.shopId = "changed too";
      expect((await store.getJob(record._id))?.data).toEqual({ shopId: "s1" });
    });

    it("records a refused schedule per key: latest note, a count, the first time; null clears it", async () => {
      const { store } = makeWorld();
      const key = unique("refusal");
      const note = { type: "sitemaps/generate", text: "foo bar", error: "no", at: T0 };
      await store.noteScheduleRefusal(key, { ...note, data: tricky(), tenant: "s1" });
      await store.noteScheduleRefusal(key, { ...note, text: "fo bar", at: T0 + 60_000 });
      const mine = (await store.scheduleRefusals()).filter((refusal) => refusal.key === key);
      expect(mine).toEqual([
        { ...note, key, text: "fo bar", at: T0 + 60_000, count: 2, firstAt: T0 },
      ]);
      await store.noteScheduleRefusal(key, { ...note, data: tricky() });
      const [again] = (await store.scheduleRefusals()).filter((refusal) => refusal.key === key);
      expectTricky(again?.data);
      await store.noteScheduleRefusal(key, null);
      await store.noteScheduleRefusal(unique("never-refused"), null);
      expect((await store.scheduleRefusals()).map((refusal) => refusal.key)).not.toContain(key);
    });

    describe("listing (the byType index and the types registry)", () => {
      /** Every page of a query, with the jobs in the order they came. */
      async function allPages(store: JobStore, query: Omit<JobListQuery, "cursor">) {
        const pages: JobListPage[] = [];
        let cursor: string | undefined;
        do {
          const page = await listJobs(store, { ...query, ...(cursor ? { cursor } : {}) });
          pages.push(page);
          cursor = page.cursor;
        } while (cursor && pages.length < 200);
        return { pages, ids: pages.flatMap((page) => page.jobs.map((j) => j._id)) };
      }
      const newestFirst = (records: JobRecord[]) =>
        [...records]
          .sort((a, b) => b.created - a.created || (a._id < b._id ? 1 : -1))
          .map((r) => r._id);

      it("lists a type newest first across its shards, ties by id, each job once over pages", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        // 45 jobs over 6 instants: many share a `created`, and they spread over the 16 shards.
        const records = Array.from({ length: 45 }, (_, i) =>
          job({ type, created: T0 + (i % 6) * 1000, data: i % 3 ? { shopId: `s${i % 5}` } : {} }),
        );
        for (const record of records) await store.insertJob(record);
        const { pages, ids } = await allPages(store, { type, limit: 7 });
        expect(ids).toEqual(newestFirst(records));
        expect(pages.slice(0, -1).every((page) => page.jobs.length === 7)).toBe(true);
        expect(pages.at(-1)?.cursor).toBeUndefined();
        expect(pages.every((page) => page.read >= page.jobs.length)).toBe(true);
        const first = (await listJobs(store, { type, limit: 1 })).jobs[0];
        expect(first).toMatchObject({ _id: ids[0], type, status: "ready" });
      });

      it("keeps the tenant set at insert, and lists one tenant's jobs of a type or of every type", async () => {
        const { store } = makeWorld();
        const [typeA, typeB, shop, other] = [
          unique("type"),
          unique("type"),
          unique("s"),
          unique("s"),
        ];
        const mine = [
          job({ type: typeA, tenant: shop, created: T0 + 1 }),
          job({ type: typeA, tenant: shop, created: T0 + 3 }),
          job({ type: typeB, tenant: shop, created: T0 + 2 }),
          job({ type: typeB, tenant: shop, created: T0 + 2 }),
        ];
        const others = [
          job({ type: typeA, tenant: other, created: T0 + 4 }),
          job({ type: typeA, created: T0 + 5 }),
          job({ type: typeB, tenant: other, created: T0 + 2 }),
        ];
        for (const record of [...mine, ...others]) await store.insertJob(record);
        expect(await store.getJob(mine[0]?._id as string)).toMatchObject({ tenant: shop });
        const ofType = await allPages(store, { type: typeA, tenant: shop, limit: 1 });
        expect(ofType.ids).toEqual(newestFirst(mine.filter((r) => r.type === typeA)));
        const ofTenant = await allPages(store, { tenant: shop, limit: 3 });
        expect(ofTenant.ids).toEqual(newestFirst(mine));
        expect((await listJobs(store, { tenant: unique("s"), limit: 5 })).jobs).toEqual([]);
      });

      it("filters by created range and statuses; a short page's cursor goes on where it stopped", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        const records = Array.from({ length: 30 }, (_, i) => job({ type, created: T0 + i }));
        for (const record of records) await store.insertJob(record);
        // Every third job is claimed (running), then one of those completes: its key never moves.
        const running = records.filter((_, i) => i % 3 === 0);
        for (const record of running) await store.claimJob(record._id, claimOf(record, T0 + 100));
        const finished = running[0] as JobRecord;
        const lease = (await store.getJob(finished._id))?.runId as string;
        await store.settleRun(finished._id, lease, { status: "completed" });
        const { pages, ids } = await allPages(store, {
          type,
          statuses: ["running", "completed"],
          createdFrom: T0 + 3,
          createdTo: T0 + 27,
          limit: 4,
        });
        const expected = running.filter((r) => r.created >= T0 + 3 && r.created <= T0 + 27);
        expect(ids).toEqual(newestFirst(expected));
        expect(pages.some((page) => page.jobs.length < 4 && page.cursor)).toBe(true);
        const done = await listJobs(store, { type, statuses: ["completed"], limit: 100 });
        expect(done.jobs.map((r) => [r._id, r.status])).toEqual([[finished._id, "completed"]]);
      });

      it("registers each type before its first job, and the registry is never a job", async () => {
        const { store } = makeWorld();
        const [a, b] = [unique("type"), unique("type")];
        await store.insertJob(job({ type: a }));
        await store.insertJob(job({ type: b }));
        await store.insertJob(job({ type: a }));
        const known = await store.knownTypes();
        expect(known).toEqual(expect.arrayContaining([a, b]));
        expect(known).toEqual([...known].sort());
        expect(await store.getJob("#types")).toBeNull();
        expect(await store.claimJob("#types", { ...claimOf(job()), type: a })).toEqual({
          current: null,
        });
      });

      it("refuses a query without type or tenant, a bad limit, status or cursor, naming the field", async () => {
        const { store } = makeWorld();
        const refused = async (query: unknown, field: string) => {
          const error = await listJobs(store, query as JobListQuery).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(JobValidationError);
          expect((error as JobValidationError).field).toBe(field);
        };
        await refused({ limit: 10 }, "type, tenant");
        await refused({ type: "t", limit: 0 }, "limit");
        await refused({ type: "t", limit: 101 }, "limit");
        await refused({ type: "t", limit: 10, statuses: ["done"] }, "statuses[0]");
        await refused({ type: "t", limit: 10, cursor: "not-a-cursor" }, "cursor");
        await refused({ type: "t", limit: 10, createdFrom: 5, createdTo: 4 }, "createdFrom");
        await refused({ type: "t", limit: 10, shopId: "s" }, "shopId");
      });
    });

    describe("the cancel log", () => {
      const request = (at: number, filter = `{"type":"t","n":${at}}`): CancelRequest => ({
        filter,
        at,
      });

      it("records requests in order, which `cancelsFor` reads back", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        expect(await store.cancelsFor(type)).toEqual([]);
        expect(await append(store, type, request(T0))).toBe("recorded");
        expect(await append(store, type, request(T0 + 1))).toBe("recorded");
        expect(await store.cancelsFor(type)).toEqual([request(T0), request(T0 + 1)]);
        expect(await store.cancelsFor(unique("type"))).toEqual([]);
      });

      it("is found by the oldest pending request's time, and is never a job", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        await append(store, type, request(T0 + 100));
        await append(store, type, request(T0 + 200));
        expect(await store.typesWithCancels(T0 + 99)).not.toContain(type);
        expect(await store.typesWithCancels(T0 + 100)).toContain(type);
        expect(await store.getJob(`${CANCEL_LOG_PREFIX}${type}`)).toBeNull();
        expect(await store.getJobs([`${CANCEL_LOG_PREFIX}${type}`])).toEqual([]);
        expect(await store.openJobsOfType(type)).toEqual([]);

        await store.dropCancels(type, [request(T0 + 100)]);
        expect(await store.typesWithCancels(T0 + 199)).not.toContain(type);
        expect(await store.typesWithCancels(T0 + 200)).toContain(type);
      });

      it("drops exactly the applied requests; one recorded meanwhile stays", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        const [a, b, c] = [request(T0), request(T0 + 1), request(T0 + 2)];
        await append(store, type, a);
        await append(store, type, b);
        // Same time, other filter: not the applied request.
        await append(store, type, request(T0, '{"type":"other"}'));
        await store.dropCancels(type, [a]);
        expect(await store.cancelsFor(type)).toEqual([b, request(T0, '{"type":"other"}')]);

        // Racing a drop: whichever wins, the new request survives; a lost drop retries later.
        await Promise.all([store.dropCancels(type, [b]), append(store, type, c)]);
        const after = await store.cancelsFor(type);
        expect(after).toContainEqual(c);
        await store.dropCancels(type, [b]);
        expect(await store.cancelsFor(type)).toEqual([request(T0, '{"type":"other"}'), c]);
        // Dropping what is not there changes nothing.
        await store.dropCancels(type, [a, b]);
        expect(await store.cancelsFor(type)).toHaveLength(2);
      });

      it("is gone once every request is dropped", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        await append(store, type, request(T0));
        await append(store, type, request(T0 + 1));
        await store.dropCancels(type, [request(T0), request(T0 + 1)]);
        expect(await store.cancelsFor(type)).toEqual([]);
        expect(await store.typesWithCancels(Number.MAX_SAFE_INTEGER)).not.toContain(type);
        await store.dropCancels(type, [request(T0)]); // a drop on no log is fine
        expect(await append(store, type, request(T0 + 2))).toBe("recorded");
        expect(await store.cancelsFor(type)).toEqual([request(T0 + 2)]);
      });

      it("refuses a request past 256 KB as `full`, and takes one again after a drop", async () => {
        const { store } = makeWorld();
        const type = unique("type");
        const big = (n: number) => request(T0 + n, `{"type":"${"x".repeat(60 * 1024)}${n}"}`);
        for (let n = 0; n < 4; n += 1) expect(await append(store, type, big(n))).toBe("recorded");
        expect(await append(store, type, big(4))).toBe("full");
        expect(await store.cancelsFor(type)).toHaveLength(4);
        // A small one still fits beside four 60 KB ones.
        expect(await append(store, type, request(T0 + 9))).toBe("recorded");
        await store.dropCancels(type, [big(0)]);
        expect(await append(store, type, big(4))).toBe("recorded");
        expect((await store.cancelsFor(type)).map((r) => r.at)).toEqual(
          [1, 2, 3, 9, 4].map((n) => T0 + n),
        );
      });
    });
  });
}

let stack: LocalStack | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    logger: captureLogger(),
    dynamodbEndpoint: sharedDynamoDbEndpoint(),
  });
});

afterAll(async () => {
  await stack?.stop();
});

jobStoreContract("MemoryJobStore", (options) => {
  const clock = new FakeClock(T0);
  return { clock, store: new MemoryJobStore(clock, options) };
});

jobStoreContract("DynamoJobStore on DynamoDB Local", (options) => {
  if (!stack) throw new Error("the local stack did not start");
  const clock = new FakeClock(T0);
  const store = new DynamoJobStore(stack.clients.documents, {
    tableName: stack.tableName,
    now: () => clock.now(),
    ...(options?.indexLagMs === undefined ? {} : { simulateIndexLagMs: options.indexLagMs }),
  });
  return { clock, store };
});

describe("DynamoJobStore's items", () => {
  it("stores the JSON attributes as text and deletes an emptied cancel log item", async () => {
    if (!stack) throw new Error("the local stack did not start");
    const store = new DynamoJobStore(stack.clients.documents, { tableName: stack.tableName });
    const record = job({ data: tricky() });
    await store.insertJob(record);
    const raw = async (id: string) =>
      (
        await stack?.clients.documents.send(
          new GetCommand({ TableName: stack.tableName, Key: { _id: id }, ConsistentRead: true }),
        )
      )?.Item;
    expect((await raw(record._id))?.data).toBe(JSON.stringify(tricky()));

    const type = unique("type");
    await append(store, type, { filter: "{}", at: T0 });
    expect(await raw(`${CANCEL_LOG_PREFIX}${type}`)).toMatchObject({ version: 1, dueAt: T0 });
    await store.dropCancels(type, [{ filter: "{}", at: T0 }]);
    expect(await raw(`${CANCEL_LOG_PREFIX}${type}`)).toBeUndefined();
  });
});

describe("MemoryJobStore's test hooks", () => {
  it("`failNext` fails the next call of one operation, which applies nothing", async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryJobStore(clock);
    const record = job();
    store.failNext("insertJob");
    await expect(store.insertJob(record)).rejects.toThrow(/insertJob/);
    expect(store.all()).toEqual([]);
    expect(await store.insertJob(record)).toBe("inserted");
    store.failNext("claimJob", 2);
    await expect(store.claimJob(record._id, claimOf(record))).rejects.toThrow();
    await expect(store.claimJob(record._id, claimOf(record))).rejects.toThrow();
    expect(store.all()[0]?.status).toBe("ready");
    expect(await store.claimJob(record._id, claimOf(record))).toHaveProperty("claimed");
  });
});

describe("the rules both stores apply (lib/jobs)", () => {
  it("an inserted job carries its shard keys, and `dueAt` only while open (never, when paused)", () => {
    const open = job({ status: "waiting", after: T0 + 5 });
    expect(indexKeys(open)).toEqual({
      typeKey: expect.stringMatching(new RegExp(`^${open.type}#\\d+$`)),
      openKey: expect.stringMatching(new RegExp(`^${open.type}#\\d+$`)),
      dueAt: T0 + 5,
    });
    expect(indexKeys(job({ status: "paused" })).dueAt).toBe(NEVER_DUE);
    expect(indexKeys(job({ status: "completed" }))).not.toHaveProperty("dueAt");
  });

  it("a status change moves `dueAt`, the lease, the TTL and the re-send backoff with it", () => {
    expect(followStatus({ status: "failed", leaseUntil: 1 })).toEqual({
      remove: ["dueAt", "leaseUntil", "workTimeout"],
    });
    expect(followStatus({ status: "paused" })).toEqual({
      dueAt: NEVER_DUE,
      remove: ["expiresAt", "leaseUntil", "workTimeout"],
    });
    expect(followStatus({ status: "running", expiresAt: 9 })).toEqual({ remove: [] });
    expect(followStatus({ status: "waiting", after: T0 })).toEqual({
      dueAt: T0,
      remove: ["expiresAt", "nudges", "leaseUntil", "workTimeout"],
    });
    expect(followStatus({ status: "ready", nudges: 2 }).dueAt).toBe("after");
    expect(followStatus({ status: "ready", dueAt: T0, after: T0 + 1 })).not.toHaveProperty("dueAt");
  });

  it("a cancel request counts its filter's UTF-8 bytes, and one past the log's size never fits", () => {
    const request = { filter: '{"type":"é"}', at: T0 };
    expect(cancelRequestBytes(request)).toBe(13 + 40);
    expect(cancelLogBytes([request, request])).toBe(2 * 53);
    expect(cancelLogRoom(request)).toEqual({ bytes: 53, room: CANCEL_LOG_MAX_BYTES - 53 });
    const huge = { filter: "x".repeat(CANCEL_LOG_MAX_BYTES), at: T0 };
    expect(cancelLogRoom(huge).room).toBeLessThan(0);
  });
});
