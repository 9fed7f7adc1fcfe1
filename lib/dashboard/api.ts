import { randomUUID } from "node:crypto";
import { JobValidationError } from "../errors.ts";
import { filterFromSurface } from "../ops/filter.ts";
import type { Ops, ScheduleAction } from "../ops/index.ts";
import { type ActionRequest, JOB_ACTIONS, type JobFilter } from "../ops/types.ts";
import { LANES, type LaneName } from "../resources.ts";

/** A bulk action or a redrive running on the server; the page polls it for progress. */
export interface Operation {
  id: string;
  kind: string;
  state: "running" | "done" | "failed";
  /** The report so far (while running), then the final one. */
  report?: unknown;
  total?: number;
  error?: string;
  startedAt: number;
  abort: AbortController;
}

export interface ApiContext {
  ops: Ops;
  readOnly: boolean;
  title: string;
  operations: Map<string, Operation>;
  /** The last overview and when it was read: shared by every open tab for a few seconds. */
  overview?: { at: number; value: Promise<unknown> };
}

/** How long an overview is served again before it is read anew (it reads each type's open index). */
export const OVERVIEW_CACHE_MS = 8000;

function cachedOverview(context: ApiContext): Promise<unknown> {
  const now = Date.now();
  if (!context.overview || now - context.overview.at > OVERVIEW_CACHE_MS) {
    const value = context.ops.overview();
    context.overview = { at: now, value };
    value.catch(() => {
      if (context.overview?.value === value) context.overview = undefined;
    });
  }
  return context.overview.value;
}

export interface Answer {
  status: number;
  body: unknown;
}

/** Finished operations kept for the page to read their report. */
const KEEP_OPERATIONS = 50;
const SCHEDULE_ACTIONS: readonly ScheduleAction[] = ["pause", "resume", "trigger", "cancel"];

/**
 * The dashboard's JSON API: the same shapes `bgjobs --json` prints. Reads are GETs; writes
 * (already checked for origin, header and read-only by the server) are POSTs. A job action
 * runs as an operation the page polls (`GET /api/operations/:id`), so "all matching" runs
 * here in batches, never in the browser.
 */
export async function route(
  context: ApiContext,
  method: string,
  url: URL,
  body: unknown,
): Promise<Answer> {
  const { ops } = context;
  const path = url.pathname.replace(/\/+$/, "");
  const parts = path.split("/").slice(2).map(decodeURIComponent);
  const ok = (value: unknown): Answer => ({ status: 200, body: value });
  if (method === "GET") {
    switch (parts[0]) {
      case "config":
        return ok({
          title: context.title,
          readOnly: context.readOnly,
          actor: ops.actor,
          actions: JOB_ACTIONS,
          lanes: LANES,
        });
      case "overview":
        return ok(await cachedOverview(context));
      case "types":
        return ok(await ops.knownTypes());
      case "jobs": {
        if (parts[1]) {
          const detail = await ops.getJob(parts[1]);
          return detail ? ok(detail) : { status: 404, body: { error: `no job ${parts[1]}` } };
        }
        const q = url.searchParams;
        const limit = q.get("limit");
        const cursor = q.get("cursor");
        return ok(
          await ops.listJobs(filterFromQuery(q), {
            ...(limit ? { limit: Number(limit) } : {}),
            ...(cursor ? { cursor } : {}),
          }),
        );
      }
      case "schedules":
        if (parts[1] === "next")
          return ok(await ops.scheduleNext(url.searchParams.get("text") ?? ""));
        return ok(await ops.listSchedules());
      case "lanes":
        return ok(await ops.laneStats());
      case "dlq": {
        const lane = url.searchParams.get("lane");
        return ok(await ops.deadLetters(lane ? { lane: laneOf(lane) } : {}));
      }
      case "operations": {
        const operation = context.operations.get(parts[1] ?? "");
        if (!operation) return { status: 404, body: { error: "no such operation" } };
        const { abort: _abort, ...visible } = operation;
        return ok(visible);
      }
    }
    return { status: 404, body: { error: `no ${path}` } };
  }
  // POST
  switch (parts[0]) {
    case "jobs":
      if (parts[1] === "count") return ok(await ops.countMatching(actionRequest(body)));
      if (parts[1] === "action") {
        const request = actionRequest(body);
        ops.check(request); // a bad request is a 400 here, not a failed operation
        // The page sends the count it showed (for the progress bar); a selection is its size.
        const expected = (body as { expected?: unknown }).expected;
        const total =
          "ids" in request.target
            ? request.target.ids.length
            : typeof expected === "number" && Number.isInteger(expected) && expected >= 0
              ? expected
              : undefined;
        return ok(
          start(context, `jobs ${request.action}`, total, (signal, progress) =>
            ops.act(request, { signal, onProgress: progress }),
          ),
        );
      }
      break;
    case "schedules": {
      const action = parts[2] as ScheduleAction;
      if (!parts[1] || !SCHEDULE_ACTIONS.includes(action))
        throw new JobValidationError("action", `must be one of ${SCHEDULE_ACTIONS.join(", ")}`);
      return ok(await ops.scheduleAction(parts[1], action));
    }
    case "dlq":
      if (parts[1] === "redrive") {
        const lanes = (body as { lanes?: unknown })?.lanes;
        const only = Array.isArray(lanes) ? lanes.map((lane) => laneOf(String(lane))) : undefined;
        return ok(
          start(context, "dlq redrive", undefined, (_signal, progress) =>
            ops.redriveDeadLetters({
              ...(only ? { lanes: only } : {}),
              onMessage: (done) => progress({ done }),
            }),
          ),
        );
      }
      break;
    case "operations":
      if (parts[2] === "stop") {
        const operation = context.operations.get(parts[1] ?? "");
        if (!operation) return { status: 404, body: { error: "no such operation" } };
        operation.abort.abort();
        return ok({ stopping: true });
      }
      break;
  }
  return { status: 404, body: { error: `no ${path}` } };
}

/** The jobs page's URL filters (`type`, `tenant`, `status=a,b`, `lane`, `since`, `until`, `data`). */
export function filterFromQuery(q: URLSearchParams): JobFilter {
  return filterFromSurface((name) => q.get(name));
}

function actionRequest(body: unknown): ActionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new JobValidationError("body", "must be an object such as { action, target }");
  const { expected: _expected, ...request } = body as ActionRequest & { expected?: unknown };
  return request;
}

function laneOf(lane: string): LaneName {
  if (!LANES.includes(lane as LaneName))
    throw new JobValidationError("lane", `must be one of ${LANES.join(", ")}`);
  return lane as LaneName;
}

/** Starts an operation in the background; the page polls it. */
function start(
  context: ApiContext,
  kind: string,
  total: number | undefined,
  run: (signal: AbortSignal, progress: (report: unknown) => void) => Promise<unknown>,
): { operationId: string } {
  const operation: Operation = {
    id: randomUUID(),
    kind,
    state: "running",
    startedAt: Date.now(),
    abort: new AbortController(),
    ...(total !== undefined ? { total } : {}),
  };
  context.operations.set(operation.id, operation);
  for (const old of [...context.operations.values()].slice(0, -KEEP_OPERATIONS)) {
    if (old.state !== "running") context.operations.delete(old.id);
  }
  run(operation.abort.signal, (report) => {
    operation.report = report;
  }).then(
    (report) => {
      operation.report = report;
      operation.state = "done";
    },
    (error: unknown) => {
      operation.error = (error as Error).message;
      operation.state = "failed";
    },
  );
  return { operationId: operation.id };
}
