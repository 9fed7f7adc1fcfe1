import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { GetFunctionCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { REPO } from "./moto-template.ts";
import { extractZip } from "./unzip.ts";

/** A deployed function's code or configuration the runtime cannot load. */
export class DeployedFunctionError extends Error {
  override name = "DeployedFunctionError";
  constructor(
    readonly functionName: string,
    message: string,
  ) {
    super(`${functionName}: ${message}`);
  }
}

/** A deployed function, loaded as Lambda's Node.js runtime loads it. */
export interface DeployedFunction {
  name: string;
  handler: string;
  runtime: string;
  /** Seconds. */
  timeout: number;
  /** The deployed environment variables. */
  environment: Record<string, string>;
  /** Where its code was unpacked. */
  dir: string;
  /** One invocation: `handler(event, context)` with the function's environment applied. */
  invoke<T>(event: unknown, remainingMs?: number): Promise<T>;
  remove(): void;
}

/**
 * Whose environment `process.env` holds (there is one per process): invocations of one
 * function may overlap, as on AWS; another function's wait until none is in flight.
 */
const applied: {
  functionName?: string;
  inFlight: number;
  saved: Map<string, string | undefined>;
  waiting: (() => void)[];
} = { inFlight: 0, saved: new Map(), waiting: [] };

async function enterEnvironment(functionName: string, env: Record<string, string>): Promise<void> {
  while (applied.functionName !== undefined && applied.functionName !== functionName)
    await new Promise<void>((resolve) => applied.waiting.push(resolve));
  if (applied.inFlight === 0) {
    applied.functionName = functionName;
    applied.saved = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
    Object.assign(process.env, env);
  }
  applied.inFlight += 1;
}

function leaveEnvironment(): void {
  applied.inFlight -= 1;
  if (applied.inFlight > 0) return;
  for (const [name, value] of applied.saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  applied.functionName = undefined;
  for (const wake of applied.waiting.splice(0)) wake();
}

/**
 * Loads `functionName` as deployed: its configuration from `GetFunction`, its code zip from
 * S3 (the deployment bucket, the key its `Code` points at, checked against `CodeSha256`),
 * unpacked into a temporary folder whose `node_modules` (a link to the checkout's) stands in
 * for the runtime's own AWS SDK. `handler` ("file.export") is imported as Lambda's Node.js
 * runtime does: `file` with `.js`, `.mjs` or `.cjs`, imported natively (an ES module here).
 * `lambdaEnv` is what Lambda itself adds (region, credentials, function name) and the
 * endpoint.
 *
 * @example const dispatcher = await loadDeployedFunction(lambda, s3, name, bucket, lambdaEnv)
 */
export async function loadDeployedFunction(
  lambda: LambdaClient,
  s3: S3Client,
  functionName: string,
  codeBucket: string,
  lambdaEnv: Record<string, string>,
): Promise<DeployedFunction> {
  const { Configuration, Code } = await lambda.send(
    new GetFunctionCommand({ FunctionName: functionName }),
  );
  const handler = Configuration?.Handler;
  const location = Code?.Location;
  if (!Configuration || !handler || !location)
    throw new DeployedFunctionError(functionName, "GetFunction has no handler or code location");
  const key = decodeURIComponent(new URL(location).pathname.split("/").pop() ?? "");
  const object = await s3.send(new GetObjectCommand({ Bucket: codeBucket, Key: key }));
  const zip = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  const sha = createHash("sha256").update(zip).digest("base64");
  if (sha !== Configuration.CodeSha256)
    throw new DeployedFunctionError(
      functionName,
      `s3://${codeBucket}/${key} is not the deployed code (sha256 ${sha}, deployed ${Configuration.CodeSha256})`,
    );
  const dir = mkdtempSync(join(tmpdir(), "lambda-task-"));
  extractZip(zip, dir);
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));

  const [file, exported] = splitHandler(functionName, handler);
  const found = [".js", ".mjs", ".cjs"].map((ext) => join(dir, `${file}${ext}`)).find(existsSync);
  if (!found) throw new DeployedFunctionError(functionName, `no ${file}.js/.mjs/.cjs in its code`);
  const timeout = Configuration.Timeout ?? 3;
  const environment = Configuration.Environment?.Variables ?? {};
  const env = {
    ...lambdaEnv,
    ...environment,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(Configuration.MemorySize ?? 128),
    AWS_EXECUTION_ENV: `AWS_Lambda_${Configuration.Runtime}`,
    LAMBDA_TASK_ROOT: dir,
  };
  let loaded: Promise<(event: unknown, context: unknown) => Promise<unknown>> | undefined;
  const load = async () => {
    const module = await nativeImport(pathToFileURL(found).href);
    const fn = module[exported];
    if (typeof fn !== "function")
      throw new DeployedFunctionError(functionName, `${found} exports no function ${exported}`);
    return fn as (event: unknown, context: unknown) => Promise<unknown>;
  };
  let requests = 0;
  return {
    name: functionName,
    handler,
    runtime: Configuration.Runtime ?? "",
    timeout,
    environment,
    dir,
    invoke: <T>(event: unknown, remainingMs = timeout * 1000) => {
      const deadline = Date.now() + remainingMs;
      requests += 1;
      const context = {
        functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: Configuration.FunctionArn,
        memoryLimitInMB: String(Configuration.MemorySize ?? 128),
        awsRequestId: `moto-${requests}`,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      return (async () => {
        await enterEnvironment(functionName, env);
        try {
          loaded ??= load(); // the cold start: the module is imported under the function's env
          return (await (
            await loaded
          )(event, context)) as T;
        } finally {
          leaveEnvironment();
        }
      })();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** "index.handler" → ["index", "handler"]; a path before the last dot is the file. */
function splitHandler(functionName: string, handler: string): [string, string] {
  const dot = handler.lastIndexOf(".");
  if (dot <= 0 || dot === handler.length - 1)
    throw new DeployedFunctionError(functionName, `handler "${handler}" is not file.export`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/**
 * Node's own `import()`, not the test runner's transform: the bundle is loaded as the Lambda
 * runtime loads it (see native-import.cjs).
 */
const nativeImport = createRequire(import.meta.url)("./native-import.cjs") as (
  url: string,
) => Promise<Record<string, unknown>>;
