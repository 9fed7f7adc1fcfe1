import { execFile } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { App, type CfnElement, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackgroundJobs } from "../../infra/background-jobs/construct.ts";
import { type JobBackend, startJobBackend } from "../../lib/backend.ts";
import { onSharedDynamoDb, waitForStatus } from "../support/local-app.ts";
import { sqsEvent } from "../support/sqs-event.ts";

// The Lambda path with Reaction's core: the construct bundles the example Reaction API
// (examples/reaction/app.js: ReactionAPICore, the swap-in, Reaction's email and sitemap
// plugins, a mail-transport stand-in) with the Reaction dispatcher. The synthesized bundle runs
// in a fresh Node process as in a Lambda cold start, with only the AWS SDK beside it (what the
// Lambda runtime provides), against the local stack's servers, and handles a sendEmail message
// with the real email plugin. MEASURE_COLD_STARTS=5 runs it that many times and prints the
// bundle size and the cold-start figures the README quotes.
const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const coldStarts = Number(process.env.MEASURE_COLD_STARTS ?? 1);
let scratch: string;
let bundle: string;
let backend: JobBackend;
let template: Template;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "reaction-lambda-"));
  // The Lambda runtime's AWS SDK: the only package beside the bundle.
  mkdirSync(join(scratch, "node_modules"));
  symlinkSync(join(repo, "node_modules", "@aws-sdk"), join(scratch, "node_modules", "@aws-sdk"));
  const app = new App({ outdir: join(scratch, "cdk.out") });
  const stack = new Stack(app, "ReactionJobs");
  const jobs = new BackgroundJobs(stack, "Jobs", {
    reactionApp: {
      entry: "examples/reaction/app.js",
      environment: { REACTION_LOG_LEVEL: "FATAL" },
    },
  });
  app.synth();
  template = Template.fromStack(stack);
  const code = (jobs.dispatcher.node.defaultChild as CfnElement & { code: { s3Key: string } }).code
    .s3Key;
  bundle = join(scratch, "cdk.out", `asset.${code.replace(/\.zip$/, "")}`, "index.mjs");
  writeFileSync(join(scratch, "invoke.mjs"), INVOKE);
  backend = await startJobBackend({ backgroundJobs: { local: onSharedDynamoDb({ quiet: true }) } });
}, 180_000);

afterAll(async () => {
  await backend?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/**
 * One cold start: load the bundle, boot it (an empty batch: Reaction's startup, the job
 * backend), hand it one SQS event; report the timings and the response.
 */
const INVOKE = `
const started = performance.now();
const { handler } = await import(process.argv[2]);
const loaded = performance.now();
await handler({ Records: [] });
const booted = performance.now();
const response = await handler(JSON.parse(process.argv[3]));
const handled = performance.now();
console.log(JSON.stringify({
  response, loadMs: loaded - started, bootMs: booted - loaded, eventMs: handled - booted,
}));
process.exit(0); // a Lambda process is frozen, never ended: mongo-mock's timer would keep it up
`;

async function coldStart(event: unknown) {
  const local = backend.local;
  const env = {
    PATH: process.env.PATH,
    AWS_LAMBDA_FUNCTION_NAME: "ReactionJobs-Dispatcher",
    AWS_REGION: local.region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: local.endpoints.sqs,
    JOBS_TABLE_NAME: local.tableName,
    JOBS_QUEUE_URL_CRITICAL: local.queueUrls.critical,
    JOBS_QUEUE_URL_NORMAL: local.queueUrls.normal,
    JOBS_QUEUE_URL_LOW: local.queueUrls.low,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    REACTION_LOG_LEVEL: "FATAL",
    POWERTOOLS_METRICS_DISABLED: "true",
    POWERTOOLS_LOG_LEVEL: "DEBUG",
  };
  const started = performance.now();
  const { stdout } = await run(
    process.execPath,
    [join(scratch, "invoke.mjs"), bundle, JSON.stringify(event)],
    { cwd: scratch, env, timeout: 60_000 },
  );
  const lines = stdout.trim().split("\n");
  return {
    ...(JSON.parse(lines.at(-1) as string) as {
      response: unknown;
      loadMs: number;
      bootMs: number;
      eventMs: number;
    }),
    processMs: performance.now() - started,
    stdout,
  };
}

describe("the synthesized Reaction dispatcher bundle", () => {
  it("boots Reaction's core in a cold start and runs a sendEmail job with the real email plugin", async () => {
    const size = statSync(bundle).size;
    expect(readFileSync(bundle, "utf8")).not.toMatch(/from\s*["']@reactioncommerce\//);
    const timings: Array<{ loadMs: number; bootMs: number; eventMs: number; processMs: number }> =
      [];
    for (let i = 0; i < coldStarts; i += 1) {
      const job = await backend.system.backgroundJobs.scheduleJob({
        type: "sendEmail",
        data: {
          from: "shop@example.com",
          to: `lambda${i}@example.com`,
          subject: "From Lambda",
          html: "<p>Hi</p>",
          shopId: "shop1",
        },
      });
      const result = await coldStart(
        sqsEvent([JSON.stringify({ id: job._id, type: "sendEmail" })]),
      );
      expect(result.response).toEqual({ batchItemFailures: [] });
      // The mail transport stand-in, answering the email plugin's sendEmail event.
      expect(result.stdout).toContain(`mail to lambda${i}@example.com: From Lambda`);
      // The example shop's sitemap job: its startup calls were skipped, and said so once.
      const skipped = result.stdout
        .split("\n")
        .filter((line) => line.includes('"startup scheduling skipped"'))
        .map((line) => JSON.parse(line));
      expect(skipped).toEqual([expect.objectContaining({ scheduleJob: 1, cancelJobs: 1 })]);
      const done = await waitForStatus({ context: backend.system }, job._id, "completed");
      expect(done.retried).toBe(1);
      timings.push(result);
    }
    // Cold starts changed no job record: no sitemap job, only the messages' own jobs.
    expect((await backend.system.deps.store.knownTypes()).sort()).toEqual(["sendEmail"]);
    const median = (values: number[]) =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      JSON.stringify({
        bundleBytes: size,
        bundleGzipBytes: gzipSync(readFileSync(bundle)).length,
        coldStarts,
        medianLoadMs: Math.round(median(timings.map((t) => t.loadMs)) as number),
        medianBootMs: Math.round(median(timings.map((t) => t.bootMs)) as number),
        medianEventMs: Math.round(median(timings.map((t) => t.eventMs)) as number),
        medianProcessMs: Math.round(median(timings.map((t) => t.processMs)) as number),
      }),
    );
  });
});

describe("the construct's reactionApp prop", () => {
  it("gives both functions the app's environment beside the construct's", () => {
    const functions = Object.values(template.findResources("AWS::Lambda::Function")).filter(
      (fn) => fn.Properties.Environment?.Variables?.JOBS_TABLE_NAME,
    );
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({ REACTION_LOG_LEVEL: "FATAL" });
    }
    template.hasResourceProperties("AWS::Lambda::Function", {
      Handler: "index.handler",
      Runtime: Match.stringLikeRegexp("nodejs22"),
    });
  });

  it("is refused beside pluginsEntry, and one of them is required", () => {
    const stack = new Stack(new App(), "Both");
    expect(
      () =>
        new BackgroundJobs(stack, "Jobs", {
          pluginsEntry: "lambdas/plugins.ts",
          reactionApp: { entry: "examples/reaction/app.js" },
        }),
    ).toThrow("BackgroundJobs: give exactly one of pluginsEntry and reactionApp");
    expect(() => new BackgroundJobs(new Stack(new App(), "None"), "Jobs", {})).toThrow(
      "exactly one of pluginsEntry and reactionApp",
    );
  });
});
