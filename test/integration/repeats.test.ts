import {
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { describe, expect, it } from "vitest";
import type { Job } from "../../lib/index.ts";
import {
  deferred,
  schedulerClientFor,
  sleep,
  startLocalApp,
  tempDataDir,
  useLocalApp,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

const stack = useLocalApp();

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

/** Records each run of a type: job id and the instant it started. */
async function recordingWorker(type: string, options: { hold?: Promise<void> } = {}) {
  const runs: Array<{ id: string; at: number; job: Job }> = [];
  await stack.app.context.backgroundJobs.addWorker({
    type,
    async worker(job) {
      runs.push({ id: job._id, at: Date.now(), job });
      if (options.hold) await options.hold;
      await job.done("ok", { repeatId: true });
    },
  });
  return runs;
}

describe("repeating jobs", () => {
  it('"every 15 seconds" runs at its seconds, each occurrence a separate job record', {
    timeout: 60_000,
  }, async () => {
    const runs = await recordingWorker("repeat/15s");
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/15s",
      data: { shopId: "s1" },
      schedule: "every 15 seconds",
      retry: { retries: 2, wait: 1000 },
    });
    expect(template._doc.status).toBe("waiting");
    expect(template._doc.after.getUTCSeconds() % 15).toBe(0);
    await waitUntil(() => runs.length >= 2, 40_000, "two occurrences");
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(first.id).not.toBe(second.id);
    expect(first.id.startsWith(template._id)).toBe(true);
    const instants: number[] = [];
    for (const run of [first, second]) {
      // An occurrence's id names the instant it fired for: on the :00/:15/:30/:45 grid, from the
      // template's first instant on, and never started before it (wall-clock lateness under
      // load is not asserted: the grid logic is checked on a fake clock in test/model/).
      const instant = occurrenceInstant(template._id, run.id);
      expect(new Date(instant).getUTCSeconds() % 15, run.id).toBe(0);
      expect(instant).toBeGreaterThanOrEqual(template._doc.after.getTime());
      expect(run.at).toBeGreaterThanOrEqual(instant - 1000);
      instants.push(instant);
      const doc = await waitForStatus(stack.app, run.id, "completed");
      expect(doc.data).toEqual({ shopId: "s1" });
      expect(doc.retries + doc.retried).toBe(3); // a fresh retry budget per occurrence
    }
    // Distinct instants, in order, a whole number of 15-second steps apart.
    const [firstInstant, secondInstant] = instants as [number, number];
    expect(secondInstant).toBeGreaterThan(firstInstant);
    expect((secondInstant - firstInstant) % 15_000).toBe(0);
    const after = await stack.app.context.backgroundJobs.getJob(template._id);
    expect(after?._doc.repeated).toBeGreaterThanOrEqual(2);
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/15s" });
  });

  it('"every 1 minute" is one recurring schedule and runs at the minute', {
    timeout: 90_000,
  }, async () => {
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
    await waitUntil(() => runs.length >= 1, 70_000, "the first occurrence");
    expect((runs[0] as { at: number }).at % 60_000).toBeLessThan(3000);
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/minute" });
    expect(await scheduleNames(stack.scheduler)).not.toContain(`job-${template._id}`);
  });

  it("never overlaps occurrences: a firing while the last one runs is skipped", {
    timeout: 60_000,
  }, async () => {
    const release = deferred();
    const runs = await recordingWorker("repeat/overlap", { hold: release.promise });
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/overlap",
      data: {},
      schedule: "every 5 seconds",
    });
    await waitUntil(() => runs.length === 1, 20_000, "the first occurrence");
    // Two more firings come and go while it runs.
    await sleep(11_000);
    expect(runs).toHaveLength(1);
    release.resolve();
    await waitUntil(
      () => runs.length === 2,
      20_000,
      "the next occurrence after the first finished",
    );
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/overlap" });
    expect((await stack.app.context.backgroundJobs.getJob(template._id))?._doc.status).toBe(
      "cancelled",
    );
  });

  it("cancelJobs on a template stops its chain; cancelling an occurrence leaves the template alone", {
    timeout: 60_000,
  }, async () => {
    const release = deferred();
    const runs = await recordingWorker("repeat/cancel", { hold: release.promise });
    const template = await stack.app.context.backgroundJobs.scheduleJob({
      type: "repeat/cancel",
      data: { n: 1 },
      schedule: "every 5 seconds",
    });
    await waitUntil(() => runs.length === 1, 20_000, "the first occurrence");
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
    await waitUntil(() => runs.length === 2, 20_000, "the chain going on");
    await stack.app.context.backgroundJobs.cancelJobs({ type: "repeat/cancel", data: { n: 1 } });
    const seen = runs.length;
    await sleep(11_000);
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
    await backgroundJobs.addWorker({
      type: "repeat/long-wait",
      async worker(job) {
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
  });

  it("refuses a schedule later.js cannot read, naming it, and stores nothing", async () => {
    await expect(
      stack.app.context.backgroundJobs.scheduleJob({
        type: "repeat/bad",
        data: {},
        schedule: "foo bar",
      }),
    ).rejects.toMatchObject({ field: "schedule", message: expect.stringContaining('"foo bar"') });
    await expect(
      stack.app.context.backgroundJobs.scheduleJob({
        type: "repeat/bad",
        data: {},
        schedule: "in 2020",
      }),
    ).rejects.toMatchObject({
      field: "schedule",
      message: expect.stringContaining("no occurrence"),
    });
  });
});

describe("schedules across a restart of the local stack", () => {
  it("keeps recurring and one-time schedules, and the chain goes on", {
    timeout: 60_000,
  }, async () => {
    const data = await tempDataDir();
    try {
      const first = await startLocalApp({ dataDir: data.dir });
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
      const second = await startLocalApp({ dataDir: data.dir }, [
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
        await waitUntil(() => runs.length >= 1, 25_000, "an occurrence after the restart");
        expect(runs[0]?.startsWith(chained._id)).toBe(true);
      } finally {
        client.destroy();
        await second.stop();
      }
    } finally {
      await data.remove();
    }
  });
});
