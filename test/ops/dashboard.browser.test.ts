import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../lib/cli/main.ts";
import type { Io } from "../../lib/cli/output.ts";
import type { App } from "../../lib/index.ts";
import {
  onSharedDynamoDb,
  startLocalApp,
  tempDataDir,
  waitForStatus,
} from "../support/local-app.ts";
import { opsPlugin } from "./support.ts";

/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * served by `bgjobs dashboard` against a running local stack, opened at the URL it prints.
 * Screenshots go to test-output/dashboard/ (git-ignored).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
const missing = `no Chromium at ${CHROMIUM} (install Debian's package: apt-get install -y chromium)`;
// CI (.ci/run) installs it and sets BGJOBS_REQUIRE_BROWSER: there a missing browser fails.
if (!available && process.env.BGJOBS_REQUIRE_BROWSER)
  throw new Error(`dashboard browser tests: ${missing}`);
if (!available) console.warn(`dashboard browser tests skipped: ${missing}`);
const SHOTS = join(import.meta.dirname, "../../test-output/dashboard");

/** Waits for what the page shows; patient, since a shared machine can be slow to answer. */
function poll<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 20_000, interval: 100 });
}

/** `bgjobs dashboard` running in this process; resolves the URL it printed. */
function serveDashboard(dataDir: string, flags: string[]) {
  const stop = new AbortController();
  let printed = "";
  let resolveUrl!: (url: string) => void;
  const url = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  const io: Io = {
    stdout: {
      write: (text: string) => {
        printed += text;
        const match = /http:\/\/\S+/.exec(printed);
        if (match) resolveUrl(match[0]);
        return true;
      },
    },
    stderr: { write: () => true },
    stdin: Readable.from([]) as unknown as Io["stdin"],
    env: { DATA_DIR: dataDir, BGJOBS_ACTOR: "browser@ci" },
  };
  const exited = main(["dashboard", ...flags], io, stop.signal);
  return { url, exited, stop: () => stop.abort() };
}

describe.skipIf(!available)("the dashboard in headless Chromium", () => {
  let app: App;
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let browser: Browser;
  let served: ReturnType<typeof serveDashboard>;
  let readOnly: ReturnType<typeof serveDashboard>;
  let page: Page;
  const cspViolations: string[] = [];
  const failedIds: string[] = [];

  async function failedJob(shopId: string): Promise<string> {
    const job = await app.context.backgroundJobs.scheduleJob({
      type: "ops/flaky",
      data: { failures: 1, error: "SMTP said no", shopId },
      retry: { retries: 0 },
    });
    await waitForStatus(app, job._id, "failed");
    return job._id;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    data = await tempDataDir();
    app = await startLocalApp(onSharedDynamoDb({ dataDir: data.dir }), [opsPlugin]);
    for (const shop of ["shop-a", "shop-b", "shop-c"]) failedIds.push(await failedJob(shop));
    for (let i = 0; i < 2; i += 1)
      await app.context.backgroundJobs.scheduleJob({
        type: "ops/quick",
        data: { shopId: "shop-a" },
      });
    served = serveDashboard(data.dir, []);
    readOnly = serveDashboard(data.dir, ["--read-only"]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    served?.stop();
    readOnly?.stop();
    await Promise.all([served?.exited, readOnly?.exited]);
    await app?.stop();
    await data?.remove();
  });

  it("opens at the printed URL: the token becomes a session cookie, the overview shows the counts", async () => {
    const url = await served.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    await page.goto(url);
    expect(new URL(page.url()).search).toBe(""); // the token left the address bar
    const cookie = (await page.context().cookies()).find((c) =>
      c.name.startsWith("bgjobs_session_"),
    );
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    const flaky = page.locator('tr[data-type="ops/flaky"]');
    await poll(() => flaky.count()).toBe(1);
    await poll(async () => (await flaky.locator("td").nth(7).textContent())?.trim()).toBe("3");
    await poll(() => page.locator("#throughput-chart canvas").count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "overview.png"), fullPage: true });
  });

  it("filters failed jobs (the filters go in the URL), opens one, retries it, and sees it complete", async () => {
    await page.click('nav a[data-nav="jobs"]');
    await page.selectOption('select[name="status"]', "failed");
    await poll(() => new URL(page.url()).searchParams.get("status")).toBe("failed");
    const rows = page.locator("tr[data-job-id]");
    await poll(() => rows.count()).toBe(3);
    expect(
      (await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job-id")))).sort(),
    ).toEqual([...failedIds].sort());
    for (const status of await page.locator("tr[data-job-id] .badge").allTextContents())
      expect(status).toBe("failed");
    await page.screenshot({ path: join(SHOTS, "jobs-failed.png"), fullPage: true });

    const id = failedIds[0] as string;
    await page.click(`tr[data-job-id="${id}"] a`);
    await poll(() => page.locator("#job-status").textContent()).toBe("failed");
    expect(await page.locator(".attempts li").count()).toBe(1);
    expect(await page.locator(".attempts li").first().textContent()).toContain("SMTP said no");
    await page.click('button[data-action="retry"]');
    // Live updates: the page reads the job again until it has run.
    await poll(() => page.locator("#job-status").textContent()).toBe("completed");
    await poll(() =>
      page
        .locator(".attempts li")
        .evaluateAll((lis) => lis.map((li) => li.getAttribute("data-outcome"))),
    ).toEqual(["failed", "completed"]);
    expect(await page.locator("table.audit").textContent()).toContain("browser@ci");
    await page.screenshot({ path: join(SHOTS, "job-retried.png"), fullPage: true });
  });

  it("retries all matching failed jobs server-side after showing the count", async () => {
    const origin = new URL(await served.url).origin;
    await page.goto(`${origin}/jobs?type=ops%2Fflaky&status=failed`);
    await poll(() => page.locator("tr[data-job-id]").count()).toBe(2);
    await page.selectOption('select[name="action"]', "retry");
    await page.click('button[data-bulk="all"]');
    await poll(() =>
      page.locator("dialog [data-would-change]").getAttribute("data-would-change"),
    ).toBe("2");
    await page.screenshot({ path: join(SHOTS, "bulk-confirm.png") });
    await page.click("dialog [data-confirm]");
    await poll(() => page.locator("dialog [data-changed]").getAttribute("data-changed")).toBe("2");
    await page.click("dialog .buttons button");
    for (const id of failedIds) await waitForStatus(app, id, "completed");
    await poll(() => page.locator("tr[data-job-id]").count()).toBe(0);
  });

  it("shows a schedule later.js found no occurrence in as refused on the schedules page", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({
      type: "ops/sitemap",
      data: { shopId: "shop-r" },
      schedule: "every fortnight-ish",
    });
    expect(job._id).toBeUndefined();
    await page.click('nav a[data-nav="schedules"]');
    const row = page.locator("tr[data-refused-key]");
    await poll(() => row.count()).toBe(1);
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 5)).toEqual([
      "ops/sitemapshop shop-r",
      "refused",
      '"every fortnight-ish"',
      expect.stringContaining("later.js found no schedule"),
      "1",
    ]);
    expect(cells[7]).toBe('{"shopId":"shop-r"}');
  });

  it("read-only: no action buttons, and a write from the page is refused with 405", async () => {
    const id = await failedJob("shop-ro");
    const roPage = await browser.newPage();
    try {
      const url = await readOnly.url;
      await roPage.goto(url);
      await roPage.goto(`${new URL(url).origin}/jobs/${id}`);
      await poll(() => roPage.locator("#job-status").textContent()).toBe("failed");
      expect(await roPage.locator("#mode").textContent()).toBe("read-only");
      expect(await roPage.locator('button[data-action="retry"]').count()).toBe(0);
      await roPage.goto(`${new URL(url).origin}/jobs?status=failed`);
      await poll(() => roPage.locator(`tr[data-job-id="${id}"]`).count()).toBe(1);
      expect(await roPage.locator(".bulk").isVisible()).toBe(false);
      expect(
        await roPage.locator('tr[data-job-id] input[type="checkbox"]').first().isVisible(),
      ).toBe(false);
      const status = await roPage.evaluate(async (jobId) => {
        const response = await fetch("/api/jobs/action", {
          method: "POST",
          headers: { "content-type": "application/json", "x-bgjobs-request": "1" },
          body: JSON.stringify({ action: "retry", target: { ids: [jobId] } }),
        });
        return response.status;
      }, id);
      expect(status).toBe(405);
      await roPage.screenshot({ path: join(SHOTS, "read-only.png"), fullPage: true });
    } finally {
      await roPage.close();
    }
    expect((await app.context.backgroundJobs.getJob(id))?._doc.status).toBe("failed");
  });

  it("refuses a browser without the token, and framing by another page", async () => {
    const stranger = await browser.newContext();
    try {
      const tab = await stranger.newPage();
      const origin = new URL(await served.url).origin;
      const response = await tab.goto(`${origin}/jobs`);
      expect(response?.status()).toBe(401);
      expect(await tab.textContent("body")).toContain("carries this launch's token");
      const api = await tab.goto(`${origin}/api/jobs?status=failed`);
      expect(api?.status()).toBe(401);
      expect(response?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    } finally {
      await stranger.close();
    }
    expect(cspViolations).toEqual([]);
  });
});
