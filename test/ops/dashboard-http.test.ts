import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, startDashboard } from "../../lib/dashboard/server.ts";
import type { Connection } from "../../lib/ops/connect.ts";
import { useLocalApp, waitForStatus } from "../support/local-app.ts";
import { connectTo, opsPlugin } from "./support.ts";

/** The dashboard's security defaults and its JSON API, over plain HTTP (no browser). */
const local = useLocalApp({}, [opsPlugin]);
let conn: Connection;
let dashboard: Dashboard;
let readOnly: Dashboard;
let cookie: string;
beforeAll(async () => {
  conn = connectTo(local.app, "web@ci");
  dashboard = await startDashboard({ ops: conn.ops });
  readOnly = await startDashboard({ ops: conn.ops, readOnly: true });
  const login = await http(dashboard.url);
  cookie = String(login.headers["set-cookie"]).split(";")[0] as string;
});
afterAll(async () => {
  await dashboard?.stop();
  await readOnly?.stop();
  conn?.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly these headers (fetch would not let a test set Host). */
function http(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    rawPath?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        // Sent as written: the client's URL parser would resolve dot segments first.
        ...(options.rawPath ? { path: options.rawPath } : {}),
      },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const api = (path: string, headers: Record<string, string> = {}) =>
  http(`${dashboard.origin}${path}`, { headers: { cookie, ...headers } });

function write(path: string, body: unknown, headers: Record<string, string> = {}, on = dashboard) {
  return http(`${on.origin}${path}`, {
    method: "POST",
    headers: {
      cookie,
      "content-type": "application/json",
      "x-bgjobs-request": "1",
      origin: on.origin,
      "sec-fetch-site": "same-origin",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe("dashboard security", () => {
  it("listens on loopback only, and refuses another interface without a token", async () => {
    expect(dashboard.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal);
    if (external) {
      const port = new URL(dashboard.origin).port;
      await expect(http(`http://${external.address}:${port}/`)).rejects.toMatchObject({
        code: "ECONNREFUSED",
      });
    }
    await expect(startDashboard({ ops: conn.ops, host: "0.0.0.0" })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0: beyond loopback the dashboard needs a token you set/,
    );
    const open = await startDashboard({
      ops: conn.ops,
      host: "0.0.0.0",
      token: "a-token-you-set",
      allowHosts: ["jobs.internal"],
    });
    try {
      expect(open.url).toBe(`${open.origin}/?token=a-token-you-set`);
      const port = new URL(open.origin).port;
      const bearer = { authorization: "Bearer a-token-you-set" };
      const named = await http(`http://127.0.0.1:${port}/api/config`, {
        headers: { ...bearer, host: `jobs.internal:${port}` },
      });
      expect(named.status).toBe(200);
      const other = await http(`http://127.0.0.1:${port}/api/config`, {
        headers: { ...bearer, host: `elsewhere.example:${port}` },
      });
      expect(other.status).toBe(403);
    } finally {
      await open.stop();
    }
  });

  it("exchanges the launch's token for an HttpOnly SameSite=Strict cookie, and refuses requests without it", async () => {
    expect(dashboard.url).toMatch(/\/\?token=[\w-]{32}$/);
    const login = await http(dashboard.url);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe("/");
    expect(String(login.headers["set-cookie"])).toMatch(
      /^bgjobs_session_\d+=[\w-]+; HttpOnly; SameSite=Strict; Path=\/$/,
    );
    for (const path of ["/", "/api/overview", "/jobs", "/assets/app.js"]) {
      const refused = await http(`${dashboard.origin}${path}`);
      expect(refused.status, path).toBe(401);
      expect(refused.body).toContain("carries this launch's token");
    }
    expect((await http(`${dashboard.origin}/?token=guess`)).status).toBe(401);
    expect((await http(`${readOnly.origin}/api/config`, { headers: { cookie } })).status).toBe(401);
    expect((await api("/api/config")).status).toBe(200);
    const bearer = await http(`${dashboard.origin}/api/config`, {
      headers: { authorization: `Bearer ${dashboard.token}` },
    });
    expect(bearer.status).toBe(200);
  });

  it("checks the Host header against DNS rebinding", async () => {
    const port = new URL(dashboard.origin).port;
    expect((await api("/api/config", { host: `evil.example:${port}` })).status).toBe(403);
    expect((await api("/api/config", { host: `localhost:${port}` })).status).toBe(200);
  });

  it("takes writes only as JSON POSTs with the custom header, from this origin", async () => {
    const job = await local.app.context.backgroundJobs.scheduleJob({
      type: "ops/held",
      data: {},
    });
    const body = { action: "pause", target: { ids: [job._id] } };
    const refusals: Array<Record<string, string>> = [
      { "x-bgjobs-request": "" },
      { "content-type": "text/plain" },
      { origin: "http://evil.example" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of refusals) {
      const refused = await write("/api/jobs/action", body, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
    }
    expect((await local.app.context.backgroundJobs.getJob(job._id))?._doc.status).toBe("ready");
    const ok = await write("/api/jobs/action", body);
    expect(ok.status).toBe(200);
    await waitForStatus(local.app, job._id, "paused");
  });

  it("sends a CSP with no inline script and frame-ancestors 'none', and every asset from itself", async () => {
    const page = await api("/jobs?status=failed");
    expect(page.status).toBe(200);
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    // No inline script or style; every script and stylesheet is served here.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/\sstyle=/);
    const public_ = join(import.meta.dirname, "../../lib/dashboard/public");
    const files = readdirSync(public_, { recursive: true })
      .map(String)
      .filter((f) => /\.(js|html|css)$/.test(f));
    for (const file of files) {
      const text = readFileSync(join(public_, file), "utf8");
      expect(text, file).not.toMatch(/(src|href)="https?:|from\s+"https?:|url\(\s*["']?https?:/);
      expect(text, file).not.toMatch(/innerHTML|setAttribute\("style"/);
    }
    for (const asset of [
      "/assets/app.js",
      "/assets/style.css",
      "/assets/vendor/uPlot.esm.js",
      "/assets/vendor/uPlot.min.css",
    ])
      expect((await api(asset)).status, asset).toBe(200);
    // Dot segments never leave the public folder (the URL parser resolves them first).
    for (const rawPath of [
      "/assets/../../../package.json",
      "/assets/%2e%2e/%2e%2e/%2e%2e/package.json",
      "/assets/..%2f..%2f..%2fpackage.json",
    ]) {
      const climb = await http(dashboard.origin, { headers: { cookie }, rawPath });
      expect(climb.body, rawPath).not.toContain("reaction-background-jobs-aws");
    }
    expect((await api("/assets/vendor/uPlot.cjs.js")).status).toBe(404);
  });

  it("read-only: every write is refused with 405 and the page is told to hide its buttons", async () => {
    const login = await http(readOnly.url);
    const roCookie = String(login.headers["set-cookie"]).split(";")[0] as string;
    const config = await http(`${readOnly.origin}/api/config`, { headers: { cookie: roCookie } });
    expect(JSON.parse(config.body)).toMatchObject({ readOnly: true });
    const job = await local.app.context.backgroundJobs.scheduleJob({
      type: "ops/held",
      data: {},
    });
    for (const path of [
      "/api/jobs/action",
      "/api/jobs/count",
      "/api/dlq/redrive",
      `/api/schedules/${job._id}/pause`,
    ]) {
      const refused = await write(
        path,
        { action: "cancel", target: { ids: [job._id] } },
        { cookie: roCookie },
        readOnly,
      );
      expect(refused.status, path).toBe(405);
      expect(refused.headers.allow).toBe("GET");
    }
    expect((await local.app.context.backgroundJobs.getJob(job._id))?._doc.status).toBe("ready");
  });
});

describe("dashboard API", () => {
  it("answers in the CLI's shapes, runs 'all matching' as a server-side operation, and names a bad field", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const job = await local.app.context.backgroundJobs.scheduleJob({
        type: "ops/flaky",
        data: { failures: 1, shopId: "web-shop" },
        retry: { retries: 0 },
      });
      ids.push(job._id);
    }
    for (const id of ids) await waitForStatus(local.app, id, "failed");
    const page = JSON.parse((await api("/api/jobs?tenant=web-shop&status=failed&limit=2")).body);
    expect(page.jobs).toHaveLength(2);
    expect(page.cursor).toBeDefined();
    expect(page).toEqual(
      await conn.ops.listJobs({ tenant: "web-shop", statuses: ["failed"] }, { limit: 2 }),
    );
    const request = {
      action: "retry",
      target: { filter: { tenant: "web-shop", statuses: ["failed"] } },
    };
    expect(JSON.parse((await write("/api/jobs/count", request)).body)).toMatchObject({
      matched: 3,
      wouldChange: 3,
    });
    // The page sends the count it showed, for its progress bar.
    const { operationId } = JSON.parse(
      (await write("/api/jobs/action", { ...request, expected: 3 })).body,
    );
    let operation: {
      state: string;
      total: number;
      report: { changed: number; changedIds: string[] };
    };
    do {
      operation = JSON.parse((await api(`/api/operations/${operationId}`)).body);
    } while (operation.state === "running");
    expect(operation).toMatchObject({ state: "done", total: 3, report: { changed: 3 } });
    expect(operation.report.changedIds.sort()).toEqual([...ids].sort());
    const bad = await write("/api/jobs/action", { action: "explode", target: { ids } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ field: "action" });
    const badFilter = await write("/api/jobs/action", {
      action: "retry",
      target: { filter: { statuses: ["nope"] } },
    });
    expect(badFilter.status).toBe(400);
    expect(JSON.parse(badFilter.body)).toMatchObject({ field: "statuses" });
    const detail = JSON.parse((await api(`/api/jobs/${ids[0]}`)).body);
    expect(detail.audit[0]).toMatchObject({ actor: "web@ci", action: "retry" });
    expect((await api("/api/jobs/NoSuchJob")).status).toBe(404);
  });
});
