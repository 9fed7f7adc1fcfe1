import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobListPage } from "../../lib/jobs/deps.ts";
import { decodeCursor, listJobs, listPage, validateFilter } from "../../lib/jobs/list/index.ts";
import { laneFor } from "../../lib/jobs/priority.ts";
import { JOB_STATUSES, type JobRecord, type JobStatus } from "../../lib/jobs/types.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { LANES } from "../../lib/resources.ts";
import { FakeClock } from "../support/memory/clock.ts";

const T0 = Date.UTC(2030, 0, 1);
const TYPES = ["a", "b", "c"];
const TENANTS = ["s1", "s2", "s3", undefined];

function record(
  i: number,
  type: string,
  created: number,
  tenant: string | undefined,
  status: JobStatus,
): JobRecord {
  return {
    _id: `J${i.toString(36).padStart(4, "0")}`,
    type,
    data: {},
    status,
    priority: 0,
    retries: 1,
    retried: 0,
    retryWait: 0,
    retryBackoff: "constant",
    retryUntil: 8.64e15,
    repeatRetries: 1,
    after: created,
    created,
    updated: created,
    progress: { completed: 0, total: 1, percent: 0 },
    failures: [],
    runId: null,
    repeated: 0,
    log: [],
    ...(tenant === undefined ? {} : { tenant }),
  };
}

describe("listJobs pages (any jobs, any query)", () => {
  it("are newest first, each matching job exactly once, whatever the page size and ties", async () => {
    const job = fc.record({
      type: fc.constantFrom(...TYPES),
      created: fc.integer({ min: 0, max: 5 }),
      tenant: fc.constantFrom(...TENANTS),
      status: fc.constantFrom(...JOB_STATUSES),
    });
    const query = fc.record({
      type: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
      tenant: fc.option(fc.constantFrom("s1", "s2", "s3"), { nil: undefined }),
      statuses: fc.option(fc.subarray([...JOB_STATUSES], { minLength: 1 }), { nil: undefined }),
      createdFrom: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      limit: fc.integer({ min: 1, max: 12 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(job, { maxLength: 80 }), query, async (jobs, q) => {
        // Now is after every job was created (the open index, like any GSI, shows no future job).
        const store = new MemoryJobStore(new FakeClock(T0 + 10));
        const records = jobs.map((j, i) => record(i, j.type, T0 + j.created, j.tenant, j.status));
        for (const r of records) await store.insertJob(r);
        const type = q.type ?? (q.tenant === undefined ? "a" : undefined);
        const from = q.createdFrom === undefined ? undefined : T0 + q.createdFrom;
        const expected = records
          .filter((r) => type === undefined || r.type === type)
          .filter((r) => q.tenant === undefined || r.tenant === q.tenant)
          .filter((r) => !q.statuses || q.statuses.includes(r.status))
          .filter((r) => from === undefined || r.created >= from)
          .sort((a, b) => b.created - a.created || (a._id < b._id ? 1 : -1))
          .map((r) => r._id);
        const seen: string[] = [];
        let page: JobListPage | undefined;
        for (let n = 0; n < 200 && (!page || page.cursor); n += 1) {
          page = await listJobs(store, {
            limit: q.limit,
            ...(type === undefined ? {} : { type }),
            ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
            ...(q.statuses ? { statuses: q.statuses } : {}),
            ...(from === undefined ? {} : { createdFrom: from }),
            ...(page?.cursor ? { cursor: page.cursor } : {}),
          });
          expect(page.jobs.length).toBeLessThanOrEqual(q.limit);
          seen.push(...page.jobs.map((r) => r._id));
        }
        expect(seen).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the listing engine's pages (operator filters, the open index, a read budget)", () => {
  it("walk every job a filter matches exactly once, newest first, whatever stops a page", async () => {
    const job = fc.record({
      type: fc.constantFrom(...TYPES),
      created: fc.integer({ min: 0, max: 5 }),
      tenant: fc.constantFrom(...TENANTS),
      status: fc.constantFrom(...JOB_STATUSES),
      priority: fc.constantFrom(-15, 0, 10),
    });
    const filter = fc.record({
      type: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
      tenant: fc.option(fc.constantFrom("s1", "s2", "s3"), { nil: undefined }),
      statuses: fc.option(fc.subarray([...JOB_STATUSES], { minLength: 1 }), { nil: undefined }),
      lane: fc.option(fc.constantFrom(...LANES), { nil: undefined }),
      createdTo: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    });
    const paging = fc.record({
      limit: fc.integer({ min: 1, max: 12 }),
      maxRead: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      maxTaken: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(job, { maxLength: 60 }), filter, paging, async (jobs, f, p) => {
        const store = new MemoryJobStore(new FakeClock(T0 + 10));
        const records = jobs.map((j, i) => ({
          ...record(i, j.type, T0 + j.created, j.tenant, j.status),
          priority: j.priority,
        }));
        for (const r of records) await store.insertJob(r);
        const to = f.createdTo === undefined ? undefined : T0 + f.createdTo;
        const valid = validateFilter({ ...f, ...(to === undefined ? {} : { createdTo: to }) });
        const expected = records
          .filter((r) => f.type === undefined || r.type === f.type)
          .filter((r) => f.tenant === undefined || r.tenant === f.tenant)
          .filter((r) => !f.statuses || f.statuses.includes(r.status))
          .filter((r) => f.lane === undefined || laneFor(r.priority) === f.lane)
          .filter((r) => to === undefined || r.created <= to)
          .sort((a, b) => b.created - a.created || (a._id < b._id ? 1 : -1))
          .map((r) => r._id);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let n = 0; n < 300; n += 1) {
          const page = await listPage(store, valid, {
            limit: p.limit,
            ...(p.maxRead === undefined ? {} : { maxRead: p.maxRead }),
            ...(p.maxTaken === undefined ? {} : { maxTaken: p.maxTaken }),
            ...(cursor ? { after: decodeCursor(cursor) } : {}),
          });
          expect(page.jobs.length).toBeLessThanOrEqual(p.limit);
          if (page.jobs.length < p.limit && page.cursor) expect(page.complete).toBe(false);
          if (!page.cursor) expect(page.complete).toBe(true);
          seen.push(...page.jobs.map((r) => r._id));
          cursor = page.cursor;
          if (!cursor) break;
        }
        expect(cursor).toBeUndefined();
        expect(seen).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
