import type { Connection } from "../ops/connect.ts";
import type { FlagSpec, Parsed } from "./args.ts";
import type { Io, Output } from "./output.ts";

/** What every command gets: its arguments, where to write, and how to reach the stack. */
export interface CommandContext {
  parsed: Parsed;
  out: Output;
  io: Io;
  /** Aborts on Ctrl-C. */
  signal: AbortSignal;
  /** Connects (stack.json, JOBS_* or --stack) and closes the clients afterwards. */
  withConnection<T>(run: (conn: Connection) => Promise<T>): Promise<T>;
}

export interface Command {
  flags: FlagSpec;
  run(context: CommandContext): Promise<number>;
}

/** The job or schedule a command names does not exist: exit code 3. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

export const GLOBAL_FLAGS: FlagSpec = {
  json: { kind: "boolean", help: "one JSON document on stdout" },
  jsonl: { kind: "boolean", help: "lists as one JSON object a line" },
  stack: { kind: "string", help: "a deployment's CloudFormation stack name" },
  profile: { kind: "string", help: "AWS profile" },
  region: { kind: "string", help: "AWS region" },
  "data-dir": { kind: "string", help: "the local stack's data folder" },
  actor: { kind: "string", help: "your name in the audit trail" },
  color: { kind: "boolean", help: "--no-color: no colour" },
  verbose: { kind: "boolean", alias: "v", help: "log the lifecycle's lines to stderr" },
  help: { kind: "boolean", alias: "h", help: "usage" },
};
