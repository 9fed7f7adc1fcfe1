import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../lib/index.ts";
import { JobQueueHost } from "../../lib/reaction/host.ts";
import { captureLogger } from "../support/capture-logger.ts";
import {
  onSharedDynamoDb,
  queueDepth,
  sqsClientFor,
  useLocalApp,
  waitForStatus,
  waitUntil,
} from "../support/local-app.ts";

// Jobs of "srv/image" and "srv/moved" run on the API servers (the server lane); "srv/email" in Lambda (the
// local poller stands in for it). Both consumers live in this one process, as with `npm start`.
const logger = captureLogger();
const runs: string[] = [];
const stack = useLocalApp({ redeliveryDelaySeconds: 1 }, [], {
  logger,
  serverTypes: ["srv/image", "srv/moved"],
  serverLaneWaitSeconds: 1,
});

function linesFor(jobId: string, message: string) {
  return logger.lines.filter((line) => line.message === message && line.fields.jobId === jobId);
}

describe("the server lane on the local stack", () => {
  const MOVED = "message moved to the lane its type runs on";

  it("sends a server type's jobs to the server lane, whatever their priority; only the server consumer takes them", async () => {
    const { backgroundJobs } = stack.app.context;
    const { sqs } = stack;
    // No worker of a server type yet: the server consumer takes nothing, the message waits there.
    const image = await backgroundJobs.scheduleJob({
      type: "srv/image",
      data: { n: 1 },
      priority: "critical",
    });
    await waitUntil(
      async () => (await queueDepth(sqs, stack.app.local.queueUrls.server)).visible === 1,
      5000,
      "the server lane to hold the job's message",
    );
    expect(linesFor(image._id, "scheduled")[0]?.fields.lane).toBe("server");
    // Had it reached a Lambda lane, the poller would have failed it for want of a worker.
    expect((await backgroundJobs.getJob(image._id))?._doc.status).toBe("ready");
  });

  it("moves a server type's message found on a Lambda lane instead of running it there, once", async () => {
    const { backgroundJobs } = stack.app.context;
    const { sqs } = stack;
    const stray = await backgroundJobs.scheduleJob({ type: "srv/moved", data: {} });
    const send = (body: object) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.app.local.queueUrls.normal,
          MessageBody: JSON.stringify({ id: stray._id, type: "srv/moved", ...body }),
        }),
      );
    // Moved once already and misplaced again: the two sides disagree; not bounced, not run.
    await send({ moved: true });
    await waitUntil(
      () => logger.lines.some((l) => l.level === "error" && l.fields.jobId === stray._id),
      5000,
      "the error about the disagreement",
    );
    await send({});
    await waitUntil(() => linesFor(stray._id, MOVED).length === 1, 5000, "the message to move");
    expect(linesFor(stray._id, MOVED)[0]?.fields).toMatchObject({ lane: "normal", to: "server" });
    // Without the move the Lambda stand-in would have claimed it and failed it: no worker there.
    expect((await backgroundJobs.getJob(stray._id))?._doc.status).toBe("ready");
  });

  it("runs the server lane's jobs once their workers are registered, each once", async () => {
    const { backgroundJobs } = stack.app.context;
    for (const type of ["srv/image", "srv/moved"]) {
      await backgroundJobs.addWorker({
        type,
        concurrency: 1,
        async worker(job) {
          runs.push(job._id);
          await job.done();
        },
      });
    }
    const scheduled = logger.lines.filter((l) => l.message === "scheduled");
    for (const line of scheduled) {
      await waitForStatus(stack.app, line.fields.jobId as string, "completed");
    }
    // The stray job had two messages on the server lane (its own and the moved one): one run.
    expect(runs).toHaveLength(scheduled.length);
    expect(new Set(runs).size).toBe(runs.length);
  });

  it("keeps other types on their priority lane, and moves one found on the server lane back to it", async () => {
    const { backgroundJobs } = stack.app.context;
    const { sqs } = stack;
    const ran: string[] = [];
    const handle = await backgroundJobs.addWorker({
      type: "srv/email",
      async worker(job) {
        ran.push(job._id);
        await job.done();
      },
    });
    const email = await backgroundJobs.scheduleJob({
      type: "srv/email",
      data: {},
      priority: "high",
    });
    await waitForStatus(stack.app, email._id, "completed");
    expect(linesFor(email._id, "scheduled")[0]?.fields.lane).toBe("critical");
    expect(linesFor(email._id, MOVED)).toHaveLength(0);
    // Paused, its next job stays ready; then its message turns up on the server lane (drift).
    handle.pause();
    const report = await backgroundJobs.scheduleJob({
      type: "srv/email",
      data: {},
      priority: "low",
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.app.local.queueUrls.server,
        MessageBody: JSON.stringify({ id: report._id, type: "srv/email" }),
      }),
    );
    await waitUntil(() => linesFor(report._id, MOVED).length === 1, 5000, "the message to move");
    expect(linesFor(report._id, MOVED)[0]?.fields).toMatchObject({ lane: "server", to: "low" });
    await handle.resume();
    await waitForStatus(stack.app, report._id, "completed");
    expect(ran.filter((id) => id === report._id)).toHaveLength(1);
  });
});

describe("REACTION_WORKERS_ENABLED=false on an API server", () => {
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it("consumes nothing: a files job stays ready with its message on the server lane, its default place", async () => {
    vi.stubEnv("REACTION_WORKERS_ENABLED", "false");
    vi.stubEnv("JOBS_SERVER_TYPES", undefined);
    const hostLogger = captureLogger();
    const host = new JobQueueHost({
      backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) },
      logger: hostLogger,
    });
    // Reaction's files plugin registered, JOBS_SERVER_TYPES unset: saveImage/* go to the servers.
    host.registerPlugin({ name: "files" });
    await host.start();
    const backend = await host.started();
    const sqs = sqsClientFor(backend);
    try {
      host.consume();
      const job = await host.backgroundJobs.scheduleJob({ type: "saveImage/local", data: {} });
      expect(job).toBeDefined();
      // Had anything consumed the lane, the job would be failed for want of a worker.
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: backend.local.queueUrls.server,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 0,
        }),
      );
      expect(Messages.map((m) => JSON.parse(m.Body ?? "{}").id)).toEqual([job?._id]);
      expect((await host.backgroundJobs.getJob(job?._id as string))?._doc.status).toBe("ready");
      // The consumer never started (an API server with workers starts it and says so).
      expect(hostLogger.lines.map((l) => l.message)).not.toContain("consuming the server lane");
      expect(logger.lines.map((l) => l.message)).toContain("consuming the server lane");
    } finally {
      sqs.destroy();
      await host.stop();
    }
  });
});

describe("the server lane on the AWS backend (the local stack's endpoints)", () => {
  const servers = useLocalApp();

  it("long-polls the server lane, runs a job end to end and stops at once, mid-poll", async () => {
    const { local } = servers.app;
    const app = createApp({
      backgroundJobs: {
        aws: {
          region: local.region,
          endpoints: local.endpoints,
          tableName: local.tableName,
          queueUrls: local.queueUrls,
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
        },
      },
      serverTypes: ["srv/aws"],
      logger: captureLogger(),
    });
    app.registerPlugin({
      name: "aws-server",
      functionsByType: {
        startup: [
          async ({ backgroundJobs }) => {
            await backgroundJobs.addWorker({
              type: "srv/aws",
              async worker(job) {
                await job.done({ on: "server" });
              },
            });
          },
        ],
      },
    });
    await app.start();
    let stopped = false;
    try {
      const job = await app.context.backgroundJobs.scheduleJob({ type: "srv/aws", data: {} });
      const done = await waitForStatus(app, job._id, "completed");
      expect(done.result).toEqual({ on: "server" });
    } finally {
      // The consumer is in a 20 s long poll now; stop() ends it at once.
      const stopping = app.stop().then(() => {
        stopped = true;
      });
      await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    expect(stopped).toBe(true);
  });
});
