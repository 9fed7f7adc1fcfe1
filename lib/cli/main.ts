import { readFileSync } from "node:fs";
import { ServiceUnreachableError } from "../aws/unreachable.ts";
import { JobValidationError } from "../errors.ts";
import type { JobLogger, LogFields } from "../log.ts";
import { type Connection, connect, resolveStack } from "../ops/connect.ts";
import { type Parsed, parseArgs, text, UsageError } from "./args.ts";
import { GLOBAL_FLAGS, NotFoundError } from "./command.ts";
import { commands } from "./commands.ts";
import { EXIT, USAGE } from "./help.ts";
import { type Io, Output, type OutputMode } from "./output.ts";

/**
 * Runs `bgjobs` with `argv` (without `node` and the script) and resolves its exit code.
 * Never exits the process itself, so tests call it directly.
 *
 * @example process.exitCode = await main(["jobs", "list", "--status", "failed"], processIo(), signal)
 */
export async function main(
  argv: string[],
  io: Io,
  signal: AbortSignal,
  options: { connect?: (parsed: Parsed) => Promise<Connection> } = {},
): Promise<number> {
  const [noun, verb] = argv;
  if (noun === undefined) {
    io.stderr.write(USAGE);
    return EXIT.usage;
  }
  if (noun === "help" || noun === "--help" || noun === "-h") {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (noun === "--version" || noun === "version") {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const single = commands[noun];
  const command = single ?? (verb ? commands[`${noun} ${verb}`] : undefined);
  const rest = argv.slice(single ? 1 : 2);
  let out = new Output(io, "human");
  try {
    if (!command) {
      const known = Object.keys(commands).filter((name) => name.startsWith(`${noun} `));
      throw new UsageError(
        known.length > 0
          ? `"${noun}" needs one of: ${known.map((name) => name.split(" ")[1]).join(", ")}`
          : `unknown command "${argv.slice(0, 2).join(" ")}"`,
      );
    }
    const parsed = parseArgs(rest, { ...GLOBAL_FLAGS, ...command.flags });
    if (parsed.flags.help) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    const mode: OutputMode = parsed.flags.jsonl ? "jsonl" : parsed.flags.json ? "json" : "human";
    out = new Output(io, mode, parsed.flags.color !== false);
    return await command.run({
      parsed,
      out,
      io,
      signal,
      withConnection: (run) => withConnection(parsed, io, run, options.connect),
    });
  } catch (error) {
    return reportError(error, out);
  }
}

async function withConnection<T>(
  parsed: Parsed,
  io: Io,
  run: (conn: Connection) => Promise<T>,
  connectWith?: (parsed: Parsed) => Promise<Connection>,
): Promise<T> {
  if (connectWith) return run(await connectWith(parsed));
  const profile = text(parsed, "profile");
  // The SDK's default credential chain reads the profile from here.
  if (profile) io.env.AWS_PROFILE = profile;
  if (profile && io.env !== process.env) process.env.AWS_PROFILE = profile;
  const stack = text(parsed, "stack");
  const region = text(parsed, "region");
  const dataDir = text(parsed, "data-dir");
  const info = await resolveStack({
    ...(stack ? { stack } : {}),
    ...(region ? { region } : {}),
    ...(dataDir ? { dataDir } : {}),
    env: io.env,
  });
  const actor = text(parsed, "actor") ?? io.env.BGJOBS_ACTOR;
  const conn = connect(info, {
    ...(actor ? { actor } : {}),
    ...(parsed.flags.verbose ? { logger: stderrLogger(io) } : {}),
  });
  try {
    return await run(conn);
  } finally {
    conn.close();
  }
}

function reportError(error: unknown, out: Output): number {
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof UsageError) {
    out.note(`bgjobs: ${message}`);
    return EXIT.usage;
  }
  if (error instanceof JobValidationError) {
    out.note(`bgjobs: bad input: ${message}`);
    return EXIT.usage;
  }
  if (error instanceof NotFoundError) {
    out.note(`bgjobs: ${message}`);
    return EXIT.notFound;
  }
  if (error instanceof ServiceUnreachableError) {
    out.note(`bgjobs: ${message}`);
    return EXIT.error;
  }
  out.note(`bgjobs: ${(error as Error)?.name ?? "Error"}: ${message}`);
  return EXIT.error;
}

/** The lifecycle's log lines, on stderr (stdout is for data). */
function stderrLogger(io: Io): JobLogger {
  const write =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      const details = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(
          ([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`,
        )
        .join(" ");
      io.stderr.write(`${level} ${message} ${details}\n`);
    };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The process's own streams and environment. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/**
 * The `bgjobs` executable: Ctrl-C aborts the command (a bulk action finishes its batch and
 * reports; a second Ctrl-C, or 5 s, exits at once with 130).
 */
export async function runCli(): Promise<void> {
  const abort = new AbortController();
  process.on("SIGINT", () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    abort.abort();
    setTimeout(() => process.exit(EXIT.interrupted), 5000).unref();
  });
  process.exitCode = await main(process.argv.slice(2), processIo(), abort.signal);
}
