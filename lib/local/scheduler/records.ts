import { parseScheduleExpression } from "../../schedule/eventbridge.ts";
import type { BookEntry } from "./book.ts";
import { SCHEDULE_NAME } from "./book.ts";

/** A schedule as the local server keeps it (times in epoch ms; the wire has seconds). */
export interface Schedule {
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
}

export interface Group {
  Name: string;
  Arn: string;
  State: "ACTIVE";
  CreationDate: number;
  LastModificationDate: number;
}

/** An error as the Scheduler API answers it: HTTP status, `x-amzn-errortype`, message. */
export class SchedulerApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export const ACCOUNT = "000000000000";

/** The book's key of a schedule: names are unique per group. */
export function scheduleKey(group: string, name: string): string {
  return `${group}/${name}`;
}

/** How the book arms a schedule: `rate()` counts from StartDate, else from its creation. */
export function bookEntry(schedule: Schedule): BookEntry<Schedule> {
  return {
    key: scheduleKey(schedule.GroupName, schedule.Name),
    expression: parseScheduleExpression(schedule.ScheduleExpression),
    startDate: schedule.StartDate ?? schedule.CreationDate,
    ...(schedule.EndDate !== undefined ? { endDate: schedule.EndDate } : {}),
    enabled: schedule.State === "ENABLED",
    deleteAfterCompletion: schedule.ActionAfterCompletion === "DELETE",
    target: schedule,
  };
}

/**
 * A CreateSchedule/UpdateSchedule body checked as AWS checks the forms used here, made into a
 * schedule (an update keeps the creation date).
 */
export function validSchedule(
  name: string,
  body: Record<string, unknown>,
  context: { region: string; now: number; hasGroup(name: string): boolean; existing?: Schedule },
): Schedule {
  if (!SCHEDULE_NAME.test(name)) {
    throw new SchedulerApiError(
      400,
      "ValidationException",
      `Schedule name ${name} must match [0-9a-zA-Z-_.]{1,64}.`,
    );
  }
  const groupName = typeof body.GroupName === "string" ? body.GroupName : "default";
  if (!context.hasGroup(groupName))
    throw new SchedulerApiError(
      404,
      "ResourceNotFoundException",
      `Schedule group ${groupName} does not exist.`,
    );
  const expression = body.ScheduleExpression;
  if (typeof expression !== "string")
    throw new SchedulerApiError(400, "ValidationException", "ScheduleExpression is required.");
  try {
    parseScheduleExpression(expression);
  } catch (error) {
    throw new SchedulerApiError(400, "ValidationException", (error as Error).message);
  }
  const zone = body.ScheduleExpressionTimezone;
  if (zone !== undefined && zone !== "UTC" && zone !== "Etc/UTC") {
    throw new SchedulerApiError(
      400,
      "ValidationException",
      `Only UTC schedules are evaluated locally, got ${String(zone)}.`,
    );
  }
  const window = body.FlexibleTimeWindow as Schedule["FlexibleTimeWindow"] | undefined;
  if (!window || (window.Mode !== "OFF" && window.Mode !== "FLEXIBLE")) {
    throw new SchedulerApiError(
      400,
      "ValidationException",
      "FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.",
    );
  }
  const target = body.Target as Schedule["Target"] | undefined;
  if (!target || typeof target.Arn !== "string" || typeof target.RoleArn !== "string") {
    throw new SchedulerApiError(
      400,
      "ValidationException",
      "Target.Arn and Target.RoleArn are required.",
    );
  }
  const schedule: Schedule = {
    Name: name,
    GroupName: groupName,
    Arn: `arn:aws:scheduler:${context.region}:${ACCOUNT}:schedule/${groupName}/${name}`,
    ScheduleExpression: expression,
    State: body.State === "DISABLED" ? "DISABLED" : "ENABLED",
    FlexibleTimeWindow: window,
    Target: target,
    CreationDate: context.existing?.CreationDate ?? context.now,
    LastModificationDate: context.now,
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

const seconds = (ms: number) => ms / 1000;

/** GetSchedule's answer: the schedule with its dates in epoch seconds. */
export function describeSchedule(schedule: Schedule) {
  const { CreationDate, LastModificationDate, StartDate, EndDate, ...rest } = schedule;
  return {
    ...rest,
    CreationDate: seconds(CreationDate),
    LastModificationDate: seconds(LastModificationDate),
    ...(StartDate !== undefined ? { StartDate: seconds(StartDate) } : {}),
    ...(EndDate !== undefined ? { EndDate: seconds(EndDate) } : {}),
  };
}

/** ListSchedules' entry for a schedule. */
export function scheduleSummary(s: Schedule) {
  return {
    Arn: s.Arn,
    Name: s.Name,
    GroupName: s.GroupName,
    State: s.State,
    CreationDate: seconds(s.CreationDate),
    LastModificationDate: seconds(s.LastModificationDate),
    Target: { Arn: s.Target.Arn },
  };
}

/** A group as GetScheduleGroup and ListScheduleGroups answer it. */
export function describeGroup(group: Group) {
  return {
    ...group,
    CreationDate: seconds(group.CreationDate),
    LastModificationDate: seconds(group.LastModificationDate),
  };
}
