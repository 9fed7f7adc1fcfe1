import type { LocalBackendOptions } from "../backend.ts";
import { type AwsBackendOptions, awsOptionsFromEnvironment } from "../backend.ts";
import { JobValidationError } from "../errors.ts";
import { envNames } from "../names.ts";

/** Where the local stack keeps its data when `JOBS_DATA_DIR` is not set. */
export const DEFAULT_DATA_DIR = ".data";

/** The variables the plugin reads besides the construct's `JOBS_*` resource names. */
export const reactionEnvNames = {
  /** Reaction's own switch (default true): `false` makes `addWorker` register nothing. */
  workersEnabled: "REACTION_WORKERS_ENABLED",
  /** The local stack's data folder when no deployment is configured. */
  dataDir: "JOBS_DATA_DIR",
} as const;

/**
 * The backend a Reaction API uses: the deployment's (`JOBS_TABLE_NAME` and the lanes' queue
 * URLs, as the CDK construct sets them) when `JOBS_TABLE_NAME` is set, otherwise the embedded
 * local stack with its data in `JOBS_DATA_DIR` (default `.data`), so a developer's `npm start`
 * needs nothing new.
 *
 * @example backendFromEnvironment({ JOBS_DATA_DIR: "/tmp/jobs" }) // { local: { dataDir: "/tmp/jobs" } }
 */
export function backendFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): { aws: AwsBackendOptions } | { local: LocalBackendOptions } {
  if (env[envNames.tableName]) return { aws: awsOptionsFromEnvironment(env) };
  const dataDir = env[reactionEnvNames.dataDir];
  return {
    local: { dataDir: dataDir === undefined || dataDir === "" ? DEFAULT_DATA_DIR : dataDir },
  };
}

const TRUE = new Set(["true", "t", "yes", "on", "1"]);
const FALSE = new Set(["false", "f", "no", "off", "0"]);

/**
 * `REACTION_WORKERS_ENABLED` as Reaction reads it (envalid's `bool`, default true). Any other
 * value is refused, naming the variable, as envalid refuses it at Reaction's start.
 *
 * @example workersEnabledFromEnvironment({ REACTION_WORKERS_ENABLED: "false" }) // false
 */
export function workersEnabledFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[reactionEnvNames.workersEnabled];
  if (raw === undefined || raw === "") return true;
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new JobValidationError(
    reactionEnvNames.workersEnabled,
    `must be true or false (got "${raw}")`,
  );
}
