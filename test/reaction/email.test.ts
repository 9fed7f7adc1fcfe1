import encodeOpaqueId from "@reactioncommerce/api-utils/encodeOpaqueId.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../lib/jobs/job.ts";
import { sleep, waitForStatus, waitUntil } from "../support/local-app.ts";
import { graphQLClient, useReactionApi } from "../support/reaction-api.ts";

// Reaction's email plugin, unchanged: its worker upserts the Emails record, emits the
// `sendEmail` app event and returns; an SMTP plugin's listener later calls the plugin's
// sendEmailCompleted (job.done()) or sendEmailFailed (job.fail()). Here the listener plays
// that SMTP plugin, deciding per recipient.
const reaction = useReactionApi({ shops: ["shop1", "shop2"] });
const encodeShopId = encodeOpaqueId("reaction/shop");
const encodeJobId = encodeOpaqueId("reaction/job");

type Outcome = "complete" | "fail";
/** What the SMTP stand-in does for each attempt to a recipient, in order (then "complete"). */
const plans = new Map<string, Outcome[]>();
/** When each sendEmail event was answered, and whether the worker had returned by then. */
const answered: Array<{ to: string; outcome: Outcome; workerReturned: boolean }> = [];

interface SendEmailEvent {
  job: Job;
  sendEmailCompleted(job: Job, message: string): Promise<unknown>;
  sendEmailFailed(job: Job, message: string): Promise<unknown>;
}

beforeAll(() => {
  reaction.context.appEvents.on("sendEmail", (({ job, sendEmailCompleted, sendEmailFailed }) => {
    const to = String(job.data.to);
    const outcome = plans.get(to)?.shift() ?? "complete";
    // As nodemailer's callback did in Reaction 3: after the worker has returned.
    setTimeout(async () => {
      const current = await reaction.context.backgroundJobs.getJob(job._id);
      answered.push({ to, outcome, workerReturned: current?._doc.status === "running" });
      if (outcome === "complete") await sendEmailCompleted(job, `sent to ${to}`);
      else await sendEmailFailed(job, `SMTP refused ${to}`);
    }, 300);
  }) as (event: SendEmailEvent) => void);
});

async function sendEmail(to: string, shopId = "shop1"): Promise<Job> {
  return (await reaction.context.mutations.sendEmail?.(reaction.context.getInternalContext(), {
    to,
    from: "shop@example.com",
    fromShopId: shopId,
    subject: `Hello ${to}`,
    html: "<p>Hi</p>",
  } as never)) as Job;
}

async function emailRecord(jobId: string) {
  return reaction.api.collections.Emails?.findOne({ jobId });
}

describe("a sendEmail job on the job-queue swap-in", () => {
  it("runs the email plugin's worker, which returns unsettled; the job completes when the listener calls sendEmailCompleted", async () => {
    const job = await sendEmail("ada@example.com");
    expect(job._doc).toMatchObject({ type: "sendEmail", status: "ready", retries: 6 });
    await waitUntil(async () => (await emailRecord(job._id))?.status === "processing");
    // The worker has returned; the job is still running until the listener answers.
    expect((await reaction.context.backgroundJobs.getJob(job._id))?._doc.status).toBe("running");
    const done = await waitForStatus(reaction, job._id, "completed");
    expect(done.result).toEqual({});
    expect(await emailRecord(job._id)).toMatchObject({
      status: "completed",
      to: "ada@example.com",
      subject: "Hello ada@example.com",
    });
    expect(answered).toContainEqual({
      to: "ada@example.com",
      outcome: "complete",
      workerReturned: true,
    });
  });

  it("the emailJobs GraphQL query lists a shop's email jobs, paged by getPaginatedResponse", async () => {
    const jobs = [
      await sendEmail("b1@example.com"),
      await sendEmail("b2@example.com"),
      await sendEmail("other-shop@example.com", "shop2"),
    ];
    await Promise.all(jobs.map((job) => waitForStatus(reaction, job._id, "completed")));
    const query = graphQLClient(reaction.api);
    const page = `query ($shopIds: [ID]!, $after: ConnectionCursor) {
      emailJobs(shopIds: $shopIds, first: 2, after: $after) {
        nodes { _id status updated data { to subject } }
        pageInfo { hasNextPage endCursor }
        totalCount
      }
    }`;
    type Page = {
      emailJobs: {
        nodes: Array<{ _id: string; status: string; data: { to: string } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        totalCount: number;
      };
    };
    const shopIds = [encodeShopId("shop1")];
    const first = await query<Page>(page, { shopIds });
    expect(first.emailJobs.totalCount).toBe(3);
    expect(first.emailJobs.pageInfo.hasNextPage).toBe(true);
    const second = await query<Page>(page, { shopIds, after: first.emailJobs.pageInfo.endCursor });
    expect(second.emailJobs.pageInfo.hasNextPage).toBe(false);
    const listed = [...first.emailJobs.nodes, ...second.emailJobs.nodes];
    expect(listed.map((node) => node.data.to).sort()).toEqual([
      "ada@example.com",
      "b1@example.com",
      "b2@example.com",
    ]);
    expect(listed.map((node) => node._id)).toEqual(listed.map((node) => node._id).sort());
    expect(listed.every((node) => node.status === "completed")).toBe(true);
  });

  it("retryFailedEmail restarts a failed email job, and reruns a completed one", async () => {
    plans.set("flaky@example.com", ["fail"]);
    // Scheduled as any plugin may, with no retry: its one attempt fails at the SMTP stand-in.
    const failing = await reaction.context.backgroundJobs.scheduleJob({
      type: "sendEmail",
      data: {
        from: "shop@example.com",
        to: "flaky@example.com",
        subject: "S",
        html: "<p/>",
        shopId: "shop1",
      },
    });
    const failed = await waitForStatus(reaction, failing!._id, "failed");
    expect(failed.failures.at(-1)).toMatchObject({ value: "SMTP refused flaky@example.com" });
    expect(await emailRecord(failing!._id)).toMatchObject({ status: "failed" });

    const query = graphQLClient(reaction.api);
    const retry = `mutation ($input: RetryFailedEmailInput!) { retryFailedEmail(input: $input) { emailSent } }`;
    const retried = await query(retry, {
      input: { jobId: encodeJobId(failing!._id), shopId: encodeShopId("shop1") },
    });
    expect(retried).toEqual({ retryFailedEmail: { emailSent: true } });
    await waitForStatus(reaction, failing!._id, "completed");
    expect(await emailRecord(failing!._id)).toMatchObject({ status: "completed" });

    // A completed job is rerun: a copy with the same data runs and completes.
    await query(retry, {
      input: { jobId: encodeJobId(failing!._id), shopId: encodeShopId("shop1") },
    });
    const { Jobs } = reaction.context.collections as unknown as {
      Jobs: {
        find(f: Record<string, unknown>): {
          toArray(): Promise<Array<{ _id: string; status: string }>>;
        };
      };
    };
    await waitUntil(async () => {
      const copies = await Jobs.find({
        type: "sendEmail",
        "data.to": "flaky@example.com",
      }).toArray();
      return copies.length === 2 && copies.every((copy) => copy.status === "completed");
    });
    await sleep(400); // the listener's answer to the copy has been recorded
    expect(answered.filter((a) => a.to === "flaky@example.com").map((a) => a.outcome)).toEqual([
      "fail",
      "complete",
      "complete",
    ]);
  });
});
