import { ChangeMessageVisibilityCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { sqsBatchHandler } from "../../lib/aws/sqs-batch.ts";
import { dispatch, type InvocationBudget } from "../../lib/jobs/deliver.ts";
import { lanes } from "../../lib/resources.ts";
import { sqsEvent } from "../support/sqs-event.ts";
import { WORK_TIMEOUT_MS, World } from "./world.ts";

/**
 * In Lambda the dispatcher gets the invocation's remaining time: it starts the batch's runs at
 * once up to the type's concurrency, never waits for a slot, never starts a run that could
 * outlast the invocation, and what it hands back does not count toward the DLQ.
 */
let world: World;
afterEach(() => {
  world.stop();
  expect(world.violations).toEqual([]);
});

const budget = (ms: number): InvocationBudget => ({ remainingMs: () => ms });

/** Schedules jobs of type A (concurrency 1, workTimeout 30 s) and takes their messages off the lane. */
async function deliveriesOfA(count: number, receiveCount = 1) {
  const jobs = [];
  for (let i = 0; i < count; i += 1) {
    const job = await world.api.scheduleJob({ type: "A", data: { plan: ["slow"] } });
    world.madeLive(job._id);
    jobs.push(job);
  }
  const received = world.lanes.receive("normal", 10, 60_000);
  return {
    jobs,
    deliveries: received.map((d) => ({ ...d, receiveCount, lane: "normal" as const })),
  };
}

describe("dispatching within a Lambda invocation", () => {
  it("starts up to the type's concurrency at once and hands the rest back within a second, unclaimed", async () => {
    world = new World();
    const { jobs, deliveries } = await deliveriesOfA(3);
    const outcomes = dispatch(world.deps, deliveries, undefined, budget(900_000));
    await world.advance(25_000); // the one run (20 s) settles
    const settled = await outcomes;
    expect(settled.filter((o) => o.outcome === "acknowledged")).toHaveLength(1);
    const back = settled.filter((o) => o.outcome === "retry");
    expect(back).toEqual([
      expect.objectContaining({ delaySeconds: 1 }),
      expect.objectContaining({ delaySeconds: 1 }),
    ]);
    expect(jobs.map((job) => world.record(job._id)?.retried).sort()).toEqual([0, 0, 1]);
  });

  it("does not start a run the remaining time cannot hold, and spends no attempt on it", async () => {
    world = new World();
    const { jobs, deliveries } = await deliveriesOfA(1);
    const [outcome] = await dispatch(world.deps, deliveries, undefined, budget(WORK_TIMEOUT_MS));
    expect(outcome).toEqual(expect.objectContaining({ outcome: "retry" }));
    expect(world.record(jobs[0]?._id as string)).toEqual(
      expect.objectContaining({ status: "ready", retried: 0 }),
    );
    expect(world.starts).toEqual([]);
  });

  it("sends a fresh copy instead of letting a handed-back message reach the DLQ's receive count", async () => {
    world = new World();
    const { jobs, deliveries } = await deliveriesOfA(2, lanes.maxReceiveCount - 1);
    const outcomes = dispatch(world.deps, deliveries, undefined, budget(900_000));
    for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
    // The deferred job's message is back on its lane as a new message (receive count 0).
    const unstarted = jobs.filter((job) => world.record(job._id)?.retried === 0);
    expect(unstarted).toHaveLength(1);
    const received = new Set(deliveries.map((d) => d.messageId));
    const fresh = world.lanes.messages("normal").filter((m) => !received.has(m.messageId));
    expect(fresh.map((m) => JSON.parse(m.body).id)).toEqual([unstarted[0]?._id]);
    await world.advance(25_000);
    expect((await outcomes).map((o) => o.outcome)).toEqual(["acknowledged", "acknowledged"]);
    expect(world.lanes.deadLetters("normal")).toEqual([]);
  });

  it("makes what it cannot start visible again at once, not when the batch's runs have settled", async () => {
    // Through the SQS face Lambda calls: a deferred message must not sit invisible for as
    // long as the other runs of its batch take (up to the whole invocation), or 10 five-minute
    // jobs with concurrency 3 again take 20 minutes.
    world = new World();
    const sqsClient = new SQSClient({ region: "us-east-1" });
    const sqs = mockClient(sqsClient);
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const queueUrls = {
      critical: "https://q/critical",
      normal: "https://q/normal",
      low: "https://q/low",
    };
    const handler = sqsBatchHandler(sqsClient, queueUrls, (deliveries, invocation) =>
      dispatch(world.deps, deliveries, undefined, invocation),
    );
    const { deliveries } = await deliveriesOfA(2);
    const event = sqsEvent(
      deliveries.map((d) => d.body),
      "arn:aws:sqs:us-east-1:000000000000:normal",
    );
    const response = handler(event, { getRemainingTimeInMillis: () => 900_000 });
    await world.quiesce();
    // One run (20 s) holds type A's only slot; the other message is already back.
    const early = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    expect(early).toEqual([
      expect.objectContaining({
        QueueUrl: queueUrls.normal,
        ReceiptHandle: "handle-1",
        VisibilityTimeout: 1,
      }),
    ]);
    await world.advance(25_000);
    expect(await response).toEqual({ batchItemFailures: [{ itemIdentifier: "message-1" }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
    sqs.restore();
  });
});
