import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LaneName } from "../resources.ts";

/** The file a running local stack writes in its data folder, for `bgjobs` to find it. */
export const STACK_FILE = "stack.json";

/** Where a stack's servers and resources are: a local stack's endpoints, or a deployment's. */
export interface StackInfo {
  /** `local` (stack.json), `env` (`JOBS_*`), `stack` (CloudFormation outputs). */
  source: "local" | "env" | "stack";
  region: string;
  /** Only for a local stack: the servers on loopback. */
  endpoints?: { dynamodb: string; sqs: string; scheduler: string };
  tableName: string;
  queueUrls: Record<LaneName, string>;
  deadLetterQueueUrls?: Record<LaneName, string>;
  scheduleGroup?: string;
  schedulerRoleArn?: string;
  /** purgeAfterDays by type, as the running app's plugins say (a local stack knows them). */
  cleanup?: Record<string, number>;
  /** Tenant key by type, from the plugins. */
  tenants?: Record<string, string>;
  /** The process that wrote stack.json. */
  pid?: number;
  stackName?: string;
}

/**
 * Writes `<dataDir>/stack.json` (readable by its owner only): while `npm start` runs, `bgjobs`
 * finds the local stack there.
 */
export function writeStackFile(dataDir: string, info: Omit<StackInfo, "source">): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, STACK_FILE);
  writeFileSync(path, `${JSON.stringify({ version: 1, ...info }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Removes `<dataDir>/stack.json` if this process wrote it (a newer stack's stays). */
export function removeStackFile(dataDir: string, pid = process.pid): void {
  const path = join(dataDir, STACK_FILE);
  try {
    const written = JSON.parse(readFileSync(path, "utf8")) as { pid?: number };
    if (written.pid === pid) rmSync(path, { force: true });
  } catch {
    // gone already, or not ours to judge: leave it
  }
}

/**
 * The local stack described by `<dataDir>/stack.json`, or `null` when there is none. One left
 * by a process that is gone (killed before it could remove it) is refused with that reason.
 */
export function readStackFile(dataDir: string): StackInfo | null {
  const path = join(dataDir, STACK_FILE);
  if (!existsSync(path)) return null;
  const info = JSON.parse(readFileSync(path, "utf8")) as Omit<StackInfo, "source">;
  if (info.pid !== undefined && !alive(info.pid))
    throw new StaleStackError(
      `${path} was written by process ${info.pid}, which is gone: start the local stack again (npm start)`,
    );
  return { ...info, source: "local" };
}

export class StaleStackError extends Error {
  override name = "StaleStackError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
