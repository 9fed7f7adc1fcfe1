/**
 * Repeating jobs on the local stack, on its manual clock: time stands still until a test moves
 * it (`app.local.clock.advance`/`set`), the local Scheduler fires from it, and the lifecycle
 * reads it. So fire times are asserted exactly, and no test waits for a real minute boundary:
 * tests wait only for the stack to process what the clock fired.
 */

import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import {
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { Job } from "../../lib/index.ts";
import type { LaneName } from "../../lib/resources.ts";
import {
  deferred,
  restartableTable,
  schedulerClientFor,
  startLocalApp,
  tempDataDir,
  useLocalApp,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

// A delivery that met a fault comes back after 1 s of real time (default 10 s, as long as
// laneIdle waits), so a busy machine cannot leave one in flight past that wait.
const stack = useLocalApp({ clock: "manual", redeliveryDelaySeconds: 1 });
const clock = () => stack.app.local.clock;

async function scheduleNames(client: SchedulerClient): Promise<string[]> {
  const { Schedules } = await client.send(new ListSchedulesCommand({}));
  return (Schedules ?? []).map((s) => s.Name as string);
}

/** The instant an occurrence fired for, read from its id (`<template>-YYYYMMDDTHHMMSSZ`). */
function occurrenceInstant(templateId: string, occurrenceId: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    occurrenceId.slice(templateId.length + 1),
  );
  expect(occurrenceId.startsWith(`${templateId}-`) && match, occurrenceId).toBeTruthy();
  const [, year, month, day, hour, minute, second] = (match as RegExpExecArray).map(Number);
  return Date.UTC(
    year as number,
    (month as number) - 1,
    day as number,
    hour as number,
    minute as number,
    second as number,
  );
}

/**
 * Resolves once every message on `lane` was handled: none waiting, none in flight (so call it
 * only while no run on that lane is held). The manual clock holds delayed sends itself, so
 * nothing is delayed inside SQS.
 */
async function laneIdle(lane: LaneName): Promise<void> {
  await waitUntil(
    async () => {
      const { Attributes = {} } = await stack.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.app.local.queueUrls[lane],
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) === 0 &&
        Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 0
      );
    },
    10_000,
    `every message on the ${lane} lane handled`,
  );
}

/** The template's next instant, once the stack has recorded the firing before it. */
async function nextInstantAfter(templateId: string, firedAt: number): Promise<number> {
  let next = 0;
  await waitUntil(
    async () => {
      const doc = (await stack.app.context.backgroundJobs.getJob(templateId))?._doc;
      next = doc?.after.getTime() ?? 0;
      return next > firedAt;
    },
    10_000,
    `the firing for ${new Date(firedAt).toISOString()} recorded`,
  );
  return next;
}

/** Records each run of a type: job id and the (stack clock's) instant it started. */
async function recordingWorker(type: string, options: { hold?: Promise<void> } = {}) {
  const runs: Array<{ id: string; at: number; job: Job }> = [];
  await stack.app.context.backgroundJobs.addWorker({
    type,
    async worker(job) {
      runs.push({ id: job._id, at: clock().now(), job });
      if (options.hold) await options.hold;
      await job.done("ok", { repeatId: true });
    },
  });
  return runs;
}

describe("repeating jobs", () => {
  it('"every 15 seconds" runs at its seconds, each occurrence a separate job record', async () => {
    const runs = await recordingWorker("repeat/15s");
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/15s",
      data: { shopId: "s1" },
      schedule: "every 15 seconds",
      retry: { retries: 2, wait: 1000 },
    });
    expect(template._doc.status).toBe("waiting");
    expect(template._doc.after.getUTCSeconds() % 15).toBe(0);
    const firstAt = template._doc.after.getTime();
    // Just before the first instant nothing has run; at it, the first occurrence runs.
    await clock().set(Math.max(clock().now(), firstAt - 1000));
    await laneIdle("normal");
    expect(runs).toHaveLength(0);
    await clock().set(firstAt);
    await waitUntil(() => runs.length >= 1, 10_000, "the first occurrence");
    await waitForStatus(stack.app, (runs[0] as { id: string }).id, "completed");
    await clock().set(await nextInstantAfter(template._id, firstAt));
    await waitUntil(() => runs.length >= 2, 10_000, "the second occurrence");
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(first.id).not.toBe(second.id);
    expect(first.id.startsWith(template._id)).toBe(true);
    const instants: number[] = [];
    for (const run of [first, second]) {
      // An occurrence's id names the instant it fired for: on the :00/:15/:30/:45 grid, from the
      // template's first instant on; on the stack's clock it starts at that very instant.
      const instant = occurrenceInstant(template._id, run.id);
      expect(new Date(instant).getUTCSeconds() % 15, run.id).toBe(0);
      expect(instant).toBeGreaterThanOrEqual(template._doc.after.getTime());
      expect(run.at).toBe(instant);
      instants.push(instant);
      const doc = await waitForStatus(stack.app, run.id, "completed");
      expect(doc.data).toEqual({ shopId: "s1" });
      expect(doc.retries + doc.retried).toBe(3); // a fresh retry budget per occurrence
    }
    // Distinct instants, in order: the first, then the next 15 seconds on.
    const [firstInstant, secondInstant] = instants as [number, number];
    expect(firstInstant).toBe(firstAt);
    expect(secondInstant).toBe(firstAt + 15_000);
    const after = await stack.app.context.backgroundJobs.getJob(template._id);
    expect(after?._doc.repeated).toBeGreaterThanOrEqual(2);
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/15s" });
  });

  it('"every 1 minute" is one recurring schedule and runs at the minute', async () => {
    const runs = await recordingWorker("repeat/minute");
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/minute",
      data: {},
      schedule: "every 1 minute",
    });
    const { ScheduleExpression, Target, FlexibleTimeWindow, ScheduleExpressionTimezone } =
      await stack.scheduler.send(
        new GetScheduleCommand({ Name: `job-${template._id}`, GroupName: "local-jobs" }),
      );
    expect(ScheduleExpression).toBe("rate(1 minute)");
    expect(ScheduleExpressionTimezone).toBe("UTC");
    expect(FlexibleTimeWindow).toEqual({ Mode: "OFF" });
    expect(Target?.Arn).toBe("arn:aws:scheduler:::aws-sdk:sqs:sendMessage");
    const firstAt = template._doc.after.getTime();
    expect(firstAt % 60_000).toBe(0);
    await clock().set(firstAt);
    await waitUntil(() => runs.length >= 1, 10_000, "the first occurrence");
    const [run] = runs as [(typeof runs)[0]];
    expect(run.at).toBe(firstAt);
    expect(occurrenceInstant(template._id, run.id)).toBe(firstAt);
    await waitForStatus(stack.app, run.id, "completed");
    // The next minute: one more occurrence, for that minute.
    await clock().advance(60_000);
    await waitUntil(() => runs.length >= 2, 10_000, "the second occurrence");
    expect(occurrenceInstant(template._id, (runs[1] as { id: string }).id)).toBe(firstAt + 60_000);
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/minute" });
    expect(await scheduleNames(stack.scheduler)).not.toContain(`job-${template._id}`);
  });

  it("never overlaps occurrences: a firing while the last one runs is skipped", async () => {
    const release = deferred();
    const runs = await recordingWorker("repeat/overlap", { hold: release.promise });
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/overlap",
      data: {},
      schedule: "every 5 seconds",
    });
    const firstAt = template._doc.after.getTime();
    await clock().set(firstAt);
    await waitUntil(() => runs.length === 1, 10_000, "the first occurrence");
    // Two more firings come and go while it runs: each is recorded on the template, and skipped.
    await clock().set(await nextInstantAfter(template._id, firstAt));
    await clock().set(await nextInstantAfter(template._id, firstAt + 5000));
    const next = await nextInstantAfter(template._id, firstAt + 10_000);
    // Recorded and skipped: a skipped firing makes no occurrence once it is recorded.
    expect(next).toBe(firstAt + 15_000);
    expect(runs).toHaveLength(1);
    const during = await stack.app.context.backgroundJobs.getJob(template._id);
    expect(during?._doc.repeated).toBe(1);
    release.resolve();
    await waitForStatus(stack.app, (runs[0] as { id: string }).id, "completed");
    await clock().set(next);
    await waitUntil(
      () => runs.length === 2,
      10_000,
      "the next occurrence after the first finished",
    );
    expect(occurrenceInstant(template._id, (runs[1] as { id: string }).id)).toBe(next);
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/overlap" });
    expect((await stack.app.context.backgroundJobs.getJob(template._id))?._doc.status).toBe(
      "cancelled",
    );
  });

  it("cancelJobs on a template stops its chain; cancelling an occurrence leaves the template alone", async () => {
    const release = deferred();
    const runs = await recordingWorker("repeat/cancel", { hold: release.promise });
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/cancel",
      data: { n: 1 },
      schedule: "every 5 seconds",
    });
    const firstAt = template._doc.after.getTime();
    await clock().set(firstAt);
    await waitUntil(() => runs.length === 1, 10_000, "the first occurrence");
    const occurrence = (runs[0] as { job: Job }).job;
    await stack.app.context.backgroundJobs.cancelJobs({
      _id: occurrence._id,
      type: "repeat/cancel",
    });
    expect((await stack.app.context.backgroundJobs.getJob(occurrence._id))?._doc.status).toBe(
      "cancelled",
    );
    expect((await stack.app.context.backgroundJobs.getJob(template._id))?._doc.status).toBe(
      "waiting",
    );
    release.resolve();
    await clock().set(await nextInstantAfter(template._id, firstAt));
    await waitUntil(() => runs.length === 2, 10_000, "the chain going on");
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/cancel", data: { n: 1 } });
    const seen = runs.length;
    // The chain's next two instants pass, each firing handled: nothing more runs.
    await clock().advance(5000);
    await laneIdle("normal");
    await clock().advance(6000);
    await laneIdle("normal");
    expect(runs.length).toBe(seen);
  });

  it("cancelRepeats cancels every other job of the type, any data, running ones too, and deletes their schedules", {
    timeout: 60_000,
  }, async () => {
    const { backgroundJobs } = stack.app.context;
    const running = deferred<Job>();
    await backgroundJobs.addWorker({
      type: "repeat/replace",
      async worker(job) {
        if (job.data.oneOff) running.resolve(job);
        else await job.done();
      },
    });
    const old = await backgroundJobs.scheduleJob({
      type: "repeat/replace",
      data: { shopId: "a" },
      schedule: "every 24 hours",
    });
    const oneOff = await backgroundJobs.scheduleJob({
      type: "repeat/replace",
      data: { oneOff: true },
    });
    const runningJob = await running.promise;
    expect(await scheduleNames(stack.scheduler)).toContain(`job-${old._id}`);
    const replacement = await backgroundJobs.scheduleJob({
      type: "repeat/replace",
      data: { shopId: "b" },
      schedule: "every 24 hours",
      cancelRepeats: true,
    });
    expect((await backgroundJobs.getJob(old._id))?._doc.status).toBe("cancelled");
    expect((await backgroundJobs.getJob(oneOff._id))?._doc.status).toBe("cancelled");
    expect(await runningJob.done()).toBe(false);
    const names = await scheduleNames(stack.scheduler);
    expect(names).not.toContain(`job-${old._id}`);
    expect(names).toContain(`job-${replacement._id}`);
    // The cancel request is swept again once the index has caught up: the new job is spared.
    await stack.app.reconcile({ indexSettleMs: 0 });
    expect((await backgroundJobs.getJob(replacement._id))?._doc.status).toBe("waiting");
    expect(await scheduleNames(stack.scheduler)).toContain(`job-${replacement._id}`);
  });

  it("a 20-minute retry wait becomes a one-time at() schedule on the job's lane", async () => {
    const { backgroundJobs } = stack.app.context;
    const attempts: number[] = [];
    await backgroundJobs.addWorker({
      type: "repeat/long-wait",
      async worker(job) {
        attempts.push(clock().now());
        await job.fail("try again in 20 minutes");
      },
    });
    const job = await backgroundJobs.scheduleJob({
      type: "repeat/long-wait",
      data: {},
      priority: "high",
      retry: { retries: 1, wait: 20 * 60_000 },
    });
    const doc = await waitForStatus(stack.app, job._id, "waiting");
    const name = `at-${job._id}-${Math.floor(doc.after.getTime() / 1000)}`;
    await waitUntil(
      async () => (await scheduleNames(stack.scheduler)).includes(name),
      5000,
      "the at() schedule",
    );
    const schedule = await stack.scheduler.send(
      new GetScheduleCommand({ Name: name, GroupName: "local-jobs" }),
    );
    expect(schedule.ScheduleExpression).toBe(`at(${doc.after.toISOString().slice(0, 19)})`);
    expect(schedule.ActionAfterCompletion).toBe("DELETE");
    expect(doc.after.getTime() - doc.updated.getTime()).toBe(20 * 60_000);
    const input = JSON.parse(schedule.Target?.Input ?? "{}") as {
      QueueUrl: string;
      MessageBody: string;
      MessageGroupId: string;
    };
    expect(input.QueueUrl).toBe(stack.app.local.queueUrls.critical);
    expect(JSON.parse(input.MessageBody)).toEqual({
      id: job._id,
      type: "repeat/long-wait",
      group: "type:repeat/long-wait",
      at: doc.after.getTime(),
    });
    expect(input.MessageGroupId).toBe("type:repeat/long-wait");
    // Twenty minutes on, the at() fires: the second (last) attempt runs, and the schedule is
    // deleted once it completed. An at() fires at its whole second, which may be a moment
    // before the job's due time: then the job hops once more, by a second, as on AWS.
    await clock().set(doc.after);
    expect(await scheduleNames(stack.scheduler)).not.toContain(name);
    await laneIdle("critical");
    await clock().advance(1000);
    await waitForStatus(stack.app, job._id, "failed");
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toBeGreaterThanOrEqual(doc.after.getTime());
  });

  it("resolves a schedule later.js cannot read, as Reaction did: no schedule is armed, the refusal is recorded", async () => {
    const before = await scheduleNames(stack.scheduler);
    for (const schedule of ["foo bar", "in 2020"]) {
      const job = await stack.app.context.backgroundJobs.scheduleJob({
        type: "repeat/bad",
        data: { shopId: "bad" },
        schedule,
      });
      expect(job._id).toBeUndefined();
    }
    expect(await scheduleNames(stack.scheduler)).toEqual(before);
    const { Item } = await stack.dynamodb.send(
      new GetItemCommand({
        TableName: stack.app.local.tableName,
        Key: { _id: { S: "#refusals" } },
        ConsistentRead: true,
      }),
    );
    const notes = Object.entries(Item ?? {}).filter(([name]) => name.startsWith("r_repeat/bad#"));
    expect(notes.map(([, note]) => note.M?.text?.S)).toEqual(["in 2020"]);
  });
});

describe("schedules across a restart of the local stack", () => {
  it("keeps recurring and one-time schedules, and the chain goes on", async () => {
    // The data folder keeps the schedules; the jobs stay in a table of their own on the suite's
    // DynamoDB Local, as a restarted DynamoDB Local would keep them under the data folder.
    const data = await tempDataDir();
    const table = restartableTable();
    try {
      const first = await startLocalApp(table.options({ dataDir: data.dir, clock: "manual" }));
      const daily = await first.context.backgroundJobs.scheduleJob({
        type: "restart/daily",
        data: {},
        schedule: "every 24 hours",
      });
      const chained = await first.context.backgroundJobs.scheduleJob({
        type: "restart/chain",
        data: {},
        schedule: "every 10 seconds",
      });
      await first.stop();

      const runs: string[] = [];
      const second = await startLocalApp(table.options({ dataDir: data.dir, clock: "manual" }), [
        {
          name: "chain",
          functionsByType: {
            startup: [
              async ({ backgroundJobs }) => {
                await backgroundJobs.addWorker({
                  type: "restart/chain",
                  async worker(job) {
                    runs.push(job._id);
                    await job.done();
                  },
                });
              },
            ],
          },
        },
      ]);
      const client = schedulerClientFor(second);
      try {
        expect(await scheduleNames(client)).toContain(`job-${daily._id}`);
        // The chain's next link was re-armed at the start: at its instant, it runs.
        const after = (await second.context.backgroundJobs.getJob(chained._id))?._doc.after;
        await second.local.clock.set(Math.max(after?.getTime() ?? 0, second.local.clock.now()));
        await waitUntil(() => runs.length >= 1, 10_000, "an occurrence after the restart");
        expect(runs[0]?.startsWith(chained._id)).toBe(true);
      } finally {
        client.destroy();
        await second.stop();
      }
    } finally {
      await table.drop();
      await data.remove();
    }
  });
});
