import { JobValidationError } from "../errors.ts";
import { forEachLimited } from "../jobs/enqueue.ts";
import type { JobRecord } from "../jobs/types.ts";
import { applyAction, skipReason, validateAction } from "./actions.ts";
import { type ValidFilter, validateFilter } from "./filter.ts";
import { walkMatching } from "./list.ts";
import type { OpsDeps } from "./ports.ts";
import type { ActionOutcome, ActionReport, ActionRequest, MatchCount } from "./types.ts";

/** Jobs acted on at once within a batch (each is a read and one conditional write). */
const PARALLEL_ACTIONS = 16;
const MAX_IDS = 10_000;
const MAX_CHANGED_IDS = 10_000;
const MAX_FAILURES = 100;
const ID_BATCH = 100;
/** `countMatching` stops here and says "at least". */
export const MAX_COUNT = 100_000;

export interface RunOptions {
  /** Called after each batch (of at most 100 jobs) with the report so far. */
  onProgress?: (report: ActionReport) => void;
  /** Aborting stops before the next batch; the report says `interrupted`. */
  signal?: AbortSignal;
  /** Stop looking once this many jobs matched (counting). */
  maxMatched?: number;
}

/**
 * An action on some jobs, or on every job matching a filter, run here (server-side) in
 * batches of 100 with progress. Each job goes through the lifecycle's conditional writes;
 * running jobs are skipped unless `includeRunning`; the report counts exactly what changed,
 * what was skipped and why, and what failed. A filter is walked by creation time, so a job
 * whose status the action changes is never met twice (a "retry all" retries each once).
 *
 * @example await runAction(deps, { action: "retry", target: { filter: { type: "sendEmail", statuses: ["failed"] } } })
 */
export async function runAction(
  deps: OpsDeps,
  request: ActionRequest,
  options: RunOptions = {},
): Promise<ActionReport> {
  const started = Date.now();
  const { action, params } = validateAction(request.action, request.params, deps.jobs.clock.now());
  const target = validateTarget(request.target, deps.jobs.clock.now());
  const dryRun = request.dryRun === true;
  const includeRunning = request.includeRunning === true;
  const report: ActionReport = {
    action,
    dryRun,
    matched: 0,
    changed: 0,
    skipped: 0,
    failed: 0,
    read: 0,
    changedIds: [],
    skippedBecause: {},
    failures: [],
    interrupted: false,
    ms: 0,
  };
  const tally = (outcome: ActionOutcome) => {
    report[outcome.outcome] += 1;
    if (outcome.outcome === "changed" && report.changedIds.length < MAX_CHANGED_IDS)
      report.changedIds.push(outcome.id);
    if (outcome.outcome === "skipped") {
      const reason = outcome.reason ?? "skipped";
      report.skippedBecause[reason] = (report.skippedBecause[reason] ?? 0) + 1;
    }
  };
  const one = async (id: string, record?: JobRecord | null) => {
    report.matched += 1;
    try {
      if (dryRun) {
        const current = record === undefined ? await deps.jobs.store.getJob(id) : record;
        const reason = current ? skipReason(action, current, includeRunning) : "not found";
        tally(reason ? { id, outcome: "skipped", reason } : { id, outcome: "changed" });
      } else {
        tally(await applyAction(deps, action, id, params, includeRunning, record ?? undefined));
      }
    } catch (error) {
      report.failed += 1;
      if (report.failures.length < MAX_FAILURES)
        report.failures.push({ id, error: (error as Error).message });
    }
  };
  for await (const batch of batches(deps, target)) {
    if (options.signal?.aborted) {
      report.interrupted = true;
      break;
    }
    report.read += batch.read;
    await forEachLimited(batch.items, PARALLEL_ACTIONS, (item) => one(item.id, item.record));
    report.ms = Date.now() - started;
    options.onProgress?.({ ...report });
    if (options.maxMatched !== undefined && report.matched >= options.maxMatched) break;
  }
  report.ms = Date.now() - started;
  return report;
}

/**
 * Checks an action request without reading anything: a bad one throws a
 * `JobValidationError` naming the field (what the dashboard answers 400 with).
 */
export function checkRequest(request: ActionRequest, now: number): void {
  if (typeof request !== "object" || request === null)
    throw new JobValidationError("request", "must be an object such as { action, target }");
  validateAction(request.action, request.params, now);
  validateTarget(request.target, now);
}

/**
 * How many jobs an action would look at and change, before it is confirmed (a dry run that
 * stops at 100,000: `capped`).
 */
export async function countMatching(deps: OpsDeps, request: ActionRequest): Promise<MatchCount> {
  const report = await runAction(deps, { ...request, dryRun: true }, { maxMatched: MAX_COUNT });
  return {
    matched: report.matched,
    wouldChange: report.changed,
    skippedBecause: report.skippedBecause,
    read: report.read,
    capped: report.matched >= MAX_COUNT,
  };
}

type Target = { ids: string[] } | { filter: ValidFilter };

function validateTarget(target: unknown, now: number): Target {
  if (typeof target !== "object" || target === null)
    throw new JobValidationError("target", "must be { ids: [...] } or { filter: {...} }");
  const input = target as Record<string, unknown>;
  if ("ids" in input) {
    const ids = input.ids;
    if (!Array.isArray(ids) || ids.length === 0)
      throw new JobValidationError("target.ids", "must be a non-empty list of job ids");
    if (ids.length > MAX_IDS)
      throw new JobValidationError("target.ids", `at most ${MAX_IDS}; use a filter for more`);
    for (const [i, id] of ids.entries()) {
      if (typeof id !== "string" || id === "")
        throw new JobValidationError(`target.ids[${i}]`, "must be a job id");
    }
    return { ids: [...new Set(ids as string[])] };
  }
  if ("filter" in input) return { filter: validateFilter(input.filter, now) };
  throw new JobValidationError("target", "must be { ids: [...] } or { filter: {...} }");
}

async function* batches(
  deps: OpsDeps,
  target: Target,
): AsyncGenerator<{ items: Array<{ id: string; record?: JobRecord }>; read: number }> {
  if ("ids" in target) {
    for (let start = 0; start < target.ids.length; start += ID_BATCH) {
      const ids = target.ids.slice(start, start + ID_BATCH);
      yield { items: ids.map((id) => ({ id })), read: 0 };
    }
    return;
  }
  for await (const page of walkMatching(deps.jobs.store, target.filter)) {
    yield { items: page.records.map((record) => ({ id: record._id, record })), read: page.read };
  }
}
