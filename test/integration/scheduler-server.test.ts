import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import { describe, expect, it } from "vitest";
import { useLocalApp } from "../support/local-app.ts";

const stack = useLocalApp();

const target = {
  Arn: "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
  RoleArn: "arn:aws:iam::000000000000:role/r",
  Input: "{}",
};

function schedule(name: string, expression: string, group?: string) {
  return new CreateScheduleCommand({
    Name: name,
    ...(group ? { GroupName: group } : {}),
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: "OFF" },
    Target: target,
  });
}

describe("the local EventBridge Scheduler server, through the real SchedulerClient", () => {
  it("validates names and expressions as AWS does", async () => {
    await expect(
      stack.scheduler.send(schedule("bad name!", "rate(1 minute)")),
    ).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(
      stack.scheduler.send(schedule("both-days", "cron(0 0 * * * *)")),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("exactly one of day-of-month and day-of-week"),
    });
    await expect(
      stack.scheduler.send(schedule("bad-rate", "rate(30 seconds)")),
    ).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(
      stack.scheduler.send(schedule("no-group", "rate(1 minute)", "missing")),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("creates, reads, updates, conflicts and deletes", async () => {
    await stack.scheduler.send(schedule("crud", "cron(0 12 ? * MON-FRI *)"));
    await expect(stack.scheduler.send(schedule("crud", "rate(1 minute)"))).rejects.toMatchObject({
      name: "ConflictException",
    });
    const got = await stack.scheduler.send(new GetScheduleCommand({ Name: "crud" }));
    expect(got).toMatchObject({
      Name: "crud",
      GroupName: "default",
      ScheduleExpression: "cron(0 12 ? * MON-FRI *)",
      State: "ENABLED",
    });
    expect(got.CreationDate).toBeInstanceOf(Date);
    await stack.scheduler.send(
      new UpdateScheduleCommand({
        Name: "crud",
        ScheduleExpression: "rate(5 minutes)",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: target,
      }),
    );
    expect(
      (await stack.scheduler.send(new GetScheduleCommand({ Name: "crud" }))).ScheduleExpression,
    ).toBe("rate(5 minutes)");
    await stack.scheduler.send(new DeleteScheduleCommand({ Name: "crud" }));
    await expect(
      stack.scheduler.send(new GetScheduleCommand({ Name: "crud" })),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("lists schedules page by page, across every group when none is named", async () => {
    await stack.scheduler.send(new CreateScheduleGroupCommand({ Name: "other" }));
    for (let i = 0; i < 5; i += 1)
      await stack.scheduler.send(schedule(`page-${i}`, "rate(1 day)", i % 2 ? "other" : undefined));
    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await stack.scheduler.send(
        new ListSchedulesCommand({ NamePrefix: "page-", MaxResults: 2, NextToken }),
      );
      names.push(...(page.Schedules ?? []).map((s) => `${s.GroupName}/${s.Name}`));
      NextToken = page.NextToken;
      pages += 1;
    } while (NextToken);
    expect(pages).toBe(3);
    expect(names.sort()).toEqual([
      "default/page-0",
      "default/page-2",
      "default/page-4",
      "other/page-1",
      "other/page-3",
    ]);
    const inOther = await stack.scheduler.send(
      new ListSchedulesCommand({ GroupName: "other", NamePrefix: "page-" }),
    );
    expect(inOther.Schedules?.map((s) => s.Name).sort()).toEqual(["page-1", "page-3"]);
  });
});
