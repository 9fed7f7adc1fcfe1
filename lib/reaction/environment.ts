import type {
  AwsBackendOptions,
  LocalBackendOptions,
  MemoryBackendOptions,
} from "../backend/options.ts";
import {
  checkMemoryBackendAllowed,
  dataDirFromEnvironment,
  hasDeploymentEnvironment,
  memoryBackendFromEnvironment,
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
  /** `memory`: the in-process backend for the API's own tests (no Java, nothing kept). */
  backend: hostEnvNames.backend,
} as const;

/**
 * The backend a Reaction API uses: the in-process memory backend when `JOBS_BACKEND=memory`
 * (for the API's tests; refused in Lambda or beside a deployment's variables), else the deployment's (`JOBS_TABLE_NAME` and the lanes' queue
 * URLs, as the CDK construct sets them) when `JOBS_TABLE_NAME` is set, otherwise the embedded
 * local stack with its data in `JOBS_DATA_DIR` (default `.data`), so a developer's `npm start`
 * needs nothing new. The own `createApp` differs on purpose: with no options it wants a
 * deployment, as it runs in Lambda.
 *
 * @example backendFromEnvironment({ JOBS_DATA_DIR: "/tmp/jobs" }) // { local: { dataDir: "/tmp/jobs" } }
 */
export function backendFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): { aws: AwsBackendOptions } | { local: LocalBackendOptions } | { memory: MemoryBackendOptions } {
  if (memoryBackendFromEnvironment(env)) {
    checkMemoryBackendAllowed(env);
    return { memory: {} };
  }
  if (hasDeploymentEnvironment(env)) return { aws: resourcesFromEnvironment(env) };
  return { local: { dataDir: dataDirFromEnvironment(env) } };
}
