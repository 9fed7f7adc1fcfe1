import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LocalStackResources } from "./stack.ts";

/** The file a running local stack writes in its data folder, for `bgjobs` to find it. */
export const STACK_FILE = "stack.json";

/**
 * What `<dataDir>/stack.json` holds: the running local stack's resources, who wrote them, and
 * the plugins' rules that `bgjobs` needs to act as the app would.
 */
export interface StackFile extends LocalStackResources {
  /** The process that wrote it (gone: the file is stale). */
  pid?: number;
  /** purgeAfterDays by type, as the running app's plugins say. */
  cleanup?: Record<string, number>;
  /** Tenant key by type, from the plugins. */
  tenants?: Record<string, string>;
}

/**
 * Writes `<dataDir>/stack.json` (readable by its owner only): while `npm start` runs, `bgjobs`
 * finds the local stack there.
 *
 * @example writeStackFile(".data", { pid: process.pid, ...resources })
 */
export function writeStackFile(dataDir: string, contents: StackFile): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, STACK_FILE);
  writeFileSync(path, `${JSON.stringify({ version: 1, ...contents }, null, 2)}\n`, {
    mode: 0o600,
  });
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
 *
 * @example readStackFile(".data")?.endpoints.dynamodb
 */
export function readStackFile(dataDir: string): StackFile | null {
  const path = join(dataDir, STACK_FILE);
  if (!existsSync(path)) return null;
  const { version: _version, ...contents } = JSON.parse(readFileSync(path, "utf8")) as StackFile & {
    version?: number;
  };
  if (contents.pid !== undefined && !alive(contents.pid))
    throw new StaleStackError(
      `${path} was written by process ${contents.pid}, which is gone: start the local stack again (npm start)`,
    );
  return contents;
}

/** `stack.json` names a process that is gone: its servers are too. */
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
