/**
 * What Reaction's original accepted, accepted: a schedule later.js gives no occurrence for
 * resolves (warned, counted, recorded) instead of rejecting an un-awaited call, `undefined`
 * inside `data` is `null` as MongoDB stored and matched it, and every input the email, files
 * and sitemap plugins send without `await` resolves. On the in-memory ports and a fake clock.
 */
import mongoMock from "mongo-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { createJobSystem, type JobSystem } from "../../lib/jobs/api.ts";
import { refusalKeyFor } from "../../lib/jobs/keys.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { MemoryScheduler } from "../../lib/memory/scheduler.ts";
import type { JobCountMetric } from "../../lib/metrics.ts";
import { refusedSchedulesCheck } from "../../lib/ops/doctor-schedules.ts";
import { captureLogger } from "../support/capture-logger.ts";
import { FakeClock } from "../support/memory/clock.ts";

let clock: FakeClock;
let store: MemoryJobStore;
let scheduler: MemoryScheduler;
let logger: ReturnType<typeof captureLogger>;
let counted: Array<{ name: JobCountMetric; type: string }>;
let system: JobSystem;
const jobs = () => system.backgroundJobs;

beforeEach(() => {
  clock = new FakeClock(Date.UTC(2026, 4, 12, 10, 30, 0));
  store = new MemoryJobStore(clock);
  const lanes = new MemoryLanes(clock);
  scheduler = new MemoryScheduler(clock, lanes);
  logger = captureLogger();
  counted = [];
  system = createJobSystem({
    store,
    lanes,
    schedules: scheduler,
    logger,
    metrics: { count: (name, type) => counted.push({ name, type }), time() {} },
    cleanup: new Map(),
    clock,
    // cancelJobs resolves at once: no cancel-log cache window to wait out on the fake clock.
    settings: { cancelCacheMs: 0 },
  });
});

const sitemap = (shopId: string, schedule: string) =>
  jobs().scheduleJob({
    type: "sitemaps/generate",
    data: { shopId },
    retry: { retries: 5, wait: 60_000, backoff: "exponential" },
    schedule,
  });

describe("a schedule later.js finds no occurrence in", () => {
  it.each([
    ["no schedule at all", "foo bar", /stopped at position 0/],
    ["no occurrence after now", "in 2020", /no occurrence after/],
  ])(
    "(%s) warns and resolves an unsaved job: nothing inserted, cancelled or armed",
    async (_case, text, error) => {
      const standing = await sitemap("s1", "every 24 hours");
      const before = { records: store.all(), schedules: scheduler.names() };

      const job = await jobs().scheduleJob({
        type: "sitemaps/generate",
        data: { shopId: "s1" },
        schedule: text,
        cancelRepeats: true,
      });

      expect(job._id).toBeUndefined();
      expect(job._doc).toMatchObject({ type: "sitemaps/generate", status: "waiting" });
      expect(store.all()).toEqual(before.records);
      expect(scheduler.names()).toEqual(before.schedules);
      expect((await jobs().getJob(standing._id))?._doc.status).toBe("waiting");
      const warning = logger.lines.find((line) => line.message.startsWith("schedule refused"));
      expect(warning).toMatchObject({ level: "warn", fields: { schedule: text, tenant: "s1" } });
      expect(String(warning?.fields.error)).toMatch(error);
      expect(counted).toContainEqual({ name: "ScheduleRefused", type: "sitemaps/generate" });
    },
  );

  it("is recorded once per type and data, counted, and cleared by a valid schedule for them", async () => {
    await sitemap("s1", "foo bar");
    await clock.advance(60_000);
    await sitemap("s1", "fo bar");
    // Read part-way by later ("every day" is kept): not a refusal.
    await sitemap("s2", "every day at noon?");
    const [latest, other] = await store.scheduleRefusals();
    expect(latest).toMatchObject({
      key: refusalKeyFor("sitemaps/generate", { shopId: "s1" }),
      type: "sitemaps/generate",
      text: "fo bar",
      data: { shopId: "s1" },
      tenant: "s1",
      count: 2,
      firstAt: clock.now() - 60_000,
      at: clock.now(),
    });
    expect(other).toBeUndefined();

    // The shop admin fixes the setting: the refusal is gone, another shop's would stay.
    await sitemap("s3", "nonsense");
    const fixed = await sitemap("s1", "every 24 hours");
    expect(fixed._id).toEqual(expect.any(String));
    expect((await store.scheduleRefusals()).map((refusal) => refusal.data)).toEqual([
      { shopId: "s3" },
    ]);
  });

  it("still resolves when the refusal cannot be recorded (a store error is logged)", async () => {
    store.failNext("noteScheduleRefusal");
    const job = await sitemap("s1", "foo bar");
    expect(job._id).toBeUndefined();
    expect(logger.lines.map((line) => line.message)).toContain(
      "could not record a refused schedule",
    );
  });
});

describe("bgjobs doctor's refused-schedules check", () => {
  /** The check as doctor runs it: a string is ok, an object a warning. */
  const runCheck = async () => {
    const found = await refusedSchedulesCheck.run({ deps: { jobs: { store } } } as never);
    return typeof found === "string" ? { level: "ok", detail: found } : found;
  };
  it("is ok with none, and warns naming the first three and how many more", async () => {
    expect(await runCheck()).toMatchObject({ level: "ok" });
    for (const shop of ["s1", "s2", "s3", "s4"]) {
      await sitemap(shop, "foo bar");
      await clock.advance(1000);
    }
    const check = await runCheck();
    expect(check.level).toBe("warn");
    expect(check.detail).toMatch(/^4 repeating job\(s\) never saved/);
    expect(check.detail).toContain('sitemaps/generate (shop s4): "foo bar" x1');
    expect(check.detail).not.toContain("shop s1)");
    expect(check.detail).toContain("; 1 more (bgjobs schedules list)");
  });
});

describe("a schedule later.js read only part-way", () => {
  it('keeps later\'s meaning ("every day" is the 1st of each month) and warns with the rest and the next fire times', async () => {
    const job = await jobs().scheduleJob({ type: "cleanup", data: {}, schedule: "every day" });
    expect(job._doc.after.toISOString()).toBe("2026-06-01T00:00:00.000Z");
    const warning = logger.lines.find((line) => line.message.startsWith("schedule read part-way"));
    expect(warning?.fields).toMatchObject({
      schedule: "every day",
      ignored: "day",
      next: ["2026-06-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z", "2026-08-01T00:00:00.000Z"],
    });
    expect(await store.scheduleRefusals()).toEqual([]);
  });
});

describe("errors Reaction's own calls cannot make still reject, naming the field", () => {
  it.each([
    ["an unknown priority", { type: "t", data: {}, priority: "urgent" }, "priority"],
    ["a missing type", { data: {}, schedule: "foo bar" }, "type"],
    ["data that is not JSON", { type: "t", data: { f() {} }, schedule: "foo bar" }, "data.f"],
    ["a schedule that is not text", { type: "t", data: {}, schedule: 5 }, "schedule"],
  ])("%s", async (_case, options, field) => {
    await expect(jobs().scheduleJob(options as never)).rejects.toMatchObject({ field });
    expect(store.all()).toEqual([]);
    expect(await store.scheduleRefusals()).toEqual([]);
  });
});

describe("undefined inside data is null, as MongoDB stored and matched it", () => {
  it("is stored as null at any depth, in objects and arrays alike", async () => {
    const job = await jobs().scheduleJob({
      type: "t",
      data: { a: undefined, list: [1, undefined], deep: { x: undefined, y: [{ z: undefined }] } },
    });
    const expected = { a: null, list: [1, null], deep: { x: null, y: [{ z: null }] } };
    expect(job.data).toEqual(expected);
    expect((await jobs().getJob(job._id))?.data).toEqual(expected);
  });

  it("generateSitemaps without a user cancels its own one-off jobs, not the shop's repeating job", async () => {
    const repeating = await sitemap("s1", "every 24 hours");
    const previous = await jobs().scheduleJob({
      type: "sitemaps/generate",
      data: { notifyUserId: undefined, shopId: "s1" },
    });
    // Reaction's generateSitemaps: the whole options object is the filter.
    await jobs().cancelJobs({
      type: "sitemaps/generate",
      data: { notifyUserId: undefined, shopId: "s1" },
    });
    expect((await jobs().getJob(repeating._id))?._doc.status).toBe("waiting");
    expect((await jobs().getJob(previous._id))?._doc.status).toBe("cancelled");
  });

  it("a dotted key valued undefined (null) matches a field that is null or missing, as Mongo's { field: null }", async () => {
    const missing = await jobs().scheduleJob({ type: "t", data: { shopId: "s1" } });
    const nulled = await jobs().scheduleJob({ type: "t", data: { shopId: "s1", user: undefined } });
    const set = await jobs().scheduleJob({ type: "t", data: { shopId: "s1", user: "u1" } });
    await jobs().cancelJobs({ type: "t", "data.user": undefined });
    const status = async (id: string) => (await jobs().getJob(id))?._doc.status;
    expect(await status(missing._id)).toBe("cancelled");
    expect(await status(nulled._id)).toBe("cancelled");
    expect(await status(set._id)).toBe("ready");
  });
});

describe("options the original read with `if (option)`", () => {
  it("an empty or null schedule is no schedule: a one-off job, as the original made (a shop setting left empty)", async () => {
    for (const schedule of ["", null]) {
      const job = await jobs().scheduleJob({
        type: "sitemaps/generate",
        data: { shopId: "s1" },
        schedule: schedule as never,
        priority: "",
        retry: 0,
      });
      expect(job._doc).toMatchObject({ status: "ready", priority: 0, retries: 1 });
    }
    expect(scheduler.names()).toEqual([]);
  });

  it("a schedule of blanks reaches later.js, which finds no occurrence: refused, resolved", async () => {
    const job = await sitemap("s1", "   ");
    expect(job._id).toBeUndefined();
    expect((await store.scheduleRefusals()).map((refusal) => refusal.text)).toEqual(["   "]);
  });
});

describe("what Reaction's plugins send without await resolves", () => {
  it("files: saveImage/local and /remote with a whole FileRecord document (Dates, undefined, an ObjectId)", async () => {
    const id = new mongoMock.ObjectID("5f1d7f3c9b1e8a0012345678");
    const doc = {
      _id: "fileRecordId1",
      original: {
        name: "shirt.jpg",
        size: 12_345,
        type: "image/jpeg",
        updatedAt: new Date("2026-05-12T10:00:00Z"),
        uploadedAt: new Date("2026-05-12T10:00:01Z"),
        tempStoreId: "tmp1",
        remoteURL: undefined,
      },
      metadata: { productId: "p1", variantId: undefined, priority: 0, toGrid: 1, ownerId: id },
      copies: {},
    };
    for (const type of ["saveImage/local", "saveImage/remote"]) {
      // util/createSaveImageJob.js of @reactioncommerce/api-plugin-files, not awaited.
      const job = await jobs().scheduleJob({
        data: { doc, collectionName: "Media" },
        priority: "normal",
        retry: { retries: 5, wait: 5000, backoff: "exponential" },
        type,
      });
      expect(job.data).toMatchObject({
        doc: {
          original: { updatedAt: "2026-05-12T10:00:00.000Z", remoteURL: null },
          metadata: { variantId: null, ownerId: "5f1d7f3c9b1e8a0012345678" },
        },
      });
    }
  });

  it("email: sendEmail with a missing recipient field; sitemap: a shop's period an admin mistyped", async () => {
    await expect(
      jobs().scheduleJob({
        type: "sendEmail",
        data: { from: "shop@example.com", shopId: "s1", to: undefined, html: "<p/>", subject: "" },
        retry: { retries: 5, wait: 180_000 },
      }),
    ).resolves.toMatchObject({ data: { to: null } });
    await expect(sitemap("s1", "every 24 hourz")).resolves.toBeDefined();
  });
});
