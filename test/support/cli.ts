import { Readable } from "node:stream";
import { main } from "../../lib/cli/main.ts";
import type { Io } from "../../lib/cli/output.ts";

/** What an in-process `bgjobs` run printed, and its exit code. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bgjobs argv` in this process, as the bin does, capturing what it prints. `env` is the
 * environment the CLI reads (default: none), `main` its test hooks (e.g. `connect`).
 *
 * @example const { code, stdout } = await runBgjobs(["doctor", "--json"], { env: { JOBS_DATA_DIR: dir } });
 */
export async function runBgjobs(
  argv: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    tty?: boolean;
    signal?: AbortSignal;
    main?: Parameters<typeof main>[3];
  } = {},
): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false },
    stdin: Readable.from([]) as unknown as Io["stdin"],
    env: options.env ?? {},
  };
  const code = await main(argv, io, options.signal ?? new AbortController().signal, options.main);
  return { code, stdout, stderr };
}

/**
 * Puts `process.env` back as `saved` (a copy taken earlier), in place: replacing the object
 * would leave vi.stubEnv (which sets through process.env but deletes from the object it
 * started with) leaking stubs, and under `isolate: false` what a file leaves reaches the files
 * that run after it in the same worker.
 *
 * @example const saved = { ...process.env }; try { ... } finally { restoreEnvironment(saved); }
 */
export function restoreEnvironment(saved: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
}
