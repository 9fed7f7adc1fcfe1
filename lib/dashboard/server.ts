import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { JobValidationError } from "../errors.ts";
import type { Ops } from "../ops/index.ts";
import { type ApiContext, route } from "./api.ts";
import {
  cookies,
  DashboardSecurityError,
  hostAllowed,
  isLoopback,
  newToken,
  sameSecret,
  securityHeaders,
  sessionCookie,
  writeRefusal,
} from "./security.ts";

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), "public");
/** uPlot's files, served from the installed package (never a CDN). */
const UPLOT = join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
const MAX_BODY = 256 * 1024;

export interface DashboardOptions {
  ops: Ops;
  /** The interface to listen on: loopback by default; another one only with `token`. */
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  /** A fixed token (else a random one per launch); required to listen beyond loopback. */
  token?: string;
  /**
   * More names the `Host` header may carry (the machine's name or address, when listening
   * beyond loopback); loopback names and `host` itself are always allowed.
   */
  allowHosts?: readonly string[];
  /** Writes are refused with 405 and their buttons hidden. */
  readOnly?: boolean;
  /** What the page calls the stack. */
  title?: string;
}

export interface Dashboard {
  /** The URL to open: it carries the token, exchanged for a session cookie on first use. */
  url: string;
  origin: string;
  token: string;
  readOnly: boolean;
  stop(): Promise<void>;
}

/**
 * The web dashboard over the operations module, served by this process (no CDN: the page,
 * its scripts, styles and uPlot come from here). Secure by default: loopback only unless a
 * token is set; a per-launch token in the printed URL, exchanged for an HttpOnly
 * SameSite=Strict cookie; the Host header checked (DNS rebinding); writes only as JSON POSTs
 * with a custom header from this origin (CSRF); a CSP without inline script, never framed;
 * `readOnly` refuses every write with 405.
 *
 * @example const { url, stop } = await startDashboard({ ops: conn.ops }); console.log(url);
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host) && !options.token)
    throw new DashboardSecurityError(
      `refusing to listen on ${host}: beyond loopback the dashboard needs a token you set (--token or BGJOBS_DASHBOARD_TOKEN), and TLS in front of it`,
    );
  const token = options.token ?? newToken();
  const session = newToken();
  const readOnly = options.readOnly === true;
  const allowedHosts = new Set<string>();
  let port = 0;
  const origins = new Set<string>();
  const context: ApiContext = {
    ops: options.ops,
    readOnly,
    title: options.title ?? "background jobs",
    operations: new Map(),
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (error as Error).message });
      else res.end();
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    if (!hostAllowed(req, allowedHosts)) return text(res, 403, "Host not allowed.");
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const given = url.searchParams.get("token");
    if (given !== null) {
      if (!sameSecret(given, token)) return text(res, 401, "That token is not this dashboard's.");
      url.searchParams.delete("token");
      res.setHeader(
        "Set-Cookie",
        `${sessionCookie(port)}=${session}; HttpOnly; SameSite=Strict; Path=/`,
      );
      res.setHeader("Location", `${url.pathname}${url.search}`);
      res.statusCode = 303;
      return void res.end();
    }
    if (!authorised(req)) {
      return text(
        res,
        401,
        "Open the URL `bgjobs dashboard` (or npm start) printed: it carries this launch's token.",
      );
    }
    if (req.method === "POST") {
      if (readOnly) {
        res.setHeader("Allow", "GET");
        return json(res, 405, { error: "this dashboard is read-only" });
      }
      const refusal = writeRefusal(req, origins);
      if (refusal) return json(res, 403, { error: refusal });
    } else if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", readOnly ? "GET" : "GET, POST");
      return json(res, 405, { error: `${req.method} is not allowed` });
    }
    if (url.pathname.startsWith("/api/")) {
      try {
        const body = req.method === "POST" ? await readJson(req) : undefined;
        const answer = await route(context, req.method ?? "GET", url, body);
        return json(res, answer.status, answer.body);
      } catch (error) {
        if (error instanceof JobValidationError)
          return json(res, 400, { error: error.message, field: error.field });
        return json(res, 500, { error: `${(error as Error).name}: ${(error as Error).message}` });
      }
    }
    return serveStatic(res, url.pathname);
  }
  function authorised(req: IncomingMessage): boolean {
    const cookie = cookies(req).get(sessionCookie(port));
    if (cookie !== undefined && sameSecret(cookie, session)) return true;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    return bearer !== undefined && sameSecret(bearer, token);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const names = new Set([
    "127.0.0.1",
    "localhost",
    "[::1]",
    host.includes(":") ? `[${host}]` : host,
    ...(options.allowHosts ?? []),
  ]);
  for (const name of names) {
    allowedHosts.add(`${name}:${port}`.toLowerCase());
    origins.add(`http://${name}:${port}`.toLowerCase());
  }
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const origin = `http://${shownHost}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    readOnly,
    stop: async () => {
      for (const operation of context.operations.values()) operation.abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serveStatic(res: ServerResponse, pathname: string): Promise<void> {
  let file: string;
  if (pathname.startsWith("/assets/vendor/")) {
    const name = pathname.slice("/assets/vendor/".length);
    if (name !== "uPlot.esm.js" && name !== "uPlot.min.css") return text(res, 404, "Not found.");
    file = join(UPLOT, name);
  } else if (pathname.startsWith("/assets/")) {
    const relative = normalize(pathname.slice("/assets/".length));
    if (relative.startsWith("..") || relative.includes("\0")) return text(res, 404, "Not found.");
    file = join(PUBLIC, relative);
  } else {
    // Every page is the one document; the script reads the path and the filters in the URL.
    file = join(PUBLIC, "index.html");
  }
  try {
    const content = await readFile(file);
    res.setHeader(
      "Content-Type",
      TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream",
    );
    res.statusCode = 200;
    res.end(content);
  } catch {
    text(res, 404, "Not found.");
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

function text(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(`${body}\n`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new JobValidationError("body", `is over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString("utf8");
  if (raw === "") return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new JobValidationError("body", "is not JSON");
  }
}
