/**
 * The local EventBridge Scheduler server through the real `SchedulerClient`, on fauxqs and a
 * manual clock (no DynamoDB Local: the server needs none): the wire protocol, and firing as
 * the clock reaches each instant.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/local/clock.ts";
import { type LocalScheduler, startLocalScheduler } from "../../lib/local/scheduler/server.ts";
import { type LocalSqs, startLocalSqs } from "../../lib/local/sqs-server.ts";
import { silentLogger } from "../../lib/log.ts";

const REGION = "us-east-1";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
/** 10:00:30 UTC: between minute boundaries, so "the next minute" is unambiguous. */
const T0 = Date.UTC(2026, 0, 5, 10, 0, 30);

let sqsServer: LocalSqs;
let sqs: SQSClient;
let queueUrl: string;
/** The server most tests share, on `clock`. */
let shared: { scheduler: LocalScheduler; client: SchedulerClient } | undefined;

/** A scheduler server on `clock` (and `stateFile`), with a client on it. */
async function startScheduler(clock: ManualClock, stateFile?: string) {
  const scheduler = await startLocalScheduler({
    sqs,
    region: REGION,
    logger: silentLogger,
    clock,
    ...(stateFile ? { stateFile } : {}),
  });
  const client = new SchedulerClient({ region: REGION, endpoint: scheduler.endpoint, credentials });
  return {
    scheduler,
    client,
    stop: async () => {
      client.destroy();
      await scheduler.stop();
    },
  };
}

const clock = new ManualClock(T0);
const stack = {
  get scheduler(): SchedulerClient {
    if (!shared) throw new Error("the shared scheduler is not started yet");
    return shared.client;
  },
};

beforeAll(async () => {
  sqsServer = await startLocalSqs();
  sqs = new SQSClient({ region: REGION, endpoint: sqsServer.endpoint, credentials });
  ({ QueueUrl: queueUrl = "" } = await sqs.send(new CreateQueueCommand({ QueueName: "fired" })));
  shared = await startScheduler(clock);
});
afterAll(async () => {
  shared?.client.destroy();
  await shared?.scheduler.stop();
  sqs?.destroy();
  await sqsServer?.stop();
});

/** Receives (and deletes) every message on the queue until one receive comes back empty. */
async function drain(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? "");
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

/** A universal SQS target whose body names the schedule and the instant it fired for. */
function firingTarget(tag: string) {
  return {
    Arn: "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
    RoleArn: "arn:aws:iam::000000000000:role/r",
    Input: JSON.stringify({
      QueueUrl: queueUrl,
      MessageBody: `${tag}@<aws.scheduler.scheduled-time>`,
    }),
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");

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

describe("the local Scheduler server fires from its clock", () => {
  it("fires a recurring schedule for each instant the clock passes, with its scheduled time", async () => {
    const start = Date.UTC(2026, 0, 5, 10, 1, 0);
    await stack.scheduler.send(
      new CreateScheduleCommand({
        Name: "every-minute",
        ScheduleExpression: "rate(1 minute)",
        StartDate: new Date(start),
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: firingTarget("rate"),
      }),
    );
    await stack.scheduler.send(
      new CreateScheduleCommand({
        Name: "at-quarter",
        ScheduleExpression: "cron(15,45 * * * ? *)",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: firingTarget("cron"),
      }),
    );
    await clock.set(start - 1);
    expect(await drain()).toEqual([]);
    await clock.set(Date.UTC(2026, 0, 5, 10, 3, 0));
    expect(await drain()).toEqual([
      `rate@${iso(start)}`,
      `rate@${iso(start + 60_000)}`,
      `rate@${iso(start + 120_000)}`,
    ]);
    // An update keeps what it fired: 10:03 does not fire again.
    await stack.scheduler.send(
      new UpdateScheduleCommand({
        Name: "every-minute",
        ScheduleExpression: "rate(1 minute)",
        StartDate: new Date(start),
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: firingTarget("rate"),
      }),
    );
    await clock.set(Date.UTC(2026, 0, 5, 10, 15, 0));
    const fired = await drain();
    expect(fired.filter((b) => b.startsWith("rate@"))).toHaveLength(12); // 10:04 ... 10:15
    expect(fired.filter((b) => b.startsWith("cron@"))).toEqual([
      `cron@${iso(Date.UTC(2026, 0, 5, 10, 15, 0))}`,
    ]);
    for (const name of ["every-minute", "at-quarter"])
      await stack.scheduler.send(new DeleteScheduleCommand({ Name: name }));
    await clock.advance(3_600_000);
    expect(await drain()).toEqual([]);
  });

  it("fires a one-time at() once, late when it came due before; deletes it when asked", async () => {
    const at = clock.now() + 90_000;
    const once = (name: string, when: number, after?: "DELETE" | "NONE") =>
      new CreateScheduleCommand({
        Name: name,
        ScheduleExpression: `at(${new Date(when).toISOString().slice(0, 19)})`,
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: firingTarget(name),
        ...(after ? { ActionAfterCompletion: after } : {}),
      });
    await stack.scheduler.send(once("once-delete", at, "DELETE"));
    await stack.scheduler.send(once("once-keep", at, "NONE"));
    await stack.scheduler.send(once("once-late", clock.now() - 3_600_000, "DELETE"));
    await clock.advance(0);
    expect(await drain()).toEqual([
      `once-late@${iso(Math.floor((clock.now() - 3_600_000) / 1000) * 1000)}`,
    ]);
    await clock.set(at);
    expect((await drain()).sort()).toEqual(
      [
        `once-delete@${iso(Math.floor(at / 1000) * 1000)}`,
        `once-keep@${iso(Math.floor(at / 1000) * 1000)}`,
      ].sort(),
    );
    const names = (
      await stack.scheduler.send(new ListSchedulesCommand({ NamePrefix: "once-" }))
    ).Schedules?.map((s) => s.Name);
    expect(names).toEqual(["once-keep"]);
    await clock.advance(6 * 3_600_000);
    expect(await drain()).toEqual([]);
  });

  it("never fires a disabled schedule, and keeps it", async () => {
    await stack.scheduler.send(
      new CreateScheduleCommand({
        Name: "disabled",
        ScheduleExpression: "rate(1 minute)",
        State: "DISABLED",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: firingTarget("disabled"),
      }),
    );
    await stack.scheduler.send(
      new CreateScheduleCommand({
        Name: "disabled-once",
        ScheduleExpression: `at(${new Date(clock.now() + 60_000).toISOString().slice(0, 19)})`,
        State: "DISABLED",
        ActionAfterCompletion: "DELETE",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: firingTarget("disabled-once"),
      }),
    );
    await clock.advance(10 * 60_000);
    expect(await drain()).toEqual([]);
    const names = (
      await stack.scheduler.send(new ListSchedulesCommand({ NamePrefix: "disabled" }))
    ).Schedules?.map((s) => s.Name);
    expect(names).toEqual(["disabled", "disabled-once"]);
  });

  it("keeps schedules across a restart: an at() due meanwhile fires then, a recurring one goes on from now", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scheduler-state-"));
    try {
      const stateFile = join(dir, "schedules.json");
      const before = new ManualClock(T0);
      const at = Date.UTC(2026, 0, 5, 10, 5, 0);
      const first = await startScheduler(before, stateFile);
      try {
        await first.client.send(new CreateScheduleGroupCommand({ Name: "kept" }));
        const start = Date.UTC(2026, 0, 5, 10, 1, 0);
        await first.client.send(
          new CreateScheduleCommand({
            Name: "kept-rate",
            GroupName: "kept",
            ScheduleExpression: "rate(1 minute)",
            StartDate: new Date(start),
            FlexibleTimeWindow: { Mode: "OFF" },
            Target: firingTarget("kept-rate"),
          }),
        );
        await first.client.send(
          new CreateScheduleCommand({
            Name: "kept-at",
            GroupName: "kept",
            ScheduleExpression: `at(${new Date(at).toISOString().slice(0, 19)})`,
            ActionAfterCompletion: "DELETE",
            FlexibleTimeWindow: { Mode: "OFF" },
            Target: firingTarget("kept-at"),
          }),
        );
        await before.set(start);
        expect(await drain()).toEqual([`kept-rate@${iso(start)}`]);
      } finally {
        await first.stop();
      }

      // Down from 10:01 to 10:10:30: the at() fires on start; 10:02 ... 10:10 are not caught up.
      const after = new ManualClock(Date.UTC(2026, 0, 5, 10, 10, 30));
      const second = await startScheduler(after, stateFile);
      try {
        const got = await second.client.send(
          new GetScheduleCommand({ Name: "kept-rate", GroupName: "kept" }),
        );
        expect(got.ScheduleExpression).toBe("rate(1 minute)");
        await after.advance(0);
        expect(await drain()).toEqual([`kept-at@${iso(at)}`]);
        await after.set(Date.UTC(2026, 0, 5, 10, 11, 0));
        expect(await drain()).toEqual([`kept-rate@${iso(Date.UTC(2026, 0, 5, 10, 11, 0))}`]);
        const names = (
          await second.client.send(new ListSchedulesCommand({ GroupName: "kept" }))
        ).Schedules?.map((s) => s.Name);
        expect(names).toEqual(["kept-rate"]);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
