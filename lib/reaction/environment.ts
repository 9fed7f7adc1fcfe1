import type { AwsBackendOptions, LocalBackendOptions } from "../backend/options.ts";
import {
  dataDirFromEnvironment,
  hasDeploymentEnvironment,
  resourcesFromEnvironment,
} from "../environment.ts";
import { hostEnvNames } from "../names.ts";

export { DEFAULT_DATA_DIR } from "../environment.ts";

/** The variables the plugin reads besides the construct's `JOBS_*` resource names. */
export const reactionEnvNames = {
  /** Reaction's own switch (default true): `false` makes `addWorker` register nothing. */
  workersEnabled: hostEnvNames.workersEnabled,
  /** The local stack's data folder when no deployment is configured (`DATA_DIR` also works). */
  dataDir: hostEnvNames.dataDir,
} as const;

/**
 * The backend a Reaction API uses: the deployment's (`JOBS_TABLE_NAME` and the lanes' queue
 * URLs, as the CDK construct sets them) when `JOBS_TABLE_NAME` is set, otherwise the embedded
 * local stack with its data in `JOBS_DATA_DIR` (default `.data`), so a developer's `npm start`
 * needs nothing new. The own `createApp` differs on purpose: with no options it wants a
 * deployment, as it runs in Lambda.
 *
 * @example backendFromEnvironment({ JOBS_DATA_DIR: "/tmp/jobs" }) // { local: { dataDir: "/tmp/jobs" } }
 */
export function backendFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): { aws: AwsBackendOptions } | { local: LocalBackendOptions } {
  if (hasDeploymentEnvironment(env)) return { aws: resourcesFromEnvironment(env) };
  return { local: { dataDir: dataDirFromEnvironment(env) } };
}
