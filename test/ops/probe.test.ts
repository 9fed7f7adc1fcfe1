import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../../lib/cli/main.ts";
import type { Io } from "../../lib/cli/output.ts";
import { type Connection, connect, stackInfoOfApp } from "../../lib/ops/connect.ts";
import type { ProbeReport } from "../../lib/ops/probe.ts";
import { PROBE_JOB_TYPE } from "../../lib/probe-plugin.ts";
import { LANES } from "../../lib/resources.ts";
import { useLocalApp } from "../support/local-app.ts";
import { freshStack } from "./fresh-stack.ts";

/**
 * `bgjobs doctor --probe`: a job of the built-in probe type through each lane, timed, then
 * deleted. On a running local stack (its poller and the probe worker every app registers) it
 * completes; on a stack nothing consumes it does not, and doctor exits 5 when its timeout ends.
 */
const local = useLocalApp();

async function bgjobs(argv: string[], conn: () => Connection) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Readable.from([]) as unknown as Io["stdin"],
    env: {},
  };
  const code = await main(argv, io, new AbortController().signal, {
    connect: async () => conn(),
  });
  return { code, stdout, stderr };
}

/** Whether any probe job is left on the stack (the probe deletes them). */
async function probeJobsLeft(conn: Connection): Promise<number> {
  return (await conn.ops.listJobs({ type: PROBE_JOB_TYPE }, { limit: 100 })).jobs.length;
}

describe("bgjobs doctor --probe", () => {
  it("on a running stack: each lane's probe completes, timed from scheduling, and is deleted", async () => {
    const conn = connect(stackInfoOfApp(local.app));
    try {
      const ran = await bgjobs(
        ["doctor", "--probe", "--probe-timeout", "20s", "--json"],
        () => conn,
      );
      expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: "" });
      const report = JSON.parse(ran.stdout).probe as ProbeReport;
      expect(report).toMatchObject({ ok: true, timeoutMs: 20_000, removed: 3 });
      expect(report.lanes.map((lane) => [lane.lane, lane.status])).toEqual(
        LANES.map((lane) => [lane, "completed"]),
      );
      for (const lane of report.lanes) {
        expect(lane.startedAfterMs).toBeGreaterThanOrEqual(0);
        expect(lane.completedAfterMs).toBeGreaterThanOrEqual(lane.startedAfterMs as number);
        expect(await conn.ops.getJob(lane.jobId)).toBeNull();
      }

      const human = await bgjobs(["doctor", "--probe"], () => conn);
      expect(human.code).toBe(0);
      for (const lane of LANES)
        expect(human.stdout).toMatch(
          new RegExp(
            `ok  \\tprobe ${lane}\\tstarted \\d+\\.\\d\\d s after scheduling, completed \\d+\\.\\d\\d s after \\(job \\w+, deleted\\)`,
          ),
        );
      expect(await probeJobsLeft(conn)).toBe(0);
    } finally {
      conn.close();
    }
  });

  it("on a stack nothing consumes: exit 5 when the timeout ends, saying so, and nothing left behind", async () => {
    const stack = await freshStack(local);
    const conn = connect(stack.info);
    try {
      const ran = await bgjobs(["doctor", "--probe", "--probe-timeout", "300ms"], () => conn);
      expect(ran.code).toBe(5);
      expect(ran.stdout).not.toMatch(/^FAIL\t(?!probe)/m); // the checks themselves pass
      for (const lane of LANES)
        expect(ran.stdout).toMatch(
          new RegExp(`FAIL\\tprobe ${lane}\\tjob \\w+ ready, never started`),
        );
      expect(ran.stderr).toBe(
        "bgjobs: probe not completed within 0.3 s: critical (ready), normal (ready), low (ready): nothing ran them (is the dispatcher's event source mapping enabled, or the local stack's poller running? does the deployment's version register bgjobs/probe?)\n",
      );
      expect(await probeJobsLeft(conn)).toBe(0);
    } finally {
      conn.close();
      await stack.drop();
    }
  });

  it("refuses a --probe-timeout that is not a duration, naming the flag", async () => {
    const ran = await bgjobs(["doctor", "--probe", "--probe-timeout", "soon"], () => {
      throw new Error("not connected for bad input");
    });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("--probe-timeout must be a duration");
  });
});
