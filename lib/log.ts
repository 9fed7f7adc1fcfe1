import { SERVICE_NAME } from "./names.ts";

/** One structured line about the system or a job. Fields never include job `data`. */
export interface LogFields {
  jobId?: string;
  type?: string;
  runId?: string | null;
  attempt?: number;
  [key: string]: unknown;
}

export interface JobLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Detail for diagnosis; shown only when the logger's level allows (Powertools: `POWERTOOLS_LOG_LEVEL=DEBUG`). */
  debug?(message: string, fields?: LogFields): void;
}

/** JSON lines on stdout, one object per line: what CloudWatch Logs Insights queries best. */
export function jsonLogger(service = SERVICE_NAME): JobLogger {
  const write =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      process.stdout.write(
        `${JSON.stringify({ level, timestamp: new Date().toISOString(), service, message, ...fields })}\n`,
      );
    };
  return {
    info: write("INFO"),
    warn: write("WARN"),
    error: write("ERROR"),
    ...(process.env.POWERTOOLS_LOG_LEVEL?.toUpperCase() === "DEBUG"
      ? { debug: write("DEBUG") }
      : {}),
  };
}

/** Readable lines for a terminal: `15:04:05.123 completed  saveImage/local  Xb3... attempt 1/6  42 ms`. */
export function terminalLogger(): JobLogger {
  const write =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      const { jobId, type, runId: _runId, attempt, ...rest } = fields;
      const time = new Date().toISOString().slice(11, 23);
      const parts = [`${time} `, level === "INFO" ? "" : `${level} `, message.padEnd(10)];
      if (type) parts.push(` ${type}`);
      if (jobId) parts.push(` ${jobId}`);
      if (attempt !== undefined)
        parts.push(` attempt ${attempt}${rest.of !== undefined ? `/${rest.of}` : ""}`);
      delete rest.of;
      for (const [key, value] of Object.entries(rest)) {
        if (value !== undefined)
          parts.push(` ${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
      }
      const line = `${parts.join("")}\n`;
      if (level === "INFO") process.stdout.write(line);
      else process.stderr.write(line);
    };
  return { info: write("INFO"), warn: write("WARN"), error: write("ERROR") };
}

/** Drops everything: for `quiet` local stacks and tests. */
export const silentLogger: JobLogger = { info() {}, warn() {}, error() {} };

/** `logger` without its info lines: warnings and errors only (the memory backend's default). */
export function warningsOnly(logger: JobLogger): JobLogger {
  return { info() {}, warn: logger.warn.bind(logger), error: logger.error.bind(logger) };
}
