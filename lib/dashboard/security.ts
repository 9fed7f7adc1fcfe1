import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The session cookie a launch's token is exchanged for, named per port: cookies are kept per
 * host, not per port, so two dashboards on 127.0.0.1 must not overwrite each other's.
 */
export function sessionCookie(port: number): string {
  return `bgjobs_session_${port}`;
}
/** Every write must carry this header: a cross-site form cannot, and a cross-site fetch would need a preflight we never answer. */
export const WRITE_HEADER = "x-bgjobs-request";

/**
 * No inline script or style, nothing from elsewhere, never framed. uPlot sets its sizes
 * through the CSSOM (`el.style.width = ...`), which `style-src 'self'` allows.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export class DashboardSecurityError extends Error {
  override name = "DashboardSecurityError";
}

/** Is this a loopback interface name (what the dashboard binds without a token)? */
export function isLoopback(host: string): boolean {
  return (
    host === "localhost" ||
    host === "::1" ||
    host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** A random token for one launch (192 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Compares secrets in constant time (by their hashes, so lengths leak nothing). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The headers every response carries. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  // The token travels in the first URL: never in a Referer.
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  res.setHeader("Cache-Control", "no-store");
}

/**
 * The Host header names this server (DNS rebinding: a page on evil.example that resolves
 * to 127.0.0.1 sends `Host: evil.example`).
 */
export function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const host = req.headers.host;
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** The cookies of a request, by name. */
export function cookies(req: IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) found.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return found;
}

/**
 * Why a write request is refused (CSRF), or `null` when it may go on: a JSON body, the
 * custom header, and, when the browser says where it comes from, this very origin.
 */
export function writeRefusal(req: IncomingMessage, origins: ReadonlySet<string>): string | null {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return "writes are JSON (Content-Type: application/json)";
  if (req.headers[WRITE_HEADER] !== "1") return `writes carry the ${WRITE_HEADER} header`;
  const origin = req.headers.origin;
  if (origin !== undefined && !origins.has(origin.toLowerCase()))
    return `origin ${origin} is not this dashboard`;
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return `cross-site request (${site})`;
  return null;
}
