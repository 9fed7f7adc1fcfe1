import getPaginatedResponse from "@reactioncommerce/api-utils/graphql/getPaginatedResponse.js";
import { beforeAll, describe, expect, it } from "vitest";
import { JobValidationError } from "../../lib/errors.ts";
import { createJobSystem } from "../../lib/jobs/api.ts";
import { typeKeysToRead } from "../../lib/jobs/keys.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { MemoryScheduler } from "../../lib/memory/scheduler.ts";
import type { JobsSource } from "../../lib/reaction/jobs-source.ts";
import { storeSource } from "../../lib/reaction/jobs-source.ts";
import { JobsView, ReadOnlyViewError } from "../../lib/reaction/jobs-view.ts";
import { FakeClock } from "../support/memory/clock.ts";

// The view over the in-memory job table (no network), read by Reaction's own paging code.
const clock = new FakeClock(Date.UTC(2026, 0, 5, 10, 0, 0));
const store = new MemoryJobStore(clock);
const lanes = new MemoryLanes(clock);
const tenants = new Map([["account/sync", "data.accountId"]]);
const { backgroundJobs } = createJobSystem({
  store,
  lanes,
  schedules: new MemoryScheduler(clock, lanes),
  logger: { info() {}, warn() {}, error() {} },
  cleanup: new Map(),
  tenants,
  clock,
});

/** Every read the view makes of the job table's indexes (records read by id in batches aside). */
type Read =
  | { readShard: string; tenant?: string }
  | { openJobsOfType: string; tenant?: string }
  | { getJob: string }
  | { knownTypes: true };
const reads: Read[] = [];
const source: JobsSource = {
  ...storeSource(store, tenants),
  readShard: (read) => {
    reads.push({
      readShard: read.typeKey,
      ...(read.tenant === undefined ? {} : { tenant: read.tenant }),
    });
    return store.readShard(read);
  },
  openJobsOfType: (type, tenant) => {
    reads.push({ openJobsOfType: type, ...(tenant === undefined ? {} : { tenant }) });
    return store.openJobsOfType(type, tenant);
  },
  getJob: (id) => {
    reads.push({ getJob: id });
    return store.getJob(id);
  },
  knownTypes: () => {
    reads.push({ knownTypes: true });
    return store.knownTypes();
  },
};
const view = new JobsView({ source: async () => source });
const readsOf = async (work: () => Promise<unknown>) => {
  reads.length = 0;
  await work();
  return [...reads];
};
/** The shard reads of a type's listing (of one tenant's shards), each read once. */
const shardReads = (type: string, tenant?: string) =>
  typeKeysToRead(type, tenant).map((key) => ({
    readShard: key,
    ...(tenant === undefined ? {} : { tenant }),
  }));

const ids: Record<string, string> = {};
beforeAll(async () => {
  const schedule = async (name: string, type: string, data: Record<string, unknown>) => {
    await clock.advance(1000);
    ids[name] = (await backgroundJobs.scheduleJob({ type, data }))._id;
  };
  for (const [i, shop] of ["s1", "s2", "s1", "s3", "s1"].entries()) {
    await schedule(`mail${i}`, "sendEmail", { shopId: shop, to: `u${i}@x.test`, n: i });
  }
  await schedule("noTo", "sendEmail", { shopId: "s1" });
  await schedule("sync", "account/sync", { accountId: "s1", shopId: "other" });
  await schedule("syncOther", "account/sync", { accountId: "a9", shopId: "s1" });
  await clock.advance(1000);
  ids.template = (
    await backgroundJobs.scheduleJob({
      type: "sitemaps/generate",
      data: { shopId: "s1" },
      schedule: "every 24 hours",
    })
  )._id;
  await store.transition(ids.mail1 as string, ["ready"], { status: "failed" });
});

describe("the Jobs view's documents", () => {
  it("have Reaction's field names and types; a template repeats with later's schedule", async () => {
    const doc = (await view.findOne({ _id: ids.mail0 })) as Record<string, unknown>;
    expect(doc).toMatchObject({
      _id: ids.mail0,
      type: "sendEmail",
      status: "ready",
      data: { shopId: "s1", to: "u0@x.test", n: 0 },
      priority: 0,
      retries: 1,
      retried: 0,
      repeats: 0,
      failures: [],
      log: [],
      depends: [],
      runId: null,
    });
    for (const field of ["created", "updated", "after", "createdAt", "updatedAt"]) {
      expect(doc[field]).toBeInstanceOf(Date);
    }
    const template = (await view.findOne({ _id: ids.template })) as Record<string, unknown>;
    expect(template).toMatchObject({
      status: "waiting",
      repeatWait: { schedules: [{ h: [0] }], exceptions: [] },
    });
    expect(template.repeats).toBeGreaterThan(1e15);
  });
});

describe("the email plugin's emailJobs query, paged by Reaction's getPaginatedResponse", () => {
  const emailJobs = () => view.find({ type: "sendEmail", "data.shopId": { $in: ["s1", "s3"] } });
  const mailIds = () => ["mail0", "mail2", "mail3", "mail4", "noTo"].map((n) => ids[n]).sort();

  it("pages forward by _id with totalCount and hasNextPage, reading only the type's shops, once a page", async () => {
    let page!: Awaited<ReturnType<typeof getPaginatedResponse>>;
    const used = await readsOf(async () => {
      page = await getPaginatedResponse(emailJobs(), { first: 2 });
    });
    expect(page.totalCount).toBe(5);
    expect(page.nodes.map((n) => n._id)).toEqual(mailIds().slice(0, 2));
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    // Only the type's pages of each shop named, once for the page's counts and read: never
    // every type, never a scan.
    const wanted = [...shardReads("sendEmail", "s1"), ...shardReads("sendEmail", "s3")];
    expect(used).toHaveLength(wanted.length);
    expect(used).toEqual(expect.arrayContaining(wanted));

    const next = await getPaginatedResponse(emailJobs(), {
      first: 2,
      after: page.pageInfo.endCursor,
    });
    expect(next.nodes.map((n) => n._id)).toEqual(mailIds().slice(2, 4));
    const last = await getPaginatedResponse(emailJobs(), {
      first: 2,
      after: next.pageInfo.endCursor,
    });
    expect(last.nodes.map((n) => n._id)).toEqual(mailIds().slice(4));
    expect(last.pageInfo.hasNextPage).toBe(false);
  });

  it("pages by offset and backward with last", async () => {
    const byOffset = await getPaginatedResponse(emailJobs(), { first: 2, offset: 3 });
    expect(byOffset.nodes.map((n) => n._id)).toEqual(mailIds().slice(3));
    expect(byOffset.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const lastTwo = await getPaginatedResponse(emailJobs(), { last: 2 });
    expect(lastTwo.nodes.map((n) => n._id)).toEqual(mailIds().slice(3));
    expect(lastTwo.pageInfo.hasPreviousPage).toBe(true);
  });

  it("sorts by another field, descending, as getMongoSort asks", async () => {
    const page = await getPaginatedResponse(emailJobs(), {
      first: 3,
      sortBy: "created",
      sortOrder: "desc",
    });
    expect(page.nodes.map((n) => n._id)).toEqual([ids.noTo, ids.mail4, ids.mail3]);
  });
});

describe("filters", () => {
  const idsOf = async (filter: Record<string, unknown>) =>
    ((await view.find(filter).toArray()) as Array<{ _id: string }>).map((d) => d._id).sort();
  const named = (...names: string[]) => names.map((n) => ids[n]).sort();

  it("evaluate equality, $ne, $in, $nin, $exists, ranges, $and and $or on any field", async () => {
    expect(await idsOf({ type: "sendEmail", status: "failed" })).toEqual(named("mail1"));
    expect(await idsOf({ type: "sendEmail", status: { $ne: "ready" } })).toEqual(named("mail1"));
    expect(await idsOf({ type: "sendEmail", "data.to": { $exists: false } })).toEqual(
      named("noTo"),
    );
    expect(await idsOf({ type: "sendEmail", "data.n": { $gte: 3 } })).toEqual(
      named("mail3", "mail4"),
    );
    expect(
      await idsOf({ type: "sendEmail", "data.shopId": { $nin: ["s1"] }, "data.n": { $lt: 3 } }),
    ).toEqual(named("mail1"));
    expect(
      await idsOf({ type: "sendEmail", $or: [{ "data.n": 0 }, { "data.to": "u3@x.test" }] }),
    ).toEqual(named("mail0", "mail3"));
    const mail3 = (await view.findOne({ _id: ids.mail3 })) as { created: Date };
    expect(await idsOf({ type: "sendEmail", $and: [{ created: { $gt: mail3.created } }] })).toEqual(
      named("mail4", "noTo"),
    );
  });

  it("by _id read those jobs only; by a shop alone, each type's pages of that shop on its own tenant key", async () => {
    expect(await readsOf(() => view.find({ _id: { $in: [ids.mail0, "nope"] } }).toArray())).toEqual(
      [{ getJob: ids.mail0 }, { getJob: "nope" }],
    );
    let found: string[] = [];
    const used = await readsOf(async () => {
      found = await idsOf({ "data.shopId": "s1" });
    });
    expect(found).toEqual(named("mail0", "mail2", "mail4", "noTo", "syncOther", "template"));
    expect(used[0]).toEqual({ knownTypes: true });
    // account/sync keeps its tenant in data.accountId: its shop-s1 jobs are found by type.
    const wanted = [
      ...shardReads("sendEmail", "s1"),
      ...shardReads("sitemaps/generate", "s1"),
      ...shardReads("account/sync"),
    ];
    expect(used.slice(1)).toHaveLength(wanted.length);
    expect(used.slice(1)).toEqual(expect.arrayContaining(wanted));
    expect(await idsOf({ type: "account/sync", "data.accountId": "s1" })).toEqual(named("sync"));
  });

  it("findOne with no sort stops after the first page; countDocuments counts all", async () => {
    const used = await readsOf(() => view.findOne({ type: "sendEmail", "data.shopId": "s1" }));
    // One read of each of the shop's shards: the first page holds the answer.
    expect(used).toHaveLength(shardReads("sendEmail", "s1").length);
    expect(used).toEqual(expect.arrayContaining(shardReads("sendEmail", "s1")));
    expect(await view.countDocuments({ type: "sendEmail" })).toBe(6);
    expect(await view.countDocuments({ type: "sendEmail" }, { skip: 2, limit: 3 })).toBe(3);
    expect(await view.findOne({ type: "nothing/here" })).toBeNull();
  });

  it("for unfinished statuses only read the open index, never the type's listing", async () => {
    let found: string[] = [];
    const used = await readsOf(async () => {
      found = await idsOf({ type: "sendEmail", status: { $in: ["ready", "running"] } });
    });
    expect(found).toEqual(named("mail0", "mail2", "mail3", "mail4", "noTo"));
    expect(used).toEqual([{ openJobsOfType: "sendEmail" }]);
    const ofShop = await readsOf(async () => {
      found = await idsOf({ type: "sendEmail", status: "ready", "data.shopId": "s1" });
    });
    expect(found).toEqual(named("mail0", "mail2", "mail4", "noTo"));
    expect(ofShop).toEqual([{ openJobsOfType: "sendEmail", tenant: "s1" }]);
  });

  it("are refused, naming the operator or field, when the view cannot evaluate them", () => {
    const refused = (filter: Record<string, unknown>, message: RegExp) =>
      expect(() => view.find(filter)).toThrow(message);
    refused(
      { "data.to": { $regex: "x" } },
      /filter\.data\.to\.\$regex: operator \$regex is not supported/,
    );
    refused({ $where: "true" }, /filter\.\$where: operator \$where is not supported/);
    refused({ failures: { $elemMatch: { value: 1 } } }, /operator \$elemMatch/);
    refused({ $text: { $search: "x" } }, /operator \$text/);
    refused({ "data.to": /x/ }, /regular expressions are not supported/);
    refused({ stauts: "ready" }, /filter\.stauts: is not a field of a job document/);
    refused({ status: { $in: "ready" } }, /filter\.status\.\$in: must be an array/);
    expect(() => view.find({}, { collation: { locale: "fr" } })).toThrow(
      /options\.collation: is not supported by the Jobs view/,
    );
    expect(() => view.find({}).sort({ nope: 1 })).toThrow(/sort\.nope: is not a field/);
    expect(() => view.find({ type: { $gt: 1, x: 2 } })).toThrow(JobValidationError);
  });

  it("reading more than the view's limit is refused with how to narrow it", async () => {
    const small = new JobsView({ source: async () => source, maxRecordsRead: 3 });
    await expect(small.find({ type: "sendEmail" }).toArray()).rejects.toThrow(
      /reads more than 3 jobs; .* name a type, a shop \(data\.shopId\)/,
    );
  });
});

describe("writes", () => {
  it("are refused, pointing to context.backgroundJobs", () => {
    const jobs = view as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of [
      "insertOne",
      "updateOne",
      "updateMany",
      "deleteMany",
      "replaceOne",
      "findOneAndUpdate",
      "bulkWrite",
      "drop",
      "createIndex",
    ]) {
      expect(() => jobs[method]?.({}, {})).toThrow(ReadOnlyViewError);
      expect(() => jobs[method]?.({}, {})).toThrow(
        new RegExp(`^Jobs\\.${method}: .*read-only view.*context\\.backgroundJobs`),
      );
    }
  });
});

describe("the cursor", () => {
  it("behaves as the 3.6 driver's: chained sort/skip/limit/project, count ignoring skip and limit unless asked, next/hasNext/rewind, clone, map, for await", async () => {
    const cursor = view
      .find({ type: "sendEmail" })
      .sort({ "data.n": -1 })
      .skip(1)
      .limit(2)
      .project({ "data.n": 1 });
    expect(cursor.ns).toBe("background-jobs.Jobs");
    expect(cursor.cmd.query).toEqual({ type: "sendEmail" });
    expect(await cursor.count()).toBe(6);
    expect(await cursor.count(true)).toBe(2);
    expect(await cursor.clone().toArray()).toEqual([
      { _id: ids.mail3, data: { n: 3 } },
      { _id: ids.mail2, data: { n: 2 } },
    ]);
    expect(await cursor.hasNext()).toBe(true);
    expect(await cursor.next()).toEqual({ _id: ids.mail3, data: { n: 3 } });
    expect(await cursor.toArray()).toEqual([{ _id: ids.mail2, data: { n: 2 } }]);
    expect([await cursor.hasNext(), await cursor.next()]).toEqual([false, null]);
    cursor.rewind().map((doc) => doc._id);
    const seen: unknown[] = [];
    for await (const id of cursor) seen.push(id);
    expect(seen).toEqual([ids.mail3, ids.mail2]);
    expect(cursor.options.db.collection("Jobs")).toBe(view);
  });
});
