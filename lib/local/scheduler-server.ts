import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobLogger } from "../log.ts";
import { nextFireTimes, parseScheduleExpression } from "../schedule/eventbridge.ts";

/**
 * A local EventBridge Scheduler: the REST-JSON wire protocol `@aws-sdk/client-scheduler`
 * speaks, for CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules and
 * the schedule-group calls. It validates as AWS does for the forms used here, fires each
 * schedule's target at its evaluated times (an SQS `SendMessage`, universal or templated
 * target), deletes one-time schedules after they fire when asked to, and keeps its schedules
 * in a file so they survive a restart.
 */
export interface LocalScheduler {
  endpoint: string;
  stop(): Promise<void>;
}

interface Schedule {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  State: "ENABLED" | "DISABLED";
  Description?: string;
  FlexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  Target: { Arn: string; RoleArn: string; Input?: string; [key: string]: unknown };
  ActionAfterCompletion?: "NONE" | "DELETE";
  CreationDate: number;
  LastModificationDate: number;
  /** The last instant it fired for (epoch ms): never fire one instant twice. */
  lastFired?: number;
}

interface Group {
  Name: string;
  Arn: string;
  State: "ACTIVE";
  CreationDate: number;
  LastModificationDate: number;
}

const ACCOUNT = "000000000000";
const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const UNIVERSAL_SQS_SEND = "arn:aws:scheduler:::aws-sdk:sqs:sendMessage";
/** Timers further out than this are re-armed on the way (setTimeout's limit is ~24.8 days). */
const MAX_TIMER_MS = 6 * 3600 * 1000;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startLocalScheduler(options: {
  sqs: SQSClient;
  region: string;
  logger: JobLogger;
  /** Where schedules are kept across restarts; in memory when omitted. */
  stateFile?: string;
}): Promise<LocalScheduler> {
  const { sqs, region, logger, stateFile } = options;
  const groups = new Map<string, Group>();
  const schedules = new Map<string, Schedule>();
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  const groupArn = (name: string) =>
    `arn:aws:scheduler:${region}:${ACCOUNT}:schedule-group/${name}`;
  const key = (group: string, name: string) => `${group}/${name}`;
  const seconds = (ms: number) => ms / 1000;

  function addGroup(name: string, now = Date.now()): Group {
    const group: Group = {
      Name: name,
      Arn: groupArn(name),
      State: "ACTIVE",
      CreationDate: now,
      LastModificationDate: now,
    };
    groups.set(name, group);
    return group;
  }

  function save(): void {
    if (!stateFile) return;
    const state = { groups: [...groups.values()], schedules: [...schedules.values()] };
    mkdirSync(dirname(stateFile), { recursive: true });
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${stateFile}.tmp`, stateFile);
  }

  function nextFire(schedule: Schedule, after: number): number | null {
    const expression = parseScheduleExpression(schedule.ScheduleExpression);
    const start = schedule.StartDate ?? schedule.CreationDate;
    const [next] = nextFireTimes(expression, {
      after: new Date(after),
      count: 1,
      startDate: new Date(start),
      ...(schedule.EndDate !== undefined ? { endDate: new Date(schedule.EndDate) } : {}),
    });
    if (!next) return null;
    // Nothing fires before StartDate.
    if (expression.kind === "cron" && next.getTime() < start) return nextFire(schedule, start - 1);
    return next.getTime();
  }

  function arm(schedule: Schedule): void {
    const id = key(schedule.GroupName, schedule.Name);
    clearTimeout(timers.get(id));
    timers.delete(id);
    if (stopped || schedule.State !== "ENABLED") return;
    const expression = parseScheduleExpression(schedule.ScheduleExpression);
    // A one-time schedule that came due while the server was down fires now.
    const due =
      expression.kind === "at"
        ? schedule.lastFired === undefined
          ? expression.at
          : null
        : nextFire(schedule, Math.max(Date.now(), schedule.lastFired ?? 0));
    if (due === null) {
      if (schedule.ActionAfterCompletion === "DELETE") remove(schedule);
      return;
    }
    const delay = Math.max(0, due - Date.now());
    const timer = setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) arm(schedule);
        else void fire(schedule, due);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    timer.unref();
    timers.set(id, timer);
  }

  async function fire(schedule: Schedule, scheduledTime: number): Promise<void> {
    const id = key(schedule.GroupName, schedule.Name);
    if (schedules.get(id) !== schedule) return; // deleted or replaced meanwhile
    schedule.lastFired = scheduledTime;
    save();
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        await deliver(schedule, scheduledTime, attempt);
        break;
      } catch (error) {
        logger.warn("scheduler target failed", {
          schedule: schedule.Name,
          attempt,
          error: (error as Error).message,
        });
        if (attempt < 3) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
    if (schedules.get(id) !== schedule) return;
    if (parseScheduleExpression(schedule.ScheduleExpression).kind === "at") {
      if (schedule.ActionAfterCompletion === "DELETE") remove(schedule);
      return;
    }
    arm(schedule);
  }

  async function deliver(
    schedule: Schedule,
    scheduledTime: number,
    attempt: number,
  ): Promise<void> {
    const context: Record<string, string> = {
      "<aws.scheduler.schedule-arn>": schedule.Arn,
      "<aws.scheduler.scheduled-time>": new Date(scheduledTime)
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z"),
      "<aws.scheduler.execution-id>": randomUUID(),
      "<aws.scheduler.attempt-number>": String(attempt),
    };
    let input = schedule.Target.Input ?? "";
    for (const [placeholder, value] of Object.entries(context))
      input = input.split(placeholder).join(value);
    if (schedule.Target.Arn === UNIVERSAL_SQS_SEND) {
      const params = JSON.parse(input) as {
        QueueUrl: string;
        MessageBody: string;
        DelaySeconds?: number;
        MessageGroupId?: string;
      };
      await sqs.send(new SendMessageCommand(params));
      return;
    }
    const queue = /^arn:aws:sqs:[^:]+:[^:]+:(.+)$/.exec(schedule.Target.Arn);
    if (queue) {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue[1] }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: input }));
      return;
    }
    throw new Error(`target ${schedule.Target.Arn} is not supported locally (SQS targets only)`);
  }

  function remove(schedule: Schedule): void {
    const id = key(schedule.GroupName, schedule.Name);
    clearTimeout(timers.get(id));
    timers.delete(id);
    schedules.delete(id);
    save();
  }

  function validSchedule(
    name: string,
    body: Record<string, unknown>,
    existing?: Schedule,
  ): Schedule {
    if (!NAME.test(name)) {
      throw new ApiError(
        400,
        "ValidationException",
        `Schedule name ${name} must match [0-9a-zA-Z-_.]{1,64}.`,
      );
    }
    const groupName = typeof body.GroupName === "string" ? body.GroupName : "default";
    if (!groups.has(groupName))
      throw new ApiError(
        404,
        "ResourceNotFoundException",
        `Schedule group ${groupName} does not exist.`,
      );
    const expression = body.ScheduleExpression;
    if (typeof expression !== "string")
      throw new ApiError(400, "ValidationException", "ScheduleExpression is required.");
    try {
      parseScheduleExpression(expression);
    } catch (error) {
      throw new ApiError(400, "ValidationException", (error as Error).message);
    }
    const zone = body.ScheduleExpressionTimezone;
    if (zone !== undefined && zone !== "UTC" && zone !== "Etc/UTC") {
      throw new ApiError(
        400,
        "ValidationException",
        `Only UTC schedules are evaluated locally, got ${String(zone)}.`,
      );
    }
    const window = body.FlexibleTimeWindow as Schedule["FlexibleTimeWindow"] | undefined;
    if (!window || (window.Mode !== "OFF" && window.Mode !== "FLEXIBLE")) {
      throw new ApiError(
        400,
        "ValidationException",
        "FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.",
      );
    }
    const target = body.Target as Schedule["Target"] | undefined;
    if (!target || typeof target.Arn !== "string" || typeof target.RoleArn !== "string") {
      throw new ApiError(400, "ValidationException", "Target.Arn and Target.RoleArn are required.");
    }
    const now = Date.now();
    const schedule: Schedule = {
      Name: name,
      GroupName: groupName,
      Arn: `arn:aws:scheduler:${region}:${ACCOUNT}:schedule/${groupName}/${name}`,
      ScheduleExpression: expression,
      State: body.State === "DISABLED" ? "DISABLED" : "ENABLED",
      FlexibleTimeWindow: window,
      Target: target,
      CreationDate: existing?.CreationDate ?? now,
      LastModificationDate: now,
    };
    if (typeof zone === "string") schedule.ScheduleExpressionTimezone = zone;
    if (typeof body.StartDate === "number") schedule.StartDate = body.StartDate * 1000;
    if (typeof body.EndDate === "number") schedule.EndDate = body.EndDate * 1000;
    if (typeof body.Description === "string") schedule.Description = body.Description;
    if (body.ActionAfterCompletion === "DELETE" || body.ActionAfterCompletion === "NONE") {
      schedule.ActionAfterCompletion = body.ActionAfterCompletion;
    }
    return schedule;
  }

  function describe(schedule: Schedule) {
    const {
      lastFired: _lastFired,
      CreationDate,
      LastModificationDate,
      StartDate,
      EndDate,
      ...rest
    } = schedule;
    return {
      ...rest,
      CreationDate: seconds(CreationDate),
      LastModificationDate: seconds(LastModificationDate),
      ...(StartDate !== undefined ? { StartDate: seconds(StartDate) } : {}),
      ...(EndDate !== undefined ? { EndDate: seconds(EndDate) } : {}),
    };
  }

  function page<T>(items: T[], query: URLSearchParams): { items: T[]; NextToken?: string } {
    const max = Math.min(Number(query.get("MaxResults") ?? 100) || 100, 100);
    const from = Number(query.get("NextToken") ?? 0) || 0;
    const slice = items.slice(from, from + max);
    return from + max < items.length
      ? { items: slice, NextToken: String(from + max) }
      : { items: slice };
  }

  async function route(method: string, url: URL, body: Record<string, unknown>): Promise<unknown> {
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const query = url.searchParams;
    if (parts[0] === "schedules" && parts.length === 2) {
      const name = parts[1] as string;
      const group =
        (method === "POST" || method === "PUT"
          ? (body.GroupName as string)
          : query.get("groupName")) ?? "default";
      const existing = schedules.get(key(group, name));
      if (method === "POST") {
        const schedule = validSchedule(name, body);
        if (existing)
          throw new ApiError(409, "ConflictException", `Schedule ${name} already exists.`);
        schedules.set(key(schedule.GroupName, name), schedule);
        save();
        arm(schedule);
        return { ScheduleArn: schedule.Arn };
      }
      if (!existing)
        throw new ApiError(404, "ResourceNotFoundException", `Schedule ${name} does not exist.`);
      if (method === "GET") return describe(existing);
      if (method === "PUT") {
        const schedule = validSchedule(name, body, existing);
        schedules.set(key(schedule.GroupName, name), schedule);
        save();
        arm(schedule);
        return { ScheduleArn: schedule.Arn };
      }
      if (method === "DELETE") {
        remove(existing);
        return {};
      }
    }
    if (parts[0] === "schedules" && parts.length === 1 && method === "GET") {
      const group = query.get("ScheduleGroup");
      const prefix = query.get("NamePrefix") ?? "";
      const state = query.get("State");
      const matching = [...schedules.values()]
        .filter(
          (s) =>
            (!group || s.GroupName === group) &&
            s.Name.startsWith(prefix) &&
            (!state || s.State === state),
        )
        .sort((a, b) => a.Name.localeCompare(b.Name));
      const { items, NextToken } = page(matching, query);
      return {
        Schedules: items.map((s) => ({
          Arn: s.Arn,
          Name: s.Name,
          GroupName: s.GroupName,
          State: s.State,
          CreationDate: seconds(s.CreationDate),
          LastModificationDate: seconds(s.LastModificationDate),
          Target: { Arn: s.Target.Arn },
        })),
        ...(NextToken ? { NextToken } : {}),
      };
    }
    if (parts[0] === "schedule-groups" && parts.length === 2) {
      const name = parts[1] as string;
      const existing = groups.get(name);
      if (method === "POST") {
        if (!NAME.test(name))
          throw new ApiError(400, "ValidationException", `Group name ${name} is not valid.`);
        if (existing)
          throw new ApiError(409, "ConflictException", `Schedule group ${name} already exists.`);
        const group = addGroup(name);
        save();
        return { ScheduleGroupArn: group.Arn };
      }
      if (!existing)
        throw new ApiError(
          404,
          "ResourceNotFoundException",
          `Schedule group ${name} does not exist.`,
        );
      if (method === "GET") {
        return {
          ...existing,
          CreationDate: seconds(existing.CreationDate),
          LastModificationDate: seconds(existing.LastModificationDate),
        };
      }
      if (method === "DELETE") {
        if (name === "default")
          throw new ApiError(400, "ValidationException", "The default group cannot be deleted.");
        for (const schedule of [...schedules.values()])
          if (schedule.GroupName === name) remove(schedule);
        groups.delete(name);
        save();
        return {};
      }
    }
    if (parts[0] === "schedule-groups" && parts.length === 1 && method === "GET") {
      const prefix = query.get("NamePrefix") ?? "";
      const { items, NextToken } = page(
        [...groups.values()].filter((g) => g.Name.startsWith(prefix)),
        query,
      );
      return {
        ScheduleGroups: items.map((g) => ({
          ...g,
          CreationDate: seconds(g.CreationDate),
          LastModificationDate: seconds(g.LastModificationDate),
        })),
        ...(NextToken ? { NextToken } : {}),
      };
    }
    throw new ApiError(
      404,
      "UnknownOperationException",
      `${method} ${url.pathname} is not an operation of this server.`,
    );
  }

  // Restore what was kept, then serve.
  if (stateFile && existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
      groups: Group[];
      schedules: Schedule[];
    };
    for (const group of state.groups) groups.set(group.Name, group);
    for (const schedule of state.schedules)
      schedules.set(key(schedule.GroupName, schedule.Name), schedule);
  }
  if (!groups.has("default")) addGroup("default");
  for (const schedule of schedules.values()) arm(schedule);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => {
      raw += chunk.toString();
    });
    req.on("end", async () => {
      res.setHeader("content-type", "application/json");
      try {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        const result = await route(
          req.method ?? "GET",
          new URL(req.url ?? "/", "http://local"),
          body,
        );
        res.end(JSON.stringify(result));
      } catch (error) {
        const api =
          error instanceof ApiError
            ? error
            : new ApiError(500, "InternalServerException", (error as Error).message);
        res.statusCode = api.status;
        res.setHeader("x-amzn-errortype", api.type);
        res.end(JSON.stringify({ Message: api.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
