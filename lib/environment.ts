/**
 * Every environment variable the runtime and `bgjobs` read, read here and nowhere else (as
 * Powertools keeps its own in one `EnvironmentVariablesService`): the deployment's resources
 * the CDK construct sets, the region, the local stack's data folder, whether this process is
 * a Lambda function, Reaction's workers switch. Each reader takes the environment as an
 * argument (default `process.env`), so tests pass their own. The names are in lib/names.ts.
 */
import { JobValidationError } from "./errors.ts";
import { DEFAULT_METRICS_NAMESPACE, envNames, hostEnvNames } from "./names.ts";
import { LANES, type LaneName } from "./resources.ts";
import type { StackResources } from "./stack.ts";

type Env = NodeJS.ProcessEnv;

/** Where the local stack keeps its data when `JOBS_DATA_DIR` (or `DATA_DIR`) is not set. */
export const DEFAULT_DATA_DIR = ".data";

/** A variable's value, `undefined` when unset or empty. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Whether the environment names a deployment (`JOBS_TABLE_NAME` is set, as the construct
 * sets it on every function).
 */
export function hasDeploymentEnvironment(env: Env = process.env): boolean {
  return read(env, envNames.tableName) !== undefined;
}

/**
 * The deployment's resources from the variables the CDK construct sets on its functions.
 * Missing table or lane variables are refused, naming each.
 *
 * @example resourcesFromEnvironment().queueUrls.normal // JOBS_QUEUE_URL_NORMAL's value
 */
export function resourcesFromEnvironment(env: Env = process.env): StackResources {
  const tableName = read(env, envNames.tableName);
  const perLane = (name: (lane: LaneName) => string) =>
    LANES.map((lane) => [lane, read(env, name(lane))] as const);
  const queueUrls = perLane(envNames.queueUrl);
  const deadLetters = perLane(envNames.deadLetterQueueUrl);
  const missing = [
    ...(tableName ? [] : [envNames.tableName]),
    ...queueUrls.filter(([, url]) => !url).map(([lane]) => envNames.queueUrl(lane)),
  ];
  if (missing.length > 0 || !tableName) {
    throw new JobValidationError(
      "backgroundJobs",
      `no backend chosen: pass { local: {} } or { aws: {...} }, or set ${missing.join(", ")} (the CDK construct does)`,
    );
  }
  const region = regionFromEnvironment(env);
  const scheduleGroup = read(env, envNames.scheduleGroup);
  const schedulerRoleArn = read(env, envNames.schedulerRoleArn);
  return {
    ...(region ? { region } : {}),
    tableName,
    queueUrls: Object.fromEntries(queueUrls) as Record<LaneName, string>,
    ...(deadLetters.every(([, url]) => url)
      ? { deadLetterQueueUrls: Object.fromEntries(deadLetters) as Record<LaneName, string> }
      : {}),
    ...(scheduleGroup ? { scheduleGroup } : {}),
    ...(schedulerRoleArn ? { schedulerRoleArn } : {}),
  };
}

/** `AWS_REGION` (Lambda sets it), else `AWS_DEFAULT_REGION` (the AWS CLI's), else `undefined`. */
export function regionFromEnvironment(env: Env = process.env): string | undefined {
  return read(env, hostEnvNames.region) ?? read(env, hostEnvNames.defaultRegion);
}

/**
 * The endpoint an AWS SDK client for `serviceId` (its SDK service id: `CloudFormation`,
 * `DynamoDB`, `SQS`, `Scheduler`) takes from the environment, with the SDK's precedence:
 * nothing when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true, else
 * `AWS_ENDPOINT_URL_<SERVICE>` (the id upper-cased, spaces as `_`), else `AWS_ENDPOINT_URL`.
 * (The SDK then reads the shared config file's `endpoint_url`; the SDK clients do, this does not.)
 * For the one call made without an SDK client (CloudFormation `DescribeStacks`).
 *
 * @example endpointFromEnvironment("CloudFormation", { AWS_ENDPOINT_URL: "http://127.0.0.1:5000" })
 */
export function endpointFromEnvironment(
  serviceId: string,
  env: Env = process.env,
): string | undefined {
  const ignore = read(env, hostEnvNames.ignoreConfiguredEndpointUrls);
  if (ignore !== undefined && ignore.trim().toLowerCase() === "true") return undefined;
  const suffix = serviceId
    .split(" ")
    .map((word) => word.toUpperCase())
    .join("_");
  return read(env, `${hostEnvNames.endpointUrl}_${suffix}`) ?? read(env, hostEnvNames.endpointUrl);
}

/**
 * The local stack's data folder: `JOBS_DATA_DIR`, else its older name `DATA_DIR`, else
 * `.data`. The same for `npm start`, the Reaction plugin and `bgjobs`, so each finds the
 * others' stack.
 *
 * @example dataDirFromEnvironment({ DATA_DIR: "/tmp/jobs" }) // "/tmp/jobs"
 */
export function dataDirFromEnvironment(env: Env = process.env): string {
  return (
    read(env, hostEnvNames.dataDir) ?? read(env, hostEnvNames.dataDirAlias) ?? DEFAULT_DATA_DIR
  );
}

/** True inside a Lambda function (Lambda sets `AWS_LAMBDA_FUNCTION_NAME`). */
export function inLambdaEnvironment(env: Env = process.env): boolean {
  return env[hostEnvNames.lambdaFunctionName] !== undefined;
}

/** The CloudWatch namespace of the job metrics (`JOBS_METRICS_NAMESPACE`, else the default). */
export function metricsNamespaceFromEnvironment(env: Env = process.env): string {
  return read(env, envNames.metricsNamespace) ?? DEFAULT_METRICS_NAMESPACE;
}

/** The dispatcher's timeout the construct sets (`JOBS_FUNCTION_TIMEOUT_MS`), if it is a positive number. */
export function functionTimeoutMsFromEnvironment(env: Env = process.env): number | undefined {
  const value = Number(env[envNames.functionTimeoutMs]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Who acts, for the operator tools' audit trail (`BGJOBS_ACTOR`), if set. */
export function actorFromEnvironment(env: Env = process.env): string | undefined {
  return read(env, hostEnvNames.actor);
}

const TRUE = new Set(["true", "t", "yes", "on", "1"]);
const FALSE = new Set(["false", "f", "no", "off", "0"]);

/**
 * `REACTION_WORKERS_ENABLED` as Reaction reads it (envalid's `bool`, default true). Any other
 * value is refused, naming the variable, as envalid refuses it at Reaction's start.
 *
 * @example workersEnabledFromEnvironment({ REACTION_WORKERS_ENABLED: "false" }) // false
 */
export function workersEnabledFromEnvironment(env: Env = process.env): boolean {
  const raw = read(env, hostEnvNames.workersEnabled);
  if (raw === undefined) return true;
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new JobValidationError(hostEnvNames.workersEnabled, `must be true or false (got "${raw}")`);
}
