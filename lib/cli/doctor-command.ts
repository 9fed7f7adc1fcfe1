import { doctor } from "../ops/doctor.ts";
import { DEFAULT_PROBE_TIMEOUT_MS, type LaneProbe, probe } from "../ops/probe.ts";
import type { DoctorCheck } from "../ops/types.ts";
import { duration, text } from "./args.ts";
import type { Command } from "./command.ts";
import { EXIT } from "./help.ts";

/**
 * `bgjobs doctor [--probe [--probe-timeout 60s]]`: the checks (exit 1 when one fails), then,
 * with `--probe`, a job of the built-in probe type through each lane (exit 5 when one does not
 * complete in time). Run it after every `cdk deploy`.
 */
export const doctorCommand: Command = {
  flags: {
    probe: { kind: "boolean", help: "also run a probe job through each lane and time it" },
    "probe-timeout": { kind: "string", help: "how long the probe waits (default 60s)" },
  },
  run: ({ parsed, out, signal, withConnection }) => {
    const timeout = text(parsed, "probe-timeout");
    const timeoutMs = timeout ? duration(timeout, "probe-timeout") : DEFAULT_PROBE_TIMEOUT_MS;
    return withConnection(async (conn) => {
      const checks = await doctor(conn);
      const report = parsed.flags.probe ? await probe(conn, { timeoutMs, signal }) : undefined;
      const rows = report ? [...checks, ...report.lanes.map(probeRow)] : checks;
      const mark = {
        ok: out.paint("green", "ok  "),
        warn: out.paint("yellow", "warn"),
        fail: out.paint("red", "FAIL"),
      };
      out.list(report ? { checks, probe: report } : { checks }, rows, [
        ["", (c) => mark[c.level]],
        ["CHECK", (c) => c.name],
        ["DETAIL", (c) => c.detail],
      ]);
      if (report?.problem) out.note(`bgjobs: probe ${report.problem}`);
      if (checks.some((c) => c.level === "fail")) return EXIT.error;
      return report && !report.ok ? EXIT.probe : EXIT.ok;
    });
  },
};

/** A lane's probe as a row of the checks' table. */
function probeRow(lane: LaneProbe): DoctorCheck {
  const seconds = (ms: number | undefined) =>
    ms === undefined ? "?" : `${(ms / 1000).toFixed(2)} s`;
  if (lane.status === "completed")
    return {
      name: `probe ${lane.lane}`,
      level: "ok",
      detail: `started ${seconds(lane.startedAfterMs)} after scheduling, completed ${seconds(lane.completedAfterMs)} after (job ${lane.jobId}, deleted)`,
    };
  return {
    name: `probe ${lane.lane}`,
    level: "fail",
    detail: `job ${lane.jobId} ${lane.status}${lane.startedAfterMs === undefined ? ", never started" : `, started ${seconds(lane.startedAfterMs)} after scheduling`}`,
  };
}
