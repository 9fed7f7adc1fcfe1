import { createInterface } from "node:readline";
import type { Connection } from "../ops/connect.ts";
import { filterFromSurface } from "../ops/filter.ts";
import type {
  ActionParams,
  ActionRequest,
  JobAction,
  JobFilter,
  JobSummary,
} from "../ops/types.ts";
import { duration, type FlagSpec, integer, type Parsed, text, UsageError } from "./args.ts";
import { type Command, type CommandContext, NotFoundError } from "./command.ts";
import { EXIT } from "./help.ts";
import { renderDetail, renderReport, shortTime } from "./render.ts";

export const FILTER_FLAGS: FlagSpec = {
  type: { kind: "string", help: "job type" },
  tenant: { kind: "string", alias: "s", help: "tenant (shop id)" },
  status: { kind: "string", help: "statuses, comma-separated" },
  lane: { kind: "string", help: "critical, normal or low" },
  since: { kind: "string", help: "created at or after (1h, ISO)" },
  until: { kind: "string", help: "created at or before" },
  data: { kind: "string", help: "key=value within --type" },
};

const ACTION_FLAGS: FlagSpec = {
  ...FILTER_FLAGS,
  "all-matching": { kind: "boolean", help: "every job the filters match" },
  "include-running": { kind: "boolean", help: "act on running jobs too" },
  yes: { kind: "boolean", alias: "y", help: "no confirmation" },
  "dry-run": { kind: "boolean", help: "say what would change" },
  retries: { kind: "string", help: "more attempts (retry), attempts left (reschedule)" },
  priority: { kind: "string", help: "new priority (reschedule)" },
  at: { kind: "string", help: "new due time (reschedule)" },
  in: { kind: "string", help: "new due time from now, e.g. 10m (reschedule)" },
};

export const JOB_COLUMNS: Array<[string, (job: JobSummary) => string]> = [
  ["ID", (job) => job.id],
  ["TYPE", (job) => job.type],
  ["STATUS", (job) => job.status],
  ["LANE", (job) => job.lane],
  ["TENANT", (job) => job.tenant ?? ""],
  ["CREATED", (job) => shortTime(job.created)],
  ["ATTEMPTS", (job) => `${job.attempts}`],
  ["LAST ERROR", (job) => job.lastError ?? ""],
];

/** The filter flags as the raw filter the one parser checks (the dashboard's query string too). */
export function filterOf(parsed: Parsed): JobFilter {
  return filterFromSurface((name) => text(parsed, name));
}

const list: Command = {
  flags: {
    ...FILTER_FLAGS,
    limit: { kind: "string", alias: "n", help: "page size, 1 to 100" },
    cursor: { kind: "string", help: "from a previous page" },
    all: { kind: "boolean", help: "every page" },
    "max-read": { kind: "string", help: "stop a page after reading this many" },
  },
  run: ({ parsed, out, signal, withConnection }) =>
    withConnection(async (conn) => {
      const filter = filterOf(parsed);
      const limit = integer(parsed, "limit", 1, 100);
      const maxRead = integer(parsed, "max-read", 1, 1_000_000);
      const options = { ...(maxRead ? { maxRead } : {}) };
      if (!parsed.flags.all) {
        const cursor = text(parsed, "cursor");
        const page = await conn.ops.listJobs(filter, {
          ...options,
          ...(limit ? { limit } : {}),
          ...(cursor ? { cursor } : {}),
        });
        out.list(page, page.jobs, JOB_COLUMNS);
        out.note(
          `${plural(page.jobs.length, "job")} (read ${page.read})${page.cursor ? `; next page: --cursor ${page.cursor}` : ""}${page.complete ? "" : "; stopped at the read limit, more may match"}`,
        );
        return EXIT.ok;
      }
      // Every page: streamed with --jsonl (the first jobs show at once), gathered otherwise.
      const jobs: JobSummary[] = [];
      let read = 0;
      let cursor: string | undefined;
      do {
        const page = await conn.ops.listJobs(filter, {
          ...options,
          limit: 100,
          ...(cursor ? { cursor } : {}),
        });
        read += page.read;
        cursor = page.cursor;
        if (out.mode === "jsonl") out.list(page, page.jobs, JOB_COLUMNS);
        else jobs.push(...page.jobs);
      } while (cursor && !signal.aborted);
      if (out.mode !== "jsonl") out.list({ jobs, read }, jobs, JOB_COLUMNS);
      out.note(`${read} read${signal.aborted ? "; interrupted" : ""}`);
      return signal.aborted ? EXIT.interrupted : EXIT.ok;
    }),
};

const get: Command = {
  flags: {},
  run: ({ parsed, out, withConnection }) =>
    withConnection(async (conn) => {
      const detail = await conn.ops.getJob(oneId(parsed));
      if (!detail) throw new NotFoundError(`no job ${oneId(parsed)}`);
      out.value(detail, () => renderDetail(detail));
      return EXIT.ok;
    }),
};

const logs: Command = {
  flags: {},
  run: ({ parsed, out, withConnection }) =>
    withConnection(async (conn) => {
      const detail = await conn.ops.getJob(oneId(parsed));
      if (!detail) throw new NotFoundError(`no job ${oneId(parsed)}`);
      out.list({ id: detail.id, log: detail.log }, detail.log, [
        ["TIME", (entry) => shortTime(entry.time)],
        ["LEVEL", (entry) => entry.level],
        ["RUN", (entry) => entry.runId ?? ""],
        ["MESSAGE", (entry) => entry.message],
      ]);
      return EXIT.ok;
    }),
};

const watch: Command = {
  flags: {
    ...FILTER_FLAGS,
    interval: { kind: "string", help: "how often to look (default 2s)" },
    for: { kind: "string", help: "stop after this long" },
  },
  run: ({ parsed, out, signal, withConnection }) =>
    withConnection(async (conn) => {
      const interval = duration(text(parsed, "interval") ?? "2s", "interval");
      const stopAt = parsed.flags.for
        ? Date.now() + duration(String(parsed.flags.for), "for")
        : Infinity;
      const seen = new Map<string, string>();
      let first = true;
      while (!signal.aborted && Date.now() < stopAt) {
        const page = await conn.ops.listJobs(filterOf(parsed), { limit: 50 });
        for (const job of [...page.jobs].reverse()) {
          const key = `${job.status}/${job.attempts}`;
          if (seen.get(job.id) === key) continue;
          seen.set(job.id, key);
          if (first && out.mode === "human") continue;
          const event = { at: new Date().toISOString(), ...job };
          out.value(event, () =>
            [
              shortTime(event.at),
              out.paint("bold", job.status.padEnd(9)),
              job.type,
              job.id,
              job.lastError ?? "",
            ]
              .join("  ")
              .trimEnd(),
          );
        }
        if (first && out.mode === "human")
          out.note(`watching ${page.jobs.length} jobs; Ctrl-C stops`);
        first = false;
        await sleep(Math.min(interval, Math.max(0, stopAt - Date.now())), signal);
      }
      return EXIT.ok;
    }),
};

function actionCommand(action: JobAction): Command {
  return {
    flags: ACTION_FLAGS,
    run: (context) => context.withConnection((conn) => runJobAction(context, conn, action)),
  };
}

async function runJobAction(
  { parsed, out, io, signal }: CommandContext,
  conn: Connection,
  action: JobAction,
): Promise<number> {
  const ids = parsed.positionals;
  const allMatching = parsed.flags["all-matching"] === true;
  if (ids.length > 0 && allMatching)
    throw new UsageError("give job ids or --all-matching with filters, not both");
  if (ids.length === 0 && !allMatching)
    throw new UsageError(`jobs ${action} needs job ids, or --all-matching with filters`);
  const request: ActionRequest = {
    action,
    target: allMatching ? { filter: filterOf(parsed) } : { ids },
    ...(parsed.flags["include-running"] ? { includeRunning: true } : {}),
  };
  const params = paramsOf(parsed, action);
  if (params) request.params = params;
  const bulk = allMatching || ids.length > 1;
  if (parsed.flags["dry-run"]) {
    const report = await conn.ops.act({ ...request, dryRun: true });
    out.value(report, () => renderReport(report));
    return EXIT.ok;
  }
  let total: number | undefined;
  if (bulk) {
    const count = await conn.ops.countMatching(request);
    total = count.matched;
    const skipped = Object.entries(count.skippedBecause)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(", ");
    out.note(
      `${count.capped ? "at least " : ""}${plural(count.matched, "job")} ${count.matched === 1 ? "matches" : "match"}; ${action} would change ${count.wouldChange}${skipped ? ` (skipped: ${skipped})` : ""} [read ${count.read}]`,
    );
    if (count.wouldChange === 0) {
      const report = await conn.ops.act({ ...request, dryRun: true });
      out.value(report, () => renderReport(report));
      return EXIT.ok;
    }
    if (!parsed.flags.yes) {
      if (!io.stdin.isTTY || !io.stderr.isTTY)
        throw new UsageError(
          `refusing to ${action} ${count.wouldChange} jobs without a terminal to confirm: pass --yes (or --dry-run to look first)`,
        );
      if (!(await confirm(io, `${action} ${count.wouldChange} jobs? [y/N] `))) {
        out.note("nothing changed");
        return EXIT.ok;
      }
    }
  }
  const report = await conn.ops.act(request, {
    signal,
    onProgress: (so) => {
      if (bulk)
        out.progress(
          so.matched,
          total,
          `changed ${so.changed} skipped ${so.skipped} failed ${so.failed}`,
        );
    },
  });
  if (bulk) out.progressDone();
  out.value(report, () => renderReport(report));
  if (!bulk && report.skippedBecause["not found"]) throw new NotFoundError(`no job ${ids[0]}`);
  if (report.interrupted) return EXIT.interrupted;
  return report.failed > 0 ? EXIT.partial : EXIT.ok;
}

function paramsOf(parsed: Parsed, action: JobAction): ActionParams | undefined {
  const params: ActionParams = {};
  const retries = integer(parsed, "retries", 0, 1_000_000);
  if (retries !== undefined) params.retries = retries;
  const priority = text(parsed, "priority");
  if (priority !== undefined)
    params.priority = /^-?\d+$/.test(priority) ? Number(priority) : priority;
  const at = text(parsed, "at");
  const within = text(parsed, "in");
  if (at && within) throw new UsageError("give --at or --in, not both");
  if (at) params.after = at;
  if (within) params.after = `+${within.replace(/^\+/, "")}`;
  const given = Object.keys(params);
  const allowed =
    action === "reschedule"
      ? ["after", "priority", "retries"]
      : action === "retry"
        ? ["retries"]
        : [];
  const extra = given.filter((key) => !allowed.includes(key));
  if (extra.length > 0)
    throw new UsageError(
      `jobs ${action} takes no ${extra.map((k) => (k === "after" ? "--at/--in" : `--${k}`)).join(", ")}`,
    );
  return given.length > 0 ? params : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function oneId(parsed: Parsed): string {
  const [id, ...more] = parsed.positionals;
  if (!id || more.length > 0) throw new UsageError("needs exactly one job id");
  return id;
}

async function confirm(io: CommandContext["io"], question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export const jobCommands: Record<string, Command> = {
  "jobs list": list,
  "jobs get": get,
  "jobs logs": logs,
  "jobs watch": watch,
  "jobs retry": actionCommand("retry"),
  "jobs cancel": actionCommand("cancel"),
  "jobs pause": actionCommand("pause"),
  "jobs resume": actionCommand("resume"),
  "jobs promote": actionCommand("promote"),
  "jobs reschedule": actionCommand("reschedule"),
  "jobs delete": actionCommand("delete"),
};
