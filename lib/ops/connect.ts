import { hostname, userInfo } from "node:os";
import type { App } from "../app.ts";
import { type AwsClients, createClients } from "../aws/clients.ts";
import { DynamoJobStore } from "../aws/dynamo/job-store.ts";
import { SqsLanes } from "../aws/lanes.ts";
import { redriveDeadLetterQueues } from "../aws/redrive.ts";
import { EventBridgeSchedules } from "../aws/schedules.ts";
import { awsOptionsFromEnvironment } from "../backend.ts";
import { JobValidationError } from "../errors.ts";
import { createJobSystem } from "../jobs/api.ts";
import type { JobDeps } from "../jobs/deps.ts";
import { type JobLogger, silentLogger } from "../log.ts";
import { envNames, stackOutputNames } from "../names.ts";
import { LANES, type LaneName } from "../resources.ts";
import { SqsQueueInspector } from "./aws/queues.ts";
import { SchedulerAdmin } from "./aws/schedules.ts";
import { stackOutputs } from "./aws/stack-outputs.ts";
import { redactSecrets } from "./detail.ts";
import { createOps, type Ops } from "./index.ts";
import type { OpsDeps, Redact } from "./ports.ts";
import { readStackFile, type StackInfo } from "./stack-file.ts";

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export class NoStackError extends Error {
  override name = "NoStackError";
}

export interface ConnectOptions {
  /** A deployment by its CloudFormation stack name (its outputs name the resources). */
  stack?: string;
  region?: string;
  /** Where a local stack writes stack.json (default `DATA_DIR`, else `.data`). */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Where to connect, in this order: `--stack NAME` (CloudFormation outputs), the `JOBS_*`
 * environment the construct gives its functions, a local stack's `<dataDir>/stack.json`.
 *
 * @example const info = await resolveStack({ stack: "BackgroundJobs", region: "eu-west-1" })
 */
export async function resolveStack(options: ConnectOptions = {}): Promise<StackInfo> {
  const env = options.env ?? process.env;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (options.stack) {
    if (!region)
      throw new JobValidationError("region", "--stack needs a region: --region or AWS_REGION");
    return fromOutputs(options.stack, region, await stackOutputs(options.stack, { region }));
  }
  if (env[envNames.tableName]) {
    const aws = awsOptionsFromEnvironment(env);
    return {
      source: "env",
      region: region ?? "us-east-1",
      tableName: aws.tableName,
      queueUrls: aws.queueUrls,
      ...(aws.deadLetterQueueUrls ? { deadLetterQueueUrls: aws.deadLetterQueueUrls } : {}),
      ...(aws.scheduleGroup ? { scheduleGroup: aws.scheduleGroup } : {}),
      ...(aws.schedulerRoleArn ? { schedulerRoleArn: aws.schedulerRoleArn } : {}),
    };
  }
  const dataDir = options.dataDir ?? env.DATA_DIR ?? ".data";
  const local = readStackFile(dataDir);
  if (local) return local;
  throw new NoStackError(
    `no stack to connect to: no ${dataDir}/stack.json (is npm start running? DATA_DIR or --data-dir moves it), no ${envNames.tableName} in the environment, no --stack NAME`,
  );
}

/** A stack's resources from the construct's CloudFormation outputs. */
export function fromOutputs(
  stackName: string,
  region: string,
  outputs: Record<string, string>,
): StackInfo {
  const need = (key: string): string => {
    const value = outputs[key];
    if (!value)
      throw new NoStackError(
        `stack ${stackName} has no output ${key}: is it a stack with the BackgroundJobs construct (deployed with this version)?`,
      );
    return value;
  };
  const lanes = <T>(read: (lane: LaneName) => T) =>
    Object.fromEntries(LANES.map((lane) => [lane, read(lane)])) as Record<LaneName, T>;
  return {
    source: "stack",
    stackName,
    region,
    tableName: need(stackOutputNames.tableName),
    queueUrls: lanes((lane) => need(stackOutputNames.queueUrl(lane))),
    deadLetterQueueUrls: lanes((lane) => need(stackOutputNames.deadLetterQueueUrl(lane))),
    scheduleGroup: need(stackOutputNames.scheduleGroup),
    schedulerRoleArn: need(stackOutputNames.schedulerRoleArn),
  };
}

export interface Connection {
  info: StackInfo;
  ops: Ops;
  deps: OpsDeps;
  clients: AwsClients;
  close(): void;
}

/** Who acts, for the audit trail: `BGJOBS_ACTOR`, else `user@host`. */
export function defaultActor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BGJOBS_ACTOR) return env.BGJOBS_ACTOR;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

/**
 * The operations on a stack, through the same AWS SDK clients and adapters the system runs
 * on (a local stack's are the same clients pointed at its loopback servers).
 */
export function connect(
  info: StackInfo,
  options: { actor?: string; logger?: JobLogger; redact?: Redact; deps?: JobDeps } = {},
): Connection {
  const clients = createClients({
    region: info.region,
    ...(info.endpoints ? { endpoints: info.endpoints, credentials: LOCAL_CREDENTIALS } : {}),
  });
  const jobs =
    options.deps ??
    createJobSystem({
      store: new DynamoJobStore(clients.documents, { tableName: info.tableName }),
      lanes: new SqsLanes(clients.sqs, info.queueUrls),
      ...(info.scheduleGroup && info.schedulerRoleArn
        ? {
            schedules: new EventBridgeSchedules(clients.scheduler, {
              groupName: info.scheduleGroup,
              roleArn: info.schedulerRoleArn,
              queueUrls: info.queueUrls,
            }),
          }
        : {}),
      logger: options.logger ?? silentLogger,
      cleanup: new Map(Object.entries(info.cleanup ?? {})),
      tenants: new Map(Object.entries(info.tenants ?? {})),
    }).deps;
  const dlqs = info.deadLetterQueueUrls;
  const deps: OpsDeps = {
    jobs,
    queues: new SqsQueueInspector(clients.sqs, info.queueUrls, dlqs),
    schedules: info.scheduleGroup
      ? new SchedulerAdmin(clients.scheduler, info.scheduleGroup)
      : { list: async () => [], setState: async () => "missing" },
    redrive: ({ lanes, onMessage }) => {
      if (!dlqs)
        throw new JobValidationError(
          "deadLetterQueueUrls",
          `are not known for this stack (set ${LANES.map((lane) => envNames.deadLetterQueueUrl(lane)).join(", ")})`,
        );
      return redriveDeadLetterQueues({
        sqs: clients.sqs,
        deadLetterQueueUrls: dlqs,
        store: jobs.store,
        lanes: jobs.lanes,
        ...(lanes ? { only: lanes } : {}),
        ...(onMessage ? { onMessage } : {}),
      });
    },
    actor: options.actor ?? defaultActor(),
    redact: options.redact ?? redactSecrets,
  };
  return {
    info,
    ops: createOps(deps),
    deps,
    clients,
    close: () => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      clients.scheduler.destroy();
    },
  };
}

/** The stack an app runs on in this process, as `bgjobs` would read it from stack.json. */
export function stackInfoOfApp(app: App): StackInfo {
  const { endpoints, region, tableName, queueUrls, deadLetterQueueUrls } = app.local;
  return {
    source: "local",
    region,
    endpoints,
    tableName,
    queueUrls,
    deadLetterQueueUrls,
    ...app.localScheduling,
  };
}

/**
 * The operations on an app running in this process (the dashboard `npm start` serves): its
 * own job system, so a cancel ends a run here at once, and clients on its local servers.
 */
export function connectToApp(
  app: App,
  options: { actor?: string; redact?: Redact } = {},
): Connection {
  return connect(stackInfoOfApp(app), { ...options, deps: app.jobDeps });
}
