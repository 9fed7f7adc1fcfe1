import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { SCHEDULE_NAME } from "./book.ts";
import {
  describeGroup,
  describeSchedule,
  SchedulerApiError,
  scheduleSummary,
  validSchedule,
} from "./records.ts";
import type { ScheduleRegistry } from "./registry.ts";

/**
 * The EventBridge Scheduler REST-JSON wire protocol `@aws-sdk/client-scheduler` speaks, for
 * CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules and the
 * schedule-group calls, on 127.0.0.1 (a free port). Errors carry `x-amzn-errortype`.
 */
export async function serveSchedulerApi(
  registry: ScheduleRegistry,
  context: { region: string; now(): number },
): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => {
      raw += chunk.toString();
    });
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      try {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        const url = new URL(req.url ?? "/", "http://local");
        res.end(JSON.stringify(route(registry, context, req.method ?? "GET", url, body)));
      } catch (error) {
        const api =
          error instanceof SchedulerApiError
            ? error
            : new SchedulerApiError(500, "InternalServerException", (error as Error).message);
        res.statusCode = api.status;
        res.setHeader("x-amzn-errortype", api.type);
        res.end(JSON.stringify({ Message: api.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}` };
}

function route(
  registry: ScheduleRegistry,
  context: { region: string; now(): number },
  method: string,
  url: URL,
  body: Record<string, unknown>,
): unknown {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const query = url.searchParams;
  const notFound = (what: string) =>
    new SchedulerApiError(404, "ResourceNotFoundException", `${what} does not exist.`);
  if (parts[0] === "schedules" && parts.length === 2) {
    const name = parts[1] as string;
    const group =
      (method === "POST" || method === "PUT"
        ? (body.GroupName as string)
        : query.get("groupName")) ?? "default";
    const existing = registry.schedule(group, name);
    const valid = () =>
      validSchedule(name, body, {
        region: context.region,
        now: context.now(),
        hasGroup: (g) => registry.group(g) !== undefined,
        ...(existing ? { existing } : {}),
      });
    if (method === "POST") {
      const schedule = valid();
      if (existing)
        throw new SchedulerApiError(409, "ConflictException", `Schedule ${name} already exists.`);
      registry.putSchedule(schedule);
      return { ScheduleArn: schedule.Arn };
    }
    if (!existing) throw notFound(`Schedule ${name}`);
    if (method === "GET") return describeSchedule(existing);
    if (method === "PUT") {
      const schedule = valid();
      registry.putSchedule(schedule);
      return { ScheduleArn: schedule.Arn };
    }
    if (method === "DELETE") {
      registry.deleteSchedule(existing);
      return {};
    }
  }
  if (parts[0] === "schedules" && parts.length === 1 && method === "GET") {
    const group = query.get("ScheduleGroup");
    const prefix = query.get("NamePrefix") ?? "";
    const state = query.get("State");
    const matching = registry
      .schedules()
      .filter(
        (s) =>
          (!group || s.GroupName === group) &&
          s.Name.startsWith(prefix) &&
          (!state || s.State === state),
      )
      .sort((a, b) => a.Name.localeCompare(b.Name));
    const { items, NextToken } = page(matching, query);
    return { Schedules: items.map(scheduleSummary), ...(NextToken ? { NextToken } : {}) };
  }
  if (parts[0] === "schedule-groups" && parts.length === 2) {
    const name = parts[1] as string;
    const existing = registry.group(name);
    if (method === "POST") {
      if (!SCHEDULE_NAME.test(name))
        throw new SchedulerApiError(400, "ValidationException", `Group name ${name} is not valid.`);
      if (existing)
        throw new SchedulerApiError(
          409,
          "ConflictException",
          `Schedule group ${name} already exists.`,
        );
      return { ScheduleGroupArn: registry.addGroup(name).Arn };
    }
    if (!existing) throw notFound(`Schedule group ${name}`);
    if (method === "GET") return describeGroup(existing);
    if (method === "DELETE") {
      if (name === "default")
        throw new SchedulerApiError(
          400,
          "ValidationException",
          "The default group cannot be deleted.",
        );
      registry.deleteGroup(name);
      return {};
    }
  }
  if (parts[0] === "schedule-groups" && parts.length === 1 && method === "GET") {
    const prefix = query.get("NamePrefix") ?? "";
    const { items, NextToken } = page(
      registry.groups().filter((g) => g.Name.startsWith(prefix)),
      query,
    );
    return { ScheduleGroups: items.map(describeGroup), ...(NextToken ? { NextToken } : {}) };
  }
  throw new SchedulerApiError(
    404,
    "UnknownOperationException",
    `${method} ${url.pathname} is not an operation of this server.`,
  );
}

/** One page of a listing: `MaxResults` (at most 100) from the offset `NextToken` names. */
function page<T>(items: T[], query: URLSearchParams): { items: T[]; NextToken?: string } {
  const max = Math.min(Number(query.get("MaxResults") ?? 100) || 100, 100);
  const from = Number(query.get("NextToken") ?? 0) || 0;
  const slice = items.slice(from, from + max);
  return from + max < items.length
    ? { items: slice, NextToken: String(from + max) }
    : { items: slice };
}
