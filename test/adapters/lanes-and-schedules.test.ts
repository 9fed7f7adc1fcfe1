/**
 * The lane and schedule adapters: `SqsLanes` round-trips messages through fauxqs on the local
 * stack; `EventBridgeSchedules` writes what EventBridge Scheduler needs (mocked SDK calls).
 */
import { CreateScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "../../lib/aws/clients.ts";
import { queueUrlForArn, SqsLanes } from "../../lib/aws/lanes.ts";
import { ensureLaneQueues } from "../../lib/aws/provision.ts";
import { EventBridgeSchedules } from "../../lib/aws/schedules.ts";
import type { JobMessage } from "../../lib/jobs/deps.ts";
import { clampDelay } from "../../lib/jobs/lane-delay.ts";
import { type LocalSqs, startLocalSqs } from "../../lib/local/sqs-server.ts";
import { LOCAL_REGION } from "../../lib/local/stack.ts";
import { type LaneName, resourceNames } from "../../lib/resources.ts";

describe("SqsLanes on the local stack's SQS (fauxqs)", () => {
  // Only the SQS server of the local stack: no DynamoDB Local JVM for this file.
  let server: LocalSqs;
  let stack: { clients: ReturnType<typeof createClients>; queueUrls: Record<LaneName, string> };
  let lanes: SqsLanes;

  beforeAll(async () => {
    server = await startLocalSqs();
    const clients = createClients({
      region: LOCAL_REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      endpoints: { sqs: server.endpoint },
    });
    const { queueUrls } = await ensureLaneQueues(clients.sqs, resourceNames("lanes-test"));
    stack = { clients, queueUrls };
    lanes = new SqsLanes(clients.sqs, queueUrls);
  });
  afterAll(async () => {
    stack?.clients.sqs.destroy();
    await server?.stop();
  });

  /** Receives (and deletes) every message on a lane until one receive comes back empty. */
  async function drain(lane: LaneName): Promise<JobMessage[]> {
    const bodies: JobMessage[] = [];
    for (;;) {
      const { Messages = [] } = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queueUrls[lane],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) return bodies;
      for (const message of Messages) {
        bodies.push(JSON.parse(message.Body ?? "null") as JobMessage);
        await stack.clients.sqs.send(
          new DeleteMessageCommand({
            QueueUrl: stack.queueUrls[lane],
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
  }

  it("sends one message to its lane only, body as given", async () => {
    const message = { id: "J1", type: "t", firedAt: "2026-01-01T00:00:00Z" };
    await lanes.send("critical", message, 0);
    expect(await drain("critical")).toEqual([message]);
    expect(await drain("normal")).toEqual([]);
  });

  it("sends many past the batch size of 10, every one exactly once", async () => {
    const messages = Array.from({ length: 23 }, (_, i) => ({ id: `J${i}`, type: "t" }));
    await lanes.sendMany("low", messages, 0);
    const received = await drain("low");
    expect(received.map((m) => m.id).sort()).toEqual(messages.map((m) => m.id).sort());
  });

  it("holds a delayed message back", async () => {
    await lanes.send("normal", { id: "late", type: "t" }, 0.2); // rounds up to 1 s
    expect(await drain("normal")).toEqual([]);
    // fauxqs delays in real time: a long poll returns as soon as the message shows.
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.normal, WaitTimeSeconds: 5 }),
    );
    expect(Messages.map((m) => JSON.parse(m.Body ?? "null"))).toEqual([{ id: "late", type: "t" }]);
    await stack.clients.sqs.send(
      new DeleteMessageCommand({
        QueueUrl: stack.queueUrls.normal,
        ReceiptHandle: Messages[0]?.ReceiptHandle,
      }),
    );
  });
});

describe("lane helpers", () => {
  it("clamps a delay to SQS's whole seconds from 0 to 900, rounding up", () => {
    expect([-5, 0, 0.1, 1.5, 900, 1e6].map(clampDelay)).toEqual([0, 0, 1, 2, 900, 900]);
  });

  it("finds a lane's queue URL by its ARN, and none for another queue", () => {
    const urls = {
      critical: "https://q/p-critical",
      normal: "https://q/p-normal",
      low: "https://q/p-low",
    };
    expect(queueUrlForArn(urls, "arn:aws:sqs:us-east-1:1:p-normal")).toBe(urls.normal);
    expect(queueUrlForArn(urls, "arn:aws:sqs:us-east-1:1:p-normal-dlq")).toBeUndefined();
  });
});

describe("EventBridgeSchedules' messages", () => {
  const client = new SchedulerClient({ region: "us-east-1" });
  const scheduler = mockClient(client);
  const queueUrls = { critical: "https://q/c", normal: "https://q/n", low: "https://q/l" };
  const schedules = new EventBridgeSchedules(client, {
    groupName: "jobs",
    roleArn: "arn:aws:iam::1:role/r",
    queueUrls,
  });
  const body = (call = 0): unknown => {
    const input = scheduler.commandCalls(CreateScheduleCommand)[call]?.args[0].input;
    const target = JSON.parse(input?.Target?.Input ?? "{}") as { MessageBody: string };
    return JSON.parse(target.MessageBody);
  };

  beforeEach(() => {
    scheduler.reset();
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn" });
  });

  it("a recurring schedule's message carries EventBridge's scheduled-time placeholder", async () => {
    await schedules.armRecurring("job-T1", "cron(0 0 * * ? *)", undefined, "normal", {
      id: "T1",
      type: "t",
    });
    expect(body()).toEqual({ id: "T1", type: "t", firedAt: "<aws.scheduler.scheduled-time>" });
  });

  it("a one-time schedule's message keeps its own firedAt, or has none", async () => {
    const at = new Date("2026-11-28T12:20:00Z");
    await schedules.armOnce("at-T1-1", at, "low", {
      id: "T1",
      type: "t",
      firedAt: "2026-11-28T12:20:00.000Z",
    });
    await schedules.armOnce("at-J1-1", at, "low", { id: "J1", type: "t" });
    expect(body(0)).toEqual({ id: "T1", type: "t", firedAt: "2026-11-28T12:20:00.000Z" });
    expect(body(1)).toEqual({ id: "J1", type: "t" });
  });
});
