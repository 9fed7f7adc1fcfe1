/**
 * The cancel log's rules: how much a type's log may hold and how long it outlives its last
 * request. Both job stores apply them; the statements that append and drop are theirs.
 */
import type { CancelLogSpace, CancelRequest } from "./ports.ts";

/**
 * The most a type's cancel log may hold, in bytes (see `cancelRequestBytes`). DynamoDB items
 * stop at 400 KB; this leaves room for one more request of the largest size (64 KB) on top.
 */
export const CANCEL_LOG_MAX_BYTES = 256 * 1024;
/** A request's share of the item besides its filter: the names `filter`/`at`, the number, map overhead. */
const CANCEL_REQUEST_OVERHEAD_BYTES = 40;
/** How long a cancel log outlives its last request, as a TTL safety net. */
const CANCEL_LOG_TTL_SECONDS = 24 * 3600;

/**
 * What a cancel request counts toward its log's `CANCEL_LOG_MAX_BYTES`.
 *
 * @example cancelRequestBytes({ filter: "{}", at: 0 }) // 42
 */
export function cancelRequestBytes(request: CancelRequest): number {
  return Buffer.byteLength(request.filter, "utf8") + CANCEL_REQUEST_OVERHEAD_BYTES;
}

/** What a whole log of these requests counts toward `CANCEL_LOG_MAX_BYTES`. */
export function cancelLogBytes(requests: readonly CancelRequest[]): number {
  return requests.reduce((sum, request) => sum + cancelRequestBytes(request), 0);
}

/**
 * Where a request fits: its `bytes`, and `room`, the most its log may hold before it for it to
 * be appended. A negative `room` means it never fits: the log is "full" for it, unasked.
 *
 * @example cancelLogRoom({ filter: "{}", at: 0 }) // { bytes: 42, room: 262_102 }
 */
export function cancelLogRoom(request: CancelRequest): CancelLogSpace {
  const bytes = cancelRequestBytes(request);
  return { bytes, room: CANCEL_LOG_MAX_BYTES - bytes };
}

/**
 * The log's TTL (epoch seconds) once `request` joins it: a day past the request, or past `now`
 * for a request stamped by a clock behind this one.
 */
export function cancelLogExpiry(request: CancelRequest, now: number): number {
  return Math.floor(Math.max(request.at, now) / 1000) + CANCEL_LOG_TTL_SECONDS;
}

/** The requests of a log that remain once `applied` are dropped (same `at` and filter). */
export function remainingCancels(
  log: readonly CancelRequest[],
  applied: readonly CancelRequest[],
): CancelRequest[] {
  return log.filter(
    (request) => !applied.some((a) => a.at === request.at && a.filter === request.filter),
  );
}
