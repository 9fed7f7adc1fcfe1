import { GetScheduleCommand } from "@aws-sdk/client-scheduler";
import encodeOpaqueId from "@reactioncommerce/api-utils/encodeOpaqueId.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../lib/jobs/job.ts";
import { onceName, recurringName } from "../../lib/jobs/keys.ts";
import { MAX_LOG_ENTRIES } from "../../lib/jobs/records.ts";
import type { MigrationReport } from "../../lib/migrate/index.ts";
import { PROMOTER_FAILURE } from "../../lib/migrate/plan.ts";
import { jobQueueHostOf, migrateJobsFromMongo } from "../../lib/reaction/index.ts";
import { schedulerClientFor, waitForStatus } from "../support/local-app.ts";
import { graphQLClient, useReactionApi } from "../support/reaction-api.ts";

// Reaction's own API (core, email and sitemap plugins) on the swap-in, with the jobs a shop's
// MongoDB holds after running the original queue: job-collection documents in `Jobs`
// (mongo-mock standing in for MongoDB), moved over by migrateJobsFromMongo(api).
const reaction = useReactionApi({ shops: ["shop1"] });
const encodeShopId = encodeOpaqueId("reaction/shop");
const encodeJobId = encodeOpaqueId("reaction/job");
const FOREVER = 2 ** 53; // job-collection's Job.forever
const DAY = 86_400_000;
const now = Date.now();
const at = (offset: number) => new Date(now + offset);
const nextMidnight = new Date(Math.ceil((now + 1) / DAY) * DAY);

interface MongoJobs {
  insertMany(docs: object[]): Promise<unknown>;
  find(filter: object): { toArray(): Promise<object[]> };
}
const mongoJobs = () =>
  (reaction.api as unknown as { db: { collection(name: string): MongoJobs } }).db.collection(
    "Jobs",
  );

/** A job-collection document as the original stored it (its defaults, then `fields`). */
function doc(_id: string, type: string, status: string, fields: Record<string, unknown> = {}) {
  return {
    _id,
    type,
    status,
    data: { shopId: "shop1" },
    priority: 0,
    retries: 1,
    retried: 0,
    repeatRetries: 1,
    retryWait: 300_000,
    retryBackoff: "constant",
    retryUntil: new Date(8_640_000_000_000_000),
    repeats: 0,
    repeated: 0,
    repeatWait: 300_000,
    repeatUntil: new Date(8_640_000_000_000_000),
    after: at(-120_000),
    created: at(-120_000),
    updated: at(-120_000),
    runId: null,
    progress: { completed: 0, total: 1, percent: 0 },
    depends: [],
    resolved: [],
    log: [{ time: at(-120_000), runId: null, level: "info", message: "Job Submitted" }],
    failures: [],
    ...fields,
  };
}
const email = (to: string) => ({
  from: "shop@example.com",
  to,
  subject: `To ${to}`,
  html: "<p>Hi</p>",
  shopId: "shop1",
});
const everyMidnight = { schedules: [{ h: [0] }], exceptions: [] };

const DOCUMENTS = [
  doc("mig-ready-due", "migrate/work", "ready", { data: { shopId: "shop1", n: 7 } }),
  doc("mig-waiting-soon", "migrate/idle", "waiting", { after: at(10 * 60_000) }),
  doc("mig-waiting-days", "migrate/idle", "waiting", { after: at(2 * DAY) }),
  doc("mig-paused", "migrate/idle", "paused"),
  doc("mig-running-retry", "migrate/idle", "running", {
    runId: "oldRun1",
    retries: 2,
    retried: 1,
    retryWait: 60_000,
    retryBackoff: "exponential",
    workTimeout: 60_000,
    expiresAfter: at(-30_000),
  }),
  doc("mig-running-spent", "migrate/idle", "running", {
    runId: "oldRun2",
    retries: 0,
    retried: 1,
    expiresAfter: at(-30_000),
  }),
  doc("mig-completed", "migrate/idle", "completed", {
    result: { value: "done" },
    log: Array.from({ length: 120 }, (_, i) => ({
      time: at(-100_000 + i),
      runId: "r",
      level: "info",
      message: `line ${i}`,
    })),
  }),
  doc("mig-cancelled", "migrate/idle", "cancelled"),
  doc("mig-email-failed", "sendEmail", "failed", {
    data: email("old@example.com"),
    retries: 0,
    retried: 6,
    failures: [{ value: "SMTP refused old@example.com", runId: "oldRun3" }],
  }),
  doc("mig-email-done", "sendEmail", "completed", {
    data: email("done@example.com"),
    result: {},
  }),
  doc("mig-repeat", "migrate/repeat", "waiting", {
    repeats: FOREVER,
    repeated: 12,
    repeatWait: everyMidnight,
    after: nextMidnight,
  }),
  // The sitemap plugin's startup has scheduled shop1's repeating job here already.
  doc("mig-sitemap", "sitemaps/generate", "waiting", {
    repeats: FOREVER,
    repeatWait: everyMidnight,
    after: nextMidnight,
  }),
  // Its cleanup rule (3 days) would have purged it already.
  doc("mig-sitemap-old", "sitemaps/generate", "completed", { updated: at(-10 * DAY) }),
  doc("bad-status", "migrate/idle", "zombie"),
  doc("bad-repeat", "migrate/repeat", "waiting", {
    repeats: FOREVER,
    repeatWait: { schedules: "nope" },
  }),
  doc("bad-data", "migrate/idle", "waiting", { data: { total: Number.NaN } }),
];
const IMPORTED = DOCUMENTS.map((d) => d._id).filter(
  (id) => id.startsWith("mig-") && id !== "mig-sitemap" && id !== "mig-sitemap-old",
);

const ran: unknown[] = [];
let before: object[];
let dry: MigrationReport;
let first: MigrationReport;

beforeAll(async () => {
  await reaction.context.backgroundJobs.addWorker({
    type: "migrate/work",
    worker: async (job: Job) => {
      ran.push(job.data.n);
      await job.done({ seen: job.data.n });
    },
  });
  // As an SMTP plugin would: every email is sent.
  reaction.context.appEvents.on("sendEmail", (async ({ job, sendEmailCompleted }) => {
    await sendEmailCompleted(job, `sent to ${job.data.to}`);
  }) as (event: { job: Job; sendEmailCompleted(job: Job, m: string): Promise<unknown> }) => void);
  await mongoJobs().insertMany(DOCUMENTS);
  before = await mongoJobs().find({}).toArray();
  dry = await migrateJobsFromMongo(reaction.api, { dryRun: true });
  first = await migrateJobsFromMongo(reaction.api);
});

const getJob = (id: string) => reaction.context.backgroundJobs.getJob(id);

describe("migrateJobsFromMongo on a Reaction API running the swap-in", () => {
  it("a dry run reports what it would import and writes nothing", () => {
    expect(dry).toMatchObject({ dryRun: true, read: 16, imported: 11, skipped: 0, duplicates: 1 });
    expect(dry.byStatus).toEqual(first.byStatus);
    // A real run came after it: the dry run's own ids had not been written by it.
    expect(first.imported).toBe(11);
  });

  it("imports every job under its own id, reports counts by status, and leaves MongoDB as it was", async () => {
    expect(first).toMatchObject({
      dryRun: false,
      read: 16,
      imported: 11,
      skipped: 0,
      duplicates: 1,
      expired: 1,
      invalid: 3,
      repeating: 1,
      byStatus: {
        ready: 1,
        waiting: 3,
        paused: 1,
        running: 2,
        completed: 2,
        cancelled: 1,
        failed: 1,
      },
      asImported: { ready: 1, waiting: 4, paused: 1, failed: 2, completed: 2, cancelled: 1 },
    });
    for (const id of IMPORTED) expect((await getJob(id))?._doc._id).toBe(id);
    expect(await getJob("mig-sitemap")).toBeNull();
    expect(await getJob("mig-sitemap-old")).toBeNull();
    expect(first.notes.join("\n")).toMatch(
      /mig-sitemap: not imported, the repeating sitemaps\/generate job \S+ with the same data/,
    );
    expect(await mongoJobs().find({}).toArray()).toEqual(before);
  });

  it("names the _id and the field of each document it could not import, and imports nothing of them", async () => {
    expect(
      first.warnings
        .map(({ id, field }) => ({ id, field }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    ).toEqual([
      { id: "bad-data", field: "data.total" },
      { id: "bad-repeat", field: "repeatWait.schedules" },
      { id: "bad-status", field: "status" },
    ]);
    expect(first.warnings.find((w) => w.id === "bad-status")?.message).toMatch(/got "zombie"/);
    for (const id of ["bad-data", "bad-repeat", "bad-status"]) expect(await getJob(id)).toBeNull();
  });

  it("runs a due job, and keeps a waiting job's times, its message or schedule armed for when it is due", async () => {
    const done = await waitForStatus(reaction, "mig-ready-due", "completed");
    expect(done.result).toEqual({ seen: 7 });
    expect(ran).toEqual([7]);
    const soon = (await getJob("mig-waiting-soon"))?._doc;
    expect(soon).toMatchObject({
      status: "waiting",
      after: at(10 * 60_000),
      created: at(-120_000),
    });
    expect((await getJob("mig-paused"))?._doc.status).toBe("paused");
    const backend = await jobQueueHostOf(reaction.api).started();
    const scheduler = schedulerClientFor(backend);
    try {
      const later = await scheduler.send(
        new GetScheduleCommand({
          Name: onceName("mig-waiting-days", now + 2 * DAY),
          GroupName: backend.local.scheduleGroup,
        }),
      );
      expect(later.ScheduleExpression).toBe(
        `at(${at(2 * DAY)
          .toISOString()
          .slice(0, 19)})`,
      );
      const repeat = await scheduler.send(
        new GetScheduleCommand({
          Name: recurringName("mig-repeat"),
          GroupName: backend.local.scheduleGroup,
        }),
      );
      expect(repeat.ScheduleExpression).toBe("cron(0 0 * * ? *)");
    } finally {
      scheduler.destroy();
    }
  });

  it("fails a run its dead server left as the original's promoter does: retried after its backoff while attempts remain, else failed", async () => {
    const retrying = (await getJob("mig-running-retry"))?._doc;
    expect(retrying).toMatchObject({ status: "waiting", retries: 2, retried: 1, runId: null });
    expect(retrying?.after.getTime()).toBeGreaterThanOrEqual(now + 60_000);
    expect(retrying?.failures.at(-1)).toEqual({ value: PROMOTER_FAILURE, runId: "oldRun1" });
    const spent = (await getJob("mig-running-spent"))?._doc;
    expect(spent).toMatchObject({ status: "failed", retries: 0 });
    expect(spent?.failures.at(-1)).toEqual({ value: PROMOTER_FAILURE, runId: "oldRun2" });
  });

  it("keeps finished jobs' results and a capped log; a repeating job reads back as job-collection's", async () => {
    expect((await getJob("mig-completed"))?._doc).toMatchObject({
      status: "completed",
      result: { value: "done" },
    });
    const { deps } = (await jobQueueHostOf(reaction.api).started()).system;
    const log = (await deps.store.getJob("mig-completed"))?.log ?? [];
    expect(log.length).toBeLessThanOrEqual(MAX_LOG_ENTRIES);
    expect(log.at(-2)?.message).toBe("line 119");
    expect(log.at(-1)?.message).toBe("Moved over from MongoDB (job-collection)");
    const { Jobs } = reaction.context.collections as unknown as { Jobs: MongoJobs };
    const [repeat] = (await Jobs.find({ _id: "mig-repeat" }).toArray()) as Array<
      Record<string, unknown>
    >;
    expect(repeat).toMatchObject({ status: "waiting", repeatWait: everyMidnight, repeated: 12 });
  });

  it("lists the old emails in emailJobs, and retryFailedEmail sends a failed one through the email plugin", async () => {
    const query = graphQLClient(reaction.api);
    const listed = await query<{ emailJobs: { nodes: Array<{ _id: string; status: string }> } }>(
      `query ($shopIds: [ID]!) { emailJobs(shopIds: $shopIds, first: 50) { nodes { _id status } } }`,
      { shopIds: [encodeShopId("shop1")] },
    );
    expect(listed.emailJobs.nodes).toEqual(
      expect.arrayContaining([
        { _id: "mig-email-failed", status: "failed" },
        { _id: "mig-email-done", status: "completed" },
      ]),
    );
    const retried = await query(
      `mutation ($input: RetryFailedEmailInput!) { retryFailedEmail(input: $input) { emailSent } }`,
      { input: { jobId: encodeJobId("mig-email-failed"), shopId: encodeShopId("shop1") } },
    );
    expect(retried).toEqual({ retryFailedEmail: { emailSent: true } });
    await waitForStatus(reaction, "mig-email-failed", "completed");
    const sent = await reaction.api.collections.Emails?.findOne({ jobId: "mig-email-failed" });
    expect(sent).toMatchObject({ status: "completed", to: "old@example.com" });
  });

  it("a second run imports nothing: every id is already here", async () => {
    const again = await migrateJobsFromMongo(reaction.api);
    expect(again).toMatchObject({
      imported: 0,
      skipped: 11,
      duplicates: 1,
      expired: 1,
      invalid: 3,
    });
    expect((await getJob("mig-email-failed"))?._doc.status).toBe("completed");
  });
});
