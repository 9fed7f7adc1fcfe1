import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatcherHandler, reconcilerHandler } from "../../lambdas/handlers.ts";
import { createClients } from "../../lib/aws/clients.ts";
import { DynamoJobStore } from "../../lib/aws/job-table.ts";
import type { App, Plugin, WorkerHandle } from "../../lib/index.ts";
import { startLocalApp, waitForStatus } from "../support/local-app.ts";
import { sqsEvent } from "../support/sqs-event.ts";

// The local stack provides the servers; the Lambda handlers reach them as they would reach AWS:
// resource names from the construct's environment variables, endpoints from the SDK's own.
let local: App;
let localHandle: WorkerHandle | undefined;
const runs: string[] = [];
const plugins: Plugin[] = [
  {
    name: "lambda-test",
    functionsByType: {
      startup: [
        async ({ backgroundJobs }) => {
          await backgroundJobs.addWorker({
            type: "lambda/work",
            async worker(job) {
              runs.push(job._id);
              if (job.data.fail) throw new Error("worker threw");
              await job.done("done in lambda");
            },
          });
        },
      ],
    },
  },
];

beforeAll(async () => {
  // The local app keeps the type paused: it leaves every message of it to the Lambda handler.
  // Its own reconciler stays out of the way: the Lambda reconciler is the one under test.
  local = await startLocalApp({ reconcileIntervalMs: 3_600_000 }, [
    {
      name: "paused",
      functionsByType: {
        startup: [
          async ({ backgroundJobs }) => {
            localHandle = await backgroundJobs.addWorker({
              type: "lambda/work",
              async worker() {},
            });
            localHandle.pause();
          },
        ],
      },
    },
  ]);
  Object.assign(process.env, {
    AWS_REGION: local.local.region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: local.local.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: local.local.endpoints.sqs,
    AWS_ENDPOINT_URL_SCHEDULER: local.local.endpoints.scheduler,
    JOBS_TABLE_NAME: local.local.tableName,
    JOBS_QUEUE_URL_CRITICAL: local.local.queueUrls.critical,
    JOBS_QUEUE_URL_NORMAL: local.local.queueUrls.normal,
    JOBS_QUEUE_URL_LOW: local.local.queueUrls.low,
  });
});
afterAll(async () => {
  await local?.stop();
});

describe("the Lambda dispatcher handler", () => {
  it("runs the batch's jobs and answers with a partial batch response, the same as the local poller's dispatcher", async () => {
    const { backgroundJobs } = local.context;
    const ok = await backgroundJobs.scheduleJob({ type: "lambda/work", data: {} });
    const failing = await backgroundJobs.scheduleJob({ type: "lambda/work", data: { fail: true } });
    const event = sqsEvent([
      JSON.stringify({ id: ok._id, type: "lambda/work" }),
      "{not json",
      JSON.stringify({ id: failing._id, type: "lambda/work" }),
      JSON.stringify({ id: "noSuchJob00000000", type: "lambda/work" }),
    ]);
    const handler = dispatcherHandler(plugins);
    const response = await handler(event);
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: "message-1" }, { itemIdentifier: "message-3" }],
    });
    expect((await waitForStatus(local, ok._id, "completed")).result).toEqual({
      value: "done in lambda",
    });
    expect((await waitForStatus(local, failing._id, "failed")).failures[0]?.value).toBe(
      "worker threw",
    );
    expect(runs.sort()).toEqual([ok._id, failing._id].sort());

    // The same batch again (SQS redelivers): nothing runs twice, and the local app's own
    // dispatcher (what the poller calls), with its worker active, answers exactly the same.
    expect(await handler(event)).toEqual(response);
    await localHandle?.resume();
    expect(await local.handleSqsEvent(event)).toEqual(response);
    expect(runs).toHaveLength(2);
  });

  it("the reconciler handler re-sends, from the same table, a job whose message was lost", async () => {
    localHandle?.pause(); // the local app drops this type's message: the job is left without one
    const job = await local.context.backgroundJobs.scheduleJob({ type: "lambda/work", data: {} });
    // Make it due two minutes ago, past the reconciler's one-minute staleness.
    const clients = createClients({
      region: local.local.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      endpoints: local.local.endpoints,
    });
    try {
      const store = new DynamoJobStore(clients.documents, { tableName: local.local.tableName });
      expect(
        await store.transition(job._id, ["ready"], {
          status: "ready",
          after: Date.now() - 120_000,
        }),
      ).not.toBeNull();
    } finally {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      clients.scheduler.destroy();
    }
    const report = await reconcilerHandler(plugins)();
    expect(report).toEqual({ requeued: 1, expired: 0, cancelSweeps: 0 });
  });
});
