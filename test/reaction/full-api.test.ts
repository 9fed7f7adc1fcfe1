import { createRequire } from "node:module";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobQueueHostOf } from "../../lib/reaction/index.ts";
import { type GraphQL, signInAdmin } from "../support/full-api/admin.ts";
import { type FullApi, startFullApi } from "../support/full-api/boot.ts";
import {
  EXPECTED_SIZES,
  productImage,
  startImageServer,
  storedSizes,
  tusUpload,
} from "../support/full-api/images.ts";
import { type LocalSmtpServer, startSmtpServer } from "../support/full-api/smtp-server.ts";
import { onSharedDynamoDb, waitUntil } from "../support/local-app.ts";

// Reaction v4.2.7's whole API (all 37 plugins of its plugins.json, job-queue swapped for this
// package) on one local stack, and the jobs of its three job-using plugins run through
// Reaction's own code: GraphQL mutations and queries, the files plugin's change streams and
// sharp, the email-smtp plugin's nodemailer. Booted once for the file.
let full: FullApi;
let graphql: GraphQL;
let smtp: LocalSmtpServer;
let shopId: string;
let opaqueShopId: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  full = await startFullApi({
    env: { MAIL_URL: smtp.url, STORE_URL: "https://storefront.example.test" },
    // Time moves only when a test moves it: sendEmail's retry waits, the sitemap's schedule.
    jobQueue: { backgroundJobs: { local: onSharedDynamoDb({ quiet: true, clock: "manual" }) } },
  });
  graphql = await signInAdmin(full.api);
  // A shop as an operator makes one: the shops plugin's mutation (the accounts, navigation and
  // email-templates plugins add their parts on afterShopCreate), then its contact email.
  const created = await graphql<{ createShop: { shop: { _id: string } } }>(
    `mutation ($input: CreateShopInput!) { createShop(input: $input) { shop { _id } } }`,
    { input: { name: "Full API Shop", type: "primary" } },
  );
  opaqueShopId = created.createShop.shop._id;
  shopId = Buffer.from(opaqueShopId, "base64").toString().split(":")[1] as string;
  await graphql(
    `mutation ($input: UpdateShopInput!) { updateShop(input: $input) { shop { _id } } }`,
    {
      input: {
        shopId: opaqueShopId,
        emails: [{ address: "shop@example.test", provides: "default", verified: true }],
      },
    },
  );
});

afterAll(async () => {
  await full?.stop();
  await smtp?.stop();
});

/** A shopper's user and account, as ReactionTestAPICore's createUserAndAccount makes them. */
async function addUser(userId: string, address: string): Promise<void> {
  const emails = [{ address, verified: true, provides: "default" }];
  await full.api.collections.users?.insertOne({ _id: userId, emails, services: {} });
  await full.api.collections.Accounts?.insertOne({
    _id: `${userId}-account`,
    userId,
    emails,
    profile: {},
    shopId: null,
  });
}

interface JobsLike {
  findOne(filter: Record<string, unknown>): Promise<Record<string, unknown> | null>;
  find(filter: Record<string, unknown>): { toArray(): Promise<Array<Record<string, unknown>>> };
}
/** The local stack's manual clock. */
const clock = async () => (await jobQueueHostOf(full.api).started()).local.clock;

/** Mail content with quoted-printable soft breaks and `=3D` undone. */
function quotedPrintable(data = ""): string {
  return data.replace(/=\n/g, "").replace(/=3D/g, "=");
}

const mediaDb = () => full.db as Parameters<typeof storedSizes>[0];
const mediaRecords = () => full.api.collections.MediaRecords as Parameters<typeof storedSizes>[1];
const jobs = () => full.context.collections.Jobs as unknown as JobsLike;

describe("Reaction v4.2.7's whole API on the swap-in", () => {
  it("registers every plugin of its plugins.json, in its order, job-queue as this package", () => {
    expect(full.pluginKeys).toHaveLength(37);
    expect(full.pluginKeys.slice(0, 3)).toEqual(["simpleSchema", "jobQueue", "files"]);
    const registered = Object.values(full.api.registeredPlugins).map((plugin) => plugin.name);
    expect(registered).toHaveLength(37);
    expect(registered).toContain("job-queue");
    expect(full.api.registeredPlugins["job-queue"]?.label).toContain("Job queue");
  });
});

describe("email: sendEmail jobs through the accounts, email, email-templates and email-smtp plugins", () => {
  it("sends a password-reset email, lists it in emailJobs, and retryFailedEmail sends one the SMTP server had refused", async () => {
    const bounced = "bounce@example.test";
    await addUser("bouncing-user", bounced);
    smtp.rejectedRecipients.add(bounced);
    // "Forgot password" as the storefront asks it: the authentication plugin's accounts-js
    // mutation, whose sendMail calls the accounts plugin's sendResetAccountPasswordEmail.
    const reset = "mutation ($email: String!) { sendResetPasswordEmail(email: $email) }";
    await graphql(reset, { email: "admin@example.test" });
    await graphql(reset, { email: bounced });

    const sent = { type: "sendEmail", "data.to": "admin@example.test" };
    await waitUntil(async () => (await jobs().findOne(sent))?.status === "completed");
    const mail = smtp.received.find((message) => message.to.includes("admin@example.test"));
    expect(mail?.from).toBe("shop@example.test");
    expect(mail?.data).toContain("Subject: Full API Shop: Here's your password reset link");
    // The accounts-js token in the storefront link (the template escapes its "=").
    expect(quotedPrintable(mail?.data)).toMatch(
      /href="https:\/\/storefront\.example\.test\/\?resetToken&#x3D;[0-9a-f]{40,}"/,
    );

    // The refused one: email-smtp's sendEmailFailed fails the attempt and marks the Emails
    // record failed; the job tries again every 3 minutes (sendEmail's retry), 6 times in all.
    const refused = { type: "sendEmail", "data.to": bounced };
    const failures = async () =>
      ((await jobs().findOne(refused))?.failures as unknown[] | undefined)?.length ?? 0;
    await waitUntil(async () => (await failures()) === 1);
    expect(await jobs().findOne(refused)).toMatchObject({ status: "waiting" });
    const emails = full.api.collections.Emails;
    const refusedId = (await jobs().findOne(refused))?._id;
    expect(await emails?.findOne({ jobId: refusedId })).toMatchObject({ status: "failed" });
    for (let attempt = 2; attempt <= 6; attempt += 1) {
      await (await clock()).advance(3 * 60_000 + 1000);
      await waitUntil(async () => (await failures()) === attempt);
    }
    await waitUntil(async () => (await jobs().findOne(refused))?.status === "failed");

    const listEmailJobs = async () => {
      const { emailJobs } = await graphql<{
        emailJobs: { nodes: Array<{ _id: string; status: string; data: { to: string } }> };
      }>(
        "query ($shopIds: [ID]!) { emailJobs(shopIds: $shopIds) { nodes { _id status data { to } } } }",
        { shopIds: [opaqueShopId] },
      );
      return emailJobs.nodes;
    };
    const listed = await listEmailJobs();
    expect(Object.fromEntries(listed.map((node) => [node.data.to, node.status]))).toEqual({
      "admin@example.test": "completed",
      [bounced]: "failed",
    });

    // The mailbox works again; the operator retries the failed email from the admin UI.
    smtp.rejectedRecipients.delete(bounced);
    const retried = await graphql<{ retryFailedEmail: { emailSent: boolean } }>(
      "mutation ($input: RetryFailedEmailInput!) { retryFailedEmail(input: $input) { emailSent } }",
      {
        input: {
          jobId: listed.find((node) => node.data.to === bounced)?._id,
          shopId: opaqueShopId,
        },
      },
    );
    expect(retried).toEqual({ retryFailedEmail: { emailSent: true } });
    await waitUntil(async () => (await jobs().findOne(refused))?.status === "completed");
    expect(smtp.received.filter((message) => message.to.includes(bounced))).toHaveLength(1);
    expect(await emails?.findOne({ jobId: refusedId })).toMatchObject({ status: "completed" });
    expect((await listEmailJobs()).map((node) => node.status)).toEqual(["completed", "completed"]);
  });
});

describe("sitemap-generator: the shop's repeating job and generateSitemaps", () => {
  it("a sitemapRefreshPeriod set through updateShopSettings arms the shop's repeating job, which writes the sitemaps when due; generateSitemaps runs one now", async () => {
    // A shop created after startup has no sitemap job yet: the plugin arms one per shop at
    // startup and when the shop's setting is saved.
    expect(await jobs().findOne({ type: "sitemaps/generate", "data.shopId": shopId })).toBeNull();
    await graphql(
      "mutation ($input: UpdateShopSettingsInput!) { updateShopSettings(input: $input) { shopSettings { sitemapRefreshPeriod } } }",
      {
        input: {
          shopId: opaqueShopId,
          settingsUpdates: { sitemapRefreshPeriod: "every 12 hours" },
        },
      },
    );
    const repeating = { type: "sitemaps/generate", "data.shopId": shopId, repeats: { $gt: 0 } };
    await waitUntil(async () => (await jobs().findOne(repeating))?.status === "waiting");
    const armed = (await jobs().findOne(repeating)) as { _id: string; after: Date };
    // later.js "every 12 hours": 00:00 and 12:00 UTC.
    expect([0, 12]).toContain(armed.after.getUTCHours());
    const sitemap = async () =>
      (
        await graphql<{ sitemap: { xml: string } | null }>(
          'query { sitemap(handle: "sitemap.xml", shopUrl: "https://shop.example.test/") { xml } }',
        )
      ).sitemap;
    expect(await sitemap()).toBeNull();

    await (await clock()).set(armed.after.getTime() + 1000);
    const occurrence = { type: "sitemaps/generate", "data.shopId": shopId, status: "completed" };
    await waitUntil(async () => (await jobs().findOne(occurrence)) !== null);
    expect((await sitemap())?.xml).toContain("sitemap-pages-1.xml");
    expect(await jobs().findOne(repeating)).toMatchObject({ _id: armed._id, status: "waiting" });

    const result = await graphql<{ generateSitemaps: { wasJobScheduled: boolean } }>(
      "mutation ($input: GenerateSitemapsInput!) { generateSitemaps(input: $input) { wasJobScheduled } }",
      { input: { shopId: opaqueShopId } },
    );
    expect(result).toEqual({ generateSitemaps: { wasJobScheduled: true } });
    const oneOff = { ...occurrence, "data.notifyUserId": "full-api-admin" };
    await waitUntil(async () => (await jobs().findOne(oneOff)) !== null);
    // Asked by a signed-in user, the one-off run leaves the shop's repeating job armed.
    expect(await jobs().findOne(repeating)).toMatchObject({ _id: armed._id, status: "waiting" });
  });
});

describe("files: saveImage jobs resize with sharp into GridFS", () => {
  let images: Awaited<ReturnType<typeof startImageServer>>;
  let png: Buffer;
  beforeAll(async () => {
    png = await productImage();
    images = await startImageServer(png);
  });
  afterAll(async () => {
    await images?.stop();
  });

  it("an upload to the temp store and createMediaRecord run saveImage/local: five sizes in GridFS, served by the download route", async () => {
    const tempStoreId = await tusUpload(`${full.baseUrl}/assets/uploads`, png, "product.png");
    const now = new Date().toISOString();
    const created = await graphql<{ createMediaRecord: { mediaRecord: { _id: string } } }>(
      `mutation ($input: CreateMediaRecordInput!) { createMediaRecord(input: $input) { mediaRecord { _id } } }`,
      {
        input: {
          shopId: opaqueShopId,
          mediaRecord: {
            metadata: {},
            original: {
              name: "product.png",
              size: png.length,
              type: "image/png",
              tempStoreId,
              updatedAt: now,
              uploadedAt: now,
            },
          },
        },
      },
    );
    const mediaId = created.createMediaRecord.mediaRecord._id;
    const job = { type: "saveImage/local", "data.doc._id": mediaId };
    await waitUntil(async () => (await jobs().findOne(job))?.status === "completed");
    expect(await storedSizes(mediaDb(), mediaRecords(), mediaId)).toEqual(EXPECTED_SIZES);

    // The storefront's image URL: the files plugin's download route streams it from GridFS.
    const record = (await full.api.collections.MediaRecords?.findOne({ _id: mediaId })) as {
      copies: Record<string, { name: string }>;
    };
    const thumbnail = await fetch(
      `${full.baseUrl}/assets/files/Media/${mediaId}/thumbnail/${record.copies.thumbnail?.name}`,
    );
    expect(thumbnail.headers.get("content-type")).toBe("image/png");
    const served = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect({ width: served.width, height: served.height }).toEqual({ width: 100, height: 100 });
  });

  it("a remote image URL inserted into Media runs saveImage/remote: fetched from its server, five sizes in GridFS", async () => {
    const require = createRequire(import.meta.resolve("@reactioncommerce/file-collections"));
    const { FileRecord } = require("@reactioncommerce/file-collections");
    const fetch = require("node-fetch");
    const record = await FileRecord.fromUrl(`${images.url}/remote-product.png`, { fetch });
    record.metadata = { shopId, workflow: "published" };
    const Media = full.context.collections.Media as unknown as {
      insert(record: unknown): Promise<{ _id: string }>;
    };
    const { _id: mediaId } = await Media.insert(record);
    const job = { type: "saveImage/remote", "data.doc._id": mediaId };
    await waitUntil(async () => (await jobs().findOne(job))?.status === "completed");
    expect(await storedSizes(mediaDb(), mediaRecords(), mediaId)).toEqual(EXPECTED_SIZES);
  });
});
