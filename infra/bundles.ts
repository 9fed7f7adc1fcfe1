import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { App, type CfnElement } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { envNames } from "../lib/names.ts";
import { LANES } from "../lib/resources.ts";
import type { LocalStackInfo } from "../lib/stack.ts";
import { buildApp } from "./app.ts";

const REPO = resolve(import.meta.dirname, "..");
const RUNTIME = join(REPO, "infra/lambda-runtime.mjs");
const run = promisify(execFile);

export type FunctionName = "dispatcher" | "reconciler" | "startup";

/** One function of the synthesized stack: its bundle as `cdk deploy` uploads it, its environment. */
export interface SynthesizedFunction {
  /** `asset.<hash>/index.mjs` in the cloud assembly. */
  bundle: string;
  /** The function's environment variables from the template (CloudFormation tokens as JSON). */
  environment: Record<string, unknown>;
  /** Its timeout, in seconds. */
  timeout: number;
}

/**
 * Synthesizes the deployable app as `cdk synth` does (cdk.json's context, bundling on) into a
 * temporary cloud assembly, and finds each function's bundle there. The assembly gets a
 * `node_modules` link to the checkout's, standing in for the Lambda runtime's own AWS SDK.
 */
export function synthesizeBundles(): {
  functions: Record<FunctionName, SynthesizedFunction>;
  remove(): void;
} {
  const outdir = mkdtempSync(join(tmpdir(), "bundles-"));
  const context = JSON.parse(readFileSync(join(REPO, "cdk.json"), "utf8")).context;
  const { stack } = buildApp(new App({ outdir, context }));
  const assembly = stack.node.root as App;
  const template = assembly.synth().getStackByName(stack.stackName).template;
  symlinkSync(join(REPO, "node_modules"), join(outdir, "node_modules"));
  const found = (fn: IConstruct): SynthesizedFunction => {
    const id = stack.getLogicalId(fn.node.defaultChild as CfnElement);
    const { Code, Environment, Timeout } = template.Resources[id].Properties;
    const hash = String(Code.S3Key).replace(/\.zip$/, "");
    return {
      bundle: join(outdir, `asset.${hash}`, "index.mjs"),
      environment: Environment.Variables,
      timeout: Timeout,
    };
  };
  return {
    functions: {
      dispatcher: found(stack.jobs.dispatcher),
      reconciler: found(stack.jobs.reconciler),
      startup: found(stack.jobs.startup as IConstruct),
    },
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * The environment a function gets in an account, pointed at the local servers: each
 * variable the template sets, with its resource reference replaced by the local resource's
 * name. A variable the local stack has no value for fails here, naming it.
 */
export function localEnvironment(
  fn: SynthesizedFunction,
  local: LocalStackInfo,
  overrides: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const values: Record<string, string> = {
    [envNames.tableName]: local.tableName,
    [envNames.scheduleGroup]: local.scheduleGroup,
    [envNames.schedulerRoleArn]: local.schedulerRoleArn,
    [envNames.payloadBucket]: local.payloadBucket,
  };
  for (const lane of LANES) {
    values[envNames.queueUrl(lane)] = local.queueUrls[lane];
    values[envNames.deadLetterQueueUrl(lane)] = local.deadLetterQueueUrls[lane];
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_LAMBDA_FUNCTION_NAME: "local-function",
    AWS_REGION: local.region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: local.endpoints.sqs,
    AWS_ENDPOINT_URL_SCHEDULER: local.endpoints.scheduler,
    AWS_ENDPOINT_URL_S3: local.endpoints.s3,
  };
  for (const [name, value] of Object.entries(fn.environment)) {
    if (values[name] !== undefined) env[name] = values[name];
    else if (typeof value === "string") env[name] = value;
    else throw new Error(`no local value for ${name} (${JSON.stringify(value)})`);
  }
  return { ...env, ...overrides };
}

export interface Invocation<T> {
  result?: T;
  error?: string;
  importMs?: number;
  invokeMs?: number;
}

/**
 * A cold start and one invocation: a fresh Node.js process imports the bundle and calls its
 * `handler(event, context)`, as the Lambda runtime does.
 */
export async function invokeCold<T>(
  fn: SynthesizedFunction,
  env: NodeJS.ProcessEnv,
  event: unknown,
  remainingMs = fn.timeout * 1000,
): Promise<Invocation<T>> {
  const dir = mkdtempSync(join(tmpdir(), "invoke-"));
  try {
    const request = join(dir, "request.json");
    const response = join(dir, "response.json");
    writeFileSync(request, JSON.stringify({ event, remainingMs }));
    await run(process.execPath, [RUNTIME, fn.bundle, request, response], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(readFileSync(response, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
