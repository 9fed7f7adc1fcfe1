import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../support/capture-logger.ts";
import { useLocalApp, waitForStatus, waitUntil } from "../support/local-app.ts";

const logger = captureLogger();
const runs: string[] = [];
let failSends = false;

// Failed messages come back at once here (in production after 10 s, 20 s, 40 s...).
const stack = useLocalApp(
  {
    redeliveryDelaySeconds: 0,
    injectFault: (operation) =>
      // scheduleJob sends through SendMessageBatch (a turn's jobs together).
      failSends && (operation === "SQS.SendMessage" || operation === "SQS.SendMessageBatch")
        ? new Error("injected")
        : undefined,
  },
  [],
  { logger },
);
beforeAll(async () => {
  await stack.app.context.backgroundJobs.addWorker({
    type: "poison/real",
    async worker(job) {
      runs.push(job._id);
      await job.done();
    },
  });
});

async function deadLetters(): Promise<number> {
  const { Attributes } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.app.local.deadLetterQueueUrls.normal,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages);
}

describe("poison messages and the dead-letter queue", () => {
  it("moves an unparseable message and one for an unknown job to the DLQ after maxReceiveCount, with one log line each", async () => {
    for (const body of [
      "{not json",
      JSON.stringify({ id: "noSuchJob12345678", type: "poison/real" }),
    ]) {
      await stack.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.app.local.queueUrls.normal, MessageBody: body }),
      );
    }
    await waitUntil(async () => (await deadLetters()) === 2, 30_000, "both messages in the DLQ");
    const lines = logger.lines.filter(
      (line) => line.message === "message goes to the dead-letter queue",
    );
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => line.level)).toEqual(["error", "error"]);
  });

  it("redriveDeadLetters() puts real jobs back and drops poison, with a report", async () => {
    // A real job whose only message is in the DLQ (say, after a run of dispatcher crashes).
    failSends = true;
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "poison/real",
      data: {},
    });
    failSends = false;
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.app.local.deadLetterQueueUrls.normal,
        MessageBody: JSON.stringify({ id: job._id, type: "poison/real" }),
      }),
    );
    await waitUntil(async () => (await deadLetters()) === 3, 10_000, "three messages in the DLQ");
    expect(runs).not.toContain(job._id);
    const report = await stack.app.redriveDeadLetters();
    expect(report.redriven).toEqual([{ jobId: job._id, lane: "normal" }]);
    expect(report.dropped.map((d) => d.reason).sort()).toEqual([
      "no job noSuchJob12345678",
      "not a job message",
    ]);
    await waitForStatus(stack.app, job._id, "completed");
    expect(runs.filter((id) => id === job._id)).toHaveLength(1);
    expect(await deadLetters()).toBe(0);
  });
});
