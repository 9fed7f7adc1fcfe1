import { JobValidationError } from "../errors.ts";
import type { Backoff } from "./types.ts";

/** Reaction's `Job.forever`: a retry object without `retries` retries without end. */
export const FOREVER = Number.MAX_SAFE_INTEGER;
/** Reaction's `Job.foreverDate`. */
export const FOREVER_DATE = 8_640_000_000_000_000;
export const DEFAULT_RETRY_WAIT_MS = 5 * 60 * 1000;

export interface RetryPolicy {
  /** Attempts in all: `retries: N` gives N + 1. */
  retries: number;
  retryWait: number;
  retryBackoff: Backoff;
  retryUntil: number;
}

const RETRY_KEYS = new Set(["retries", "wait", "backoff", "until"]);

/**
 * The stored retry fields for `scheduleJob`'s `retry` option, with Reaction's arithmetic:
 * no option is one attempt; `N` or `{ retries: N }` is N + 1 attempts; an object without
 * `retries` retries forever; `wait` defaults to 5 minutes; `backoff` to `"constant"`.
 *
 * @example retryPolicy({ retries: 5, wait: 5000, backoff: "exponential" }).retries // 6
 */
export function retryPolicy(retry: unknown): RetryPolicy {
  const policy: RetryPolicy = {
    retries: 1,
    retryWait: DEFAULT_RETRY_WAIT_MS,
    retryBackoff: "constant",
    retryUntil: FOREVER_DATE,
  };
  if (retry === undefined || retry === null) return policy;
  if (typeof retry === "number") {
    policy.retries = attempts(retry, "retry");
    return policy;
  }
  if (typeof retry !== "object" || Array.isArray(retry)) {
    throw new JobValidationError(
      "retry",
      "must be a number of retries or { retries, wait, backoff, until }",
    );
  }
  const options = retry as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!RETRY_KEYS.has(key)) throw new JobValidationError(`retry.${key}`, "is not a retry option");
  }
  policy.retries =
    options.retries === undefined ? FOREVER : attempts(options.retries, "retry.retries");
  if (options.wait !== undefined) {
    if (
      typeof options.wait !== "number" ||
      !Number.isSafeInteger(options.wait) ||
      options.wait < 0
    ) {
      throw new JobValidationError(
        "retry.wait",
        `must be a non-negative integer (ms), got ${String(options.wait)}`,
      );
    }
    policy.retryWait = options.wait;
  }
  if (options.backoff !== undefined) {
    if (options.backoff !== "constant" && options.backoff !== "exponential") {
      throw new JobValidationError(
        "retry.backoff",
        `must be "constant" or "exponential", got ${JSON.stringify(options.backoff)}`,
      );
    }
    policy.retryBackoff = options.backoff;
  }
  if (options.until !== undefined) {
    if (!(options.until instanceof Date) || Number.isNaN(options.until.getTime())) {
      throw new JobValidationError("retry.until", "must be a valid Date");
    }
    policy.retryUntil = options.until.getTime();
  }
  return policy;
}

function attempts(retries: unknown, field: string): number {
  if (typeof retries !== "number" || !Number.isSafeInteger(retries) || retries < 0) {
    throw new JobValidationError(field, `must be a non-negative integer, got ${String(retries)}`);
  }
  return retries >= FOREVER - 1 ? FOREVER : retries + 1;
}

/**
 * The wait before the next attempt after attempt number `retried` failed:
 * constant W, or exponential W, 2W, 4W, ...
 *
 * @example retryDelay({ retryWait: 5000, retryBackoff: "exponential" }, 3) // 20000
 */
export function retryDelay(
  job: { retryWait: number; retryBackoff: Backoff },
  retried: number,
): number {
  if (job.retryBackoff === "exponential") return job.retryWait * 2 ** Math.max(0, retried - 1);
  return job.retryWait;
}

/** Where a failed attempt leads: back to `waiting` with its backoff, or `failed` for good. */
export function afterFailure(
  job: {
    retries: number;
    retried: number;
    retryWait: number;
    retryBackoff: Backoff;
    retryUntil: number;
  },
  now: number,
  fatal: boolean,
): { status: "waiting" | "failed"; after: number } {
  const after = now + retryDelay(job, job.retried);
  const retry = !fatal && job.retries > 0 && job.retryUntil >= after;
  return { status: retry ? "waiting" : "failed", after: retry ? after : now };
}
