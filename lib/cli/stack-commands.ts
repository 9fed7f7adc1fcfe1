import { startDashboard } from "../dashboard/server.ts";
import type { ScheduleAction } from "../ops/index.ts";
import type { DeadLetterView, LaneStats, ScheduleView } from "../ops/types.ts";
import { LANES, type LaneName } from "../resources.ts";
import { integer, type Parsed, text, UsageError } from "./args.ts";
import { type Command, NotFoundError } from "./command.ts";
import { doctorCommand } from "./doctor-command.ts";
import { EXIT } from "./help.ts";
import { human, renderNext, shortTime } from "./render.ts";

const SCHEDULE_COLUMNS: Array<[string, (s: ScheduleView) => string]> = [
  ["ID", (s) => s.id],
  ["TYPE", (s) => s.type],
  ["STATUS", (s) => s.status],
  ["SCHEDULE", (s) => s.text],
  ["EVENTBRIDGE", (s) => (s.scheduler ? `${s.eventBridge} ${s.scheduler.state}` : s.eventBridge)],
  ["NEXT", (s) => shortTime(s.next[0])],
  ["LAST", (s) => (s.lastOccurrence ? s.lastOccurrence.status : "")],
  ["WARNINGS", (s) => s.warnings.join("; ")],
];

const LANE_COLUMNS: Array<[string, (lane: LaneStats) => string]> = [
  ["LANE", (lane) => lane.lane],
  ["VISIBLE", (lane) => String(lane.visible)],
  ["IN FLIGHT", (lane) => String(lane.inFlight)],
  ["DELAYED", (lane) => String(lane.delayed)],
  ["DLQ", (lane) => String(lane.deadLetters)],
  ["LONGEST WAIT", (lane) => human(lane.oldestWaitingMs)],
  ["WORKERS", (lane) => (lane.noWorkers ? "none receiving" : "ok")],
];

const DLQ_COLUMNS: Array<[string, (letter: DeadLetterView) => string]> = [
  ["LANE", (l) => l.lane],
  ["MESSAGE", (l) => l.messageId],
  ["JOB", (l) => l.jobId ?? ""],
  ["TYPE", (l) => l.type ?? ""],
  ["JOB STATUS", (l) => l.jobStatus ?? ""],
  ["RECEIVES", (l) => String(l.receiveCount)],
  ["REDRIVE", (l) => (l.redrive === "redrive" ? "back to its lane" : `drop: ${l.reason ?? ""}`)],
];

function lanesOf(parsed: Parsed): LaneName[] | undefined {
  const lane = text(parsed, "lane");
  if (lane === undefined) return undefined;
  if (!LANES.includes(lane as LaneName))
    throw new UsageError(`--lane must be one of ${LANES.join(", ")}, got ${lane}`);
  return [lane as LaneName];
}

function scheduleAction(action: ScheduleAction): Command {
  return {
    flags: {},
    run: ({ parsed, out, withConnection }) =>
      withConnection(async (conn) => {
        const [id, ...more] = parsed.positionals;
        if (!id || more.length > 0)
          throw new UsageError(`schedules ${action} needs one template id`);
        const outcome = await conn.ops.scheduleAction(id, action);
        if (outcome.reason === "no repeating job with this id")
          throw new NotFoundError(`no repeating job ${id}`);
        out.value(outcome, () =>
          outcome.outcome === "changed"
            ? `${action} ${outcome.id}: ${outcome.from} -> ${outcome.to}`
            : `${action} ${id}: skipped, ${outcome.reason}`,
        );
        return EXIT.ok;
      }),
  };
}

export const stackCommands: Record<string, Command> = {
  "schedules list": {
    flags: {},
    run: ({ out, withConnection }) =>
      withConnection(async (conn) => {
        const list = await conn.ops.listSchedules();
        out.list(list, list.schedules, SCHEDULE_COLUMNS);
        for (const orphan of list.orphans)
          out.note(`orphan schedule (its template is gone): ${orphan}`);
        for (const type of list.skippedTypes)
          out.note(
            `type ${type} has too many open jobs to read through: chains of it riding SQS delays are not listed`,
          );
        return EXIT.ok;
      }),
  },
  "schedules next": {
    flags: { count: { kind: "string", help: "how many fire times" } },
    run: ({ parsed, out, withConnection }) =>
      withConnection(async (conn) => {
        const what = parsed.positionals.join(" ");
        if (!what)
          throw new UsageError(
            'schedules next needs a template id or a later.js text ("every 5 minutes")',
          );
        const next = await conn.ops.scheduleNext(what, integer(parsed, "count", 1, 100) ?? 5);
        out.value(next, () => renderNext(next));
        return EXIT.ok;
      }),
  },
  "schedules pause": scheduleAction("pause"),
  "schedules resume": scheduleAction("resume"),
  "schedules trigger": scheduleAction("trigger"),
  "schedules cancel": scheduleAction("cancel"),
  "lanes stats": {
    flags: {},
    run: ({ out, withConnection }) =>
      withConnection(async (conn) => {
        const lanes = await conn.ops.laneStats();
        out.list({ lanes }, lanes, LANE_COLUMNS);
        return EXIT.ok;
      }),
  },
  "dlq list": {
    flags: {
      lane: { kind: "string", help: "one lane" },
      limit: { kind: "string", help: "messages per lane (default 50)" },
    },
    run: ({ parsed, out, withConnection }) =>
      withConnection(async (conn) => {
        const [lane] = lanesOf(parsed) ?? [];
        const letters = await conn.ops.deadLetters({
          ...(lane ? { lane } : {}),
          limit: integer(parsed, "limit", 1, 1000) ?? 50,
        });
        out.list({ deadLetters: letters }, letters, DLQ_COLUMNS);
        return EXIT.ok;
      }),
  },
  "dlq redrive": {
    flags: {
      lane: { kind: "string", help: "one lane" },
      yes: { kind: "boolean", alias: "y", help: "no confirmation" },
      "dry-run": { kind: "boolean", help: "say what would happen" },
    },
    run: ({ parsed, out, io, withConnection }) =>
      withConnection(async (conn) => {
        const lanes = lanesOf(parsed);
        const letters = await conn.ops.deadLetters({
          ...(lanes ? { lane: lanes[0] } : {}),
          limit: 1000,
        });
        if (parsed.flags["dry-run"]) {
          out.list({ deadLetters: letters }, letters, DLQ_COLUMNS);
          return EXIT.ok;
        }
        const back = letters.filter((l) => l.redrive === "redrive").length;
        out.note(
          `${letters.length} dead letters: ${back} go back to their lanes, ${letters.length - back} are dropped`,
        );
        if (letters.length === 0) return EXIT.ok;
        if (!parsed.flags.yes && !(io.stdin.isTTY && io.stderr.isTTY))
          throw new UsageError(
            "refusing to redrive without a terminal to confirm: pass --yes (or --dry-run)",
          );
        const report = await conn.ops.redriveDeadLetters({
          ...(lanes ? { lanes } : {}),
          onMessage: (done) => out.progress(done, letters.length, "messages"),
        });
        out.progressDone();
        out.value(report, () =>
          [
            `redriven ${report.redriven.length}, dropped ${report.dropped.length}`,
            ...report.redriven.map((r) => `  back to ${r.lane}: ${r.jobId}`),
            ...report.dropped.map((d) => `  dropped ${d.messageId}: ${d.reason}`),
          ].join("\n"),
        );
        return EXIT.ok;
      }),
  },
  doctor: doctorCommand,
  dashboard: {
    flags: {
      port: { kind: "string", help: "port (default: a free one)" },
      host: { kind: "string", help: "interface (default 127.0.0.1; another needs --token)" },
      "read-only": { kind: "boolean", help: "no actions" },
      token: { kind: "string", help: "a fixed token (default: random per launch)" },
      "allow-host": { kind: "string", help: "more Host names to accept, comma-separated" },
    },
    run: ({ parsed, out, io, signal, withConnection }) =>
      withConnection(async (conn) => {
        const host = text(parsed, "host");
        const token = text(parsed, "token") ?? io.env.BGJOBS_DASHBOARD_TOKEN;
        const dashboard = await startDashboard({
          ops: conn.ops,
          port: integer(parsed, "port", 0, 65535) ?? 0,
          ...(host ? { host } : {}),
          ...(token ? { token } : {}),
          allowHosts: (text(parsed, "allow-host") ?? "")
            .split(",")
            .map((h) => h.trim())
            .filter(Boolean),
          readOnly: parsed.flags["read-only"] === true,
          title:
            conn.info.stackName ??
            (conn.info.source === "local" ? "local stack" : conn.info.tableName),
        });
        out.value({ url: dashboard.url, readOnly: dashboard.readOnly }, () => dashboard.url);
        out.note(
          `dashboard${dashboard.readOnly ? " (read-only)" : ""} on ${dashboard.origin}; Ctrl-C stops it`,
        );
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        await dashboard.stop();
        return EXIT.ok;
      }),
  },
};
