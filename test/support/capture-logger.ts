import type { JobLogger, LogFields } from "../../lib/log.ts";

/** A logger that keeps every line, for tests that count log lines. */
export function captureLogger(): JobLogger & {
  lines: Array<{ level: string; message: string; fields: LogFields }>;
} {
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      lines.push({ level, message, fields });
    };
  return { lines, info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
}
