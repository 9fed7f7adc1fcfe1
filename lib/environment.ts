/**
 * Every environment variable the runtime and `bgjobs` read, read here and nowhere else (as
 * Powertools keeps its own in one `EnvironmentVariablesService`): the deployment's resources
 * the CDK construct sets, the region, the local stack's data folder, whether this process is
 * a Lambda function, Reaction's workers switch. Each reader takes the environment as an
 * argument (default `process.env`), so tests pass their own. The names are in lib/names.ts.
 */
import { JobValidationError } from "./errors.ts";
import { DEFAULT_METRICS_NAMESPACE, envNames, hostEnvNames } from "./names.ts";
import { LANES, type LaneName, type LaneUrls, SERVER_LANE } from "./resources.ts";
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
  const server = serverLaneFromEnvironment(env);
  const region = regionFromEnvironment(env);
  const scheduleGroup = read(env, envNames.scheduleGroup);
  const schedulerRoleArn = read(env, envNames.schedulerRoleArn);
  const payloadBucket = read(env, envNames.payloadBucket);
  return {
    ...(region ? { region } : {}),
    tableName,
    queueUrls: { ...(Object.fromEntries(queueUrls) as Record<LaneName, string>), ...server.queue },
    ...(deadLetters.every(([, url]) => url)
      ? {
          deadLetterQueueUrls: {
            ...(Object.fromEntries(deadLetters) as Record<LaneName, string>),
            ...server.deadLetter,
          },
        }
      : {}),
    ...(scheduleGroup ? { scheduleGroup } : {}),
    ...(schedulerRoleArn ? { schedulerRoleArn } : {}),
    ...(payloadBucket ? { payloadBucket } : {}),
  };
}

/**
 * The payload bucket the construct names (`JOBS_PAYLOAD_BUCKET`) for the payload purger, which
 * needs nothing else; refused, naming the variable, when unset.
 */
export function payloadBucketFromEnvironment(env: Env = process.env): string {
  const bucket = read(env, envNames.payloadBucket);
  if (!bucket) throw new JobValidationError(envNames.payloadBucket, "must name the payload bucket");
  return bucket;
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

// ---- the memory backend (JOBS_BACKEND=memory), for a team's tests --------------------------

/** The one value `JOBS_BACKEND` takes. */
const MEMORY_BACKEND = "memory";

/**
 * Whether `JOBS_BACKEND=memory` asks for the in-process memory backend (unset: no). Any other
 * value is refused, naming the variable.
 *
 * @example memoryBackendFromEnvironment({ JOBS_BACKEND: "memory" }) // true
 */
export function memoryBackendFromEnvironment(env: Env = process.env): boolean {
  const raw = read(env, hostEnvNames.backend);
  if (raw === undefined) return false;
  if (raw.trim().toLowerCase() === MEMORY_BACKEND) return true;
  throw new JobValidationError(
    hostEnvNames.backend,
    `must be "memory" or unset (got "${raw}"): unset, the backend is the deployment's (JOBS_TABLE_NAME) or the local stack`,
  );
}

/**
 * Refuses the memory backend where it would be silently wrong: inside Lambda (every
 * invocation would lose its jobs) or beside a deployment's resource variables (jobs meant for
 * the table and queues would live and die in this process). The error names the variable.
 *
 * @example checkMemoryBackendAllowed({ JOBS_TABLE_NAME: "prod-jobs" }) // throws, naming JOBS_TABLE_NAME
 */
export function checkMemoryBackendAllowed(env: Env = process.env): void {
  const why = "the memory backend (JOBS_BACKEND=memory or backgroundJobs.memory) is for tests only";
  if (inLambdaEnvironment(env))
    throw new JobValidationError(
      hostEnvNames.lambdaFunctionName,
      `is set: this is a Lambda function, and ${why}: its jobs would vanish with the invocation`,
    );
  const deploymentVariables = [
    envNames.tableName,
    ...LANES.map((lane) => envNames.queueUrl(lane)),
    envNames.scheduleGroup,
  ];
  const set = deploymentVariables.find((name) => read(env, name) !== undefined);
  if (set)
    throw new JobValidationError(
      set,
      `is set, naming a deployment, and ${why}: unset ${hostEnvNames.backend} to use the deployment, or unset ${set} in the tests' environment`,
    );
}

// ---- where a job runs: the server lane ---------------------------------------------------------

/** The server lane's queue and DLQ URLs (`JOBS_QUEUE_URL_SERVER`, `JOBS_DLQ_URL_SERVER`), when set. */
function serverLaneFromEnvironment(env: Env): {
  queue: Pick<LaneUrls, "server">;
  deadLetter: Pick<LaneUrls, "server">;
} {
  const queue = read(env, envNames.queueUrl(SERVER_LANE));
  const deadLetter = read(env, envNames.deadLetterQueueUrl(SERVER_LANE));
  return {
    queue: queue ? { server: queue } : {},
    deadLetter: deadLetter ? { server: deadLetter } : {},
  };
}

/**
 * `JOBS_SERVER_TYPES`: the job types that run on the API servers, comma-separated
 * (`saveImage/local, saveImage/remote`); `undefined` when unset, an empty list when set to
 * nothing (`JOBS_SERVER_TYPES=`: no server types, whatever a default would be). An empty name
 * (`a,,b`, a trailing comma) or a name given twice is refused, naming the variable.
 *
 * @example serverTypesFromEnvironment({ JOBS_SERVER_TYPES: "saveImage/local" }) // ["saveImage/local"]
 */
export function serverTypesFromEnvironment(env: Env = process.env): string[] | undefined {
  const raw = env[envNames.serverTypes];
  if (raw === undefined) return undefined;
  return parseServerTypes(raw, envNames.serverTypes);
}

/**
 * A server types list as `JOBS_SERVER_TYPES` writes it, or as the construct's `serverTypes`
 * and the options give it, checked: non-empty names without surrounding spaces or commas,
 * each once. `field` names where it came from in the error.
 *
 * @example parseServerTypes("a, b", "JOBS_SERVER_TYPES") // ["a", "b"]
 */
export function parseServerTypes(value: string | readonly string[], field: string): string[] {
  if (typeof value === "string" && value.trim() === "") return [];
  const names = typeof value === "string" ? value.split(",").map((name) => name.trim()) : value;
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const where = typeof value === "string" ? `${field} (name ${i + 1})` : `${field}[${i}]`;
    if (typeof name !== "string" || name.trim() === "")
      throw new JobValidationError(where, "is empty: give job types separated by commas");
    if (typeof value !== "string" && (name !== name.trim() || name.includes(",")))
      throw new JobValidationError(where, `"${name}" has spaces around it or a comma in it`);
    if (seen.has(name)) throw new JobValidationError(where, `"${name}" is given twice`);
    seen.add(name);
  });
  return [...names];
}
