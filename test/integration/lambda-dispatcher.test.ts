import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatcherHandler, reconcilerHandler } from "../../lambdas/handlers.ts";
import { createClients } from "../../lib/aws/clients.ts";
import { DynamoJobStore } from "../../lib/aws/dynamo/job-store.ts";
import type { Plugin, WorkerHandle } from "../../lib/index.ts";
import { restoreEnvironment } from "../support/cli.ts";
import { useLocalApp, waitForStatus } from "../support/local-app.ts";
import { sqsEvent } from "../support/sqs-event.ts";

// The local stack provides the servers; the Lambda handlers reach them as they would reach AWS:
// resource names from the construct's environment variables, endpoints from the SDK's own.
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

// The local app keeps the type paused: it leaves every message of it to the Lambda handler.
// Its own reconciler stays out of the way: the Lambda reconciler is the one under test.
const stack = useLocalApp({ reconcileIntervalMs: 3_600_000 }, [
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
/** The environment as it was: restored after, for the files that run next in this worker. */
const savedEnvironment = { ...process.env };
afterAll(() => restoreEnvironment(savedEnvironment));
beforeAll(() => {
  Object.assign(process.env, {
    AWS_REGION: stack.app.local.region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: stack.app.local.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: stack.app.local.endpoints.sqs,
    AWS_ENDPOINT_URL_SCHEDULER: stack.app.local.endpoints.scheduler,
    JOBS_TABLE_NAME: stack.app.local.tableName,
    JOBS_QUEUE_URL_CRITICAL: stack.app.local.queueUrls.critical,
    JOBS_QUEUE_URL_NORMAL: stack.app.local.queueUrls.normal,
    JOBS_QUEUE_URL_LOW: stack.app.local.queueUrls.low,
  });
});

describe("the Lambda dispatcher handler", () => {
  it("runs the batch's jobs and answers with a partial batch response, the same as the local poller's dispatcher", async () => {
    const { backgroundJobs } = stack.app.context;
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
    expect((await waitForStatus(stack.app, ok._id, "completed")).result).toEqual({
      value: "done in lambda",
    });
    expect((await waitForStatus(stack.app, failing._id, "failed")).failures[0]?.value).toBe(
      "worker threw",
    );
    expect(runs.sort()).toEqual([ok._id, failing._id].sort());

    // The same batch again (SQS redelivers): nothing runs twice, and the local app's own
    // dispatcher (what the poller calls), with its worker active, answers exactly the same.
    expect(await handler(event)).toEqual(response);
    await localHandle?.resume();
    expect(await stack.app.handleSqsEvent(event)).toEqual(response);
    expect(runs).toHaveLength(2);
  });

  it("the reconciler handler re-sends, from the same table, a job whose message was lost", async () => {
    localHandle?.pause(); // the local app drops this type's message: the job is left without one
    const job = await stack.app.context.backgroundJobs.scheduleJob({
      type: "lambda/work",
      data: {},
    });
    // Make it due two minutes ago, past the reconciler's one-minute staleness (plus the 30 s a
    // process may lag without reporting its delivery front).
    const clients = createClients({
      region: stack.app.local.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      endpoints: stack.app.local.endpoints,
    });
    try {
      const store = new DynamoJobStore(clients.documents, { tableName: stack.app.local.tableName });
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
    expect(report).toMatchObject({ requeued: 1, expired: 0, cancelSweeps: 0, complete: true });
  });
});
