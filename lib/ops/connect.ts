import { hostname, userInfo } from "node:os";
import type { App } from "../app.ts";
import type { AwsClients } from "../aws/clients.ts";
import { adaptersFor, redriveDeadLetters } from "../backend/adapters.ts";
import { clientsFor, destroyClients } from "../backend/aws.ts";
import {
  actorFromEnvironment,
  dataDirFromEnvironment,
  hasDeploymentEnvironment,
  regionFromEnvironment,
  resourcesFromEnvironment,
} from "../environment.ts";
import { JobValidationError } from "../errors.ts";
import { createJobSystem } from "../jobs/api.ts";
import type { JobDeps } from "../jobs/deps.ts";
import { type JobLogger, silentLogger } from "../log.ts";
import { envNames, hostEnvNames, stackOutputNames } from "../names.ts";
import { LANES, type LaneName } from "../resources.ts";
import { DEFAULT_REGION, LOCAL_CREDENTIALS, type StackResources } from "../stack.ts";
import { readStackFile, type StackFile } from "../stack-file.ts";
import { SqsQueueInspector } from "./aws/queues.ts";
import { SchedulerAdmin } from "./aws/schedules.ts";
import { stackOutputs } from "./aws/stack-outputs.ts";
import { redactSecrets } from "./detail.ts";
import { createOps, type Ops } from "./index.ts";
import type { OpsDeps, Redact } from "./ports.ts";

/**
 * A stack `bgjobs` found: its resources (lib/stack.ts), where they were found, and what a
 * local stack's `stack.json` adds (the writing process, the plugins' rules).
 */
export interface StackInfo extends StackResources, Omit<StackFile, keyof StackResources> {
  /** `local` (stack.json), `env` (`JOBS_*`), `stack` (CloudFormation outputs). */
  source: "local" | "env" | "stack";
  region: string;
  stackName?: string;
}

export class NoStackError extends Error {
  override name = "NoStackError";
}

export interface ConnectOptions {
  /** A deployment by its CloudFormation stack name (its outputs name the resources). */
  stack?: string;
  region?: string;
  /** Where a local stack writes stack.json (default `JOBS_DATA_DIR`, else `DATA_DIR`, else `.data`). */
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
  const region = options.region ?? regionFromEnvironment(env);
  if (options.stack) {
    if (!region)
      throw new JobValidationError("region", "--stack needs a region: --region or AWS_REGION");
    // Its endpoint comes from process.env, where the SDK clients that follow read theirs.
    return fromOutputs(options.stack, region, await stackOutputs(options.stack, { region }));
  }
  if (hasDeploymentEnvironment(env)) {
    return { source: "env", ...resourcesFromEnvironment(env), region: region ?? DEFAULT_REGION };
  }
  const dataDir = options.dataDir ?? dataDirFromEnvironment(env);
  const local = readStackFile(dataDir);
  if (local) return { source: "local", ...local };
  throw new NoStackError(
    `no stack to connect to: no ${dataDir}/stack.json (is npm start running? ${hostEnvNames.dataDir} or --data-dir moves it), no ${envNames.tableName} in the environment, no --stack NAME`,
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
  const actor = actorFromEnvironment(env);
  if (actor) return actor;
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
  options: {
    actor?: string;
    logger?: JobLogger;
    redact?: Redact;
    deps?: JobDeps;
    /** Clients of the caller's (tests with injected faults); closed with the connection. */
    clients?: AwsClients;
  } = {},
): Connection {
  // A local stack's servers take any key; a deployment's clients use the default chain.
  const clients =
    options.clients ?? clientsFor(info, info.endpoints ? { credentials: LOCAL_CREDENTIALS } : {});
  const jobs =
    options.deps ??
    createJobSystem({
      ...adaptersFor(clients, info),
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
      : {
          list: async () => [],
          group: async () => {
            throw new NoStackError("no schedule group known");
          },
          setState: async () => "missing",
        },
    redrive: ({ lanes, onMessage }) =>
      redriveDeadLetters(clients, info, jobs, {
        ...(lanes ? { only: lanes } : {}),
        ...(onMessage ? { onMessage } : {}),
      }),
    actor: options.actor ?? defaultActor(),
    redact: options.redact ?? redactSecrets,
  };
  return {
    info,
    ops: createOps(deps),
    deps,
    clients,
    close: () => destroyClients(clients),
  };
}

/** The stack an app runs on in this process, as `bgjobs` would read it from stack.json. */
export function stackInfoOfApp(app: App): StackInfo {
  return { source: "local", ...app.local };
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
