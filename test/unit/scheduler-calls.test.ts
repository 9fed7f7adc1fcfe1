import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { EventBridgeSchedules } from "../../lib/aws/schedules.ts";

const client = new SchedulerClient({ region: "us-east-1" });
const scheduler = mockClient(client);
const queueUrls = {
  critical: "https://q/critical",
  normal: "https://q/normal",
  low: "https://q/low",
};
const schedules = new EventBridgeSchedules(client, {
  groupName: "jobs",
  roleArn: "arn:aws:iam::123456789012:role/jobs-scheduler",
  queueUrls,
});

beforeEach(() => scheduler.reset());

describe("EventBridge Scheduler calls", () => {
  it("a recurring schedule: the expression in UTC, no flexible window, the lane as a universal SQS target", async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn" });
    await schedules.armRecurring("job-T1", "cron(0 0 * * ? *)", undefined, "normal", {
      id: "T1",
      type: "sitemaps/generate",
      firedAt: "<aws.scheduler.scheduled-time>",
    });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: "job-T1",
      GroupName: "jobs",
      ScheduleExpression: "cron(0 0 * * ? *)",
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
        RoleArn: "arn:aws:iam::123456789012:role/jobs-scheduler",
        Input: JSON.stringify({
          QueueUrl: queueUrls.normal,
          MessageBody: JSON.stringify({
            id: "T1",
            type: "sitemaps/generate",
            firedAt: "<aws.scheduler.scheduled-time>",
          }),
        }),
      },
    });
  });

  it("a rate() carries its aligned StartDate; an existing schedule is updated", async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error("exists"), { name: "ConflictException" }));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: "arn" });
    const start = new Date("2026-11-28T11:00:00Z");
    await schedules.armRecurring("job-T2", "rate(15 minutes)", start, "low", {
      id: "T2",
      type: "t",
    });
    const update = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
    expect(update).toMatchObject({
      Name: "job-T2",
      ScheduleExpression: "rate(15 minutes)",
      StartDate: start,
    });
  });

  it("a one-time at() deletes itself after it fires, and arming it twice is fine", async () => {
    scheduler
      .on(CreateScheduleCommand)
      .resolvesOnce({ ScheduleArn: "arn" })
      .rejects(Object.assign(new Error("exists"), { name: "ConflictException" }));
    const at = new Date("2026-11-28T12:20:00.500Z");
    await schedules.armOnce("at-J1-1795954800", at, "critical", { id: "J1", type: "t" });
    await schedules.armOnce("at-J1-1795954800", at, "critical", { id: "J1", type: "t" });
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      ScheduleExpression: "at(2026-11-28T12:20:00)",
      ActionAfterCompletion: "DELETE",
      FlexibleTimeWindow: { Mode: "OFF" },
    });
    expect(JSON.parse(input?.Target?.Input ?? "{}").QueueUrl).toBe(queueUrls.critical);
  });

  it("deleting a schedule that is already gone is fine; other errors are not", async () => {
    scheduler
      .on(DeleteScheduleCommand)
      .rejectsOnce(Object.assign(new Error("gone"), { name: "ResourceNotFoundException" }))
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    await expect(schedules.remove("job-T1")).resolves.toBeUndefined();
    await expect(schedules.remove("job-T1")).rejects.toThrow("Rate exceeded");
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
      Name: "job-T1",
      GroupName: "jobs",
    });
  });
});
