/** A command line that cannot be run as given: exit code 2, with the message. */
export class UsageError extends Error {
  override name = "UsageError";
}

export type FlagKind = "string" | "boolean";

/** The flags a command takes, by long name (without `--`), and their short aliases. */
export interface FlagSpec {
  [name: string]: { kind: FlagKind; alias?: string; help: string };
}

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

/**
 * Parses `argv` against the flags a command takes: `--name value`, `--name=value`, `-x`,
 * boolean `--name` (and `--no-name`). An unknown flag, or a value missing, is a `UsageError`
 * naming it.
 *
 * @example parseArgs(["--type", "sendEmail", "--json", "id1"], spec) // { positionals: ["id1"], flags: { type: "sendEmail", json: true } }
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  const byAlias = new Map(
    Object.entries(spec).flatMap(([name, flag]) => (flag.alias ? [[flag.alias, name]] : [])),
  );
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [rawName, inline] = long ? splitOnce(arg.slice(2), "=") : [arg.slice(1), undefined];
    let name = long ? rawName : (byAlias.get(rawName) ?? rawName);
    let negated = false;
    if (long && !spec[name] && name.startsWith("no-") && spec[name.slice(3)]?.kind === "boolean") {
      name = name.slice(3);
      negated = true;
    }
    const flag = spec[name];
    if (!flag) throw new UsageError(`unknown option ${arg} (see --help)`);
    if (flag.kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = !negated;
      continue;
    }
    const value = inline ?? argv[i + 1];
    if (value === undefined || (inline === undefined && value.startsWith("--")))
      throw new UsageError(`--${name} needs a value`);
    if (inline === undefined) i += 1;
    flags[name] = value;
  }
  return { positionals, flags };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** A flag's string value, or `undefined`. */
export function text(parsed: Parsed, name: string): string | undefined {
  const value = parsed.flags[name];
  return typeof value === "string" ? value : undefined;
}

/** A flag's integer value within bounds, or `undefined`; anything else is a `UsageError`. */
export function integer(
  parsed: Parsed,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = text(parsed, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  return n;
}

/**
 * A duration flag (`500ms`, `2s`, `5m`), in ms.
 *
 * @example duration("2s") // 2000
 */
export function duration(value: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match)
    throw new UsageError(`--${name} must be a duration such as 2s or 500ms, got ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"] as number;
  return Number(match[1]) * unit;
}
