import { listJobs } from "../jobs/list/index.ts";
import { jobTable, LANES } from "../resources.ts";
import type { Connection } from "./connect.ts";
import type { DoctorCheck } from "./types.ts";

/** An id no job has (ids are alphanumeric): the write check's condition can never hold. */
const PROBE_ID = "#bgjobs-doctor";

/** What a check found when it passed: a detail, or a warning worth knowing. */
type Finding = string | { level: "warn"; detail: string };

/**
 * One doctor check: `run` passes (a detail, or a warning) or throws, and a throw is reported
 * as `onError` (default `fail`), with `subject` before the cause. A check that `needs` others
 * is not run when one of them failed: it is reported as not checked, naming which.
 */
export interface DoctorCheckSpec {
  name: string;
  /** The resource read, named before a failure's cause (when the cause does not name it). */
  subject?(conn: Connection): string;
  run(conn: Connection): Promise<Finding>;
  onError?: "warn" | "fail";
  needs?: string[];
}

const laneNames = LANES.map((lane) => `lane ${lane}`);

/**
 * Every check `bgjobs doctor` runs, in order. Each is shown failing on a stack broken in
 * exactly its resource in test/ops/doctor-checks.test.ts; add new checks here.
 */
export const doctorChecks: DoctorCheckSpec[] = [
  {
    name: "table",
    subject: ({ info }) => `table ${info.tableName}`,
    run: async ({ deps }) => `${(await deps.jobs.store.knownTypes()).length} job types known`,
  },
  {
    name: "index open",
    subject: ({ info }) => `index ${jobTable.indexes.open.name} of table ${info.tableName}`,
    needs: ["table"],
    run: async ({ deps }) => {
      await deps.jobs.store.openJobsOfType(PROBE_ID);
      return "queried";
    },
  },
  {
    name: "index byType",
    subject: ({ info }) => `index ${jobTable.indexes.byType.name} of table ${info.tableName}`,
    needs: ["table"],
    run: async ({ deps }) => {
      await listJobs(deps.jobs.store, { type: PROBE_ID, limit: 1 });
      return "queried";
    },
  },
  ...LANES.map(
    (lane): DoctorCheckSpec => ({
      name: `lane ${lane}`,
      run: async ({ deps }) => {
        const depth = await deps.queues.depth(lane);
        return `${depth.visible} visible, ${depth.inFlight} in flight, ${depth.delayed} delayed, DLQ ${depth.deadLetters}`;
      },
    }),
  ),
  {
    name: "dead-letter queues",
    run: async ({ info }) =>
      info.deadLetterQueueUrls
        ? `${LANES.length} known`
        : { level: "warn", detail: "URLs not known: dlq commands unavailable" },
  },
  {
    name: "schedule group",
    subject: ({ info }) => `schedule group ${info.scheduleGroup}`,
    run: async ({ info, deps }) => {
      if (!info.scheduleGroup)
        return { level: "warn", detail: "not known: schedules cannot be paused or listed" };
      // GetScheduleGroup: ListSchedules answers an empty list for a group that does not exist.
      const group = await deps.schedules.group();
      if (group.state !== "ACTIVE")
        throw new Error(`is ${group.state ?? "in no state"}, not ACTIVE`);
      const schedules = await deps.schedules.list();
      return `${info.scheduleGroup}: ${schedules.length} schedules`;
    },
  },
  {
    name: "write access",
    subject: ({ info }) => `table ${info.tableName}`,
    needs: ["table"],
    onError: "warn",
    run: async ({ deps }) => {
      await deps.jobs.store.transition(PROBE_ID, ["running"], { status: "running" });
      return "allowed (checked with a conditional update that never applies)";
    },
  },
  {
    name: "workers",
    needs: ["table", "index open", ...laneNames],
    run: async ({ ops }) => {
      const lanes = await ops.laneStats();
      const idle = lanes.filter((lane) => lane.noWorkers).map((lane) => lane.lane);
      const dead = lanes.filter((lane) => lane.deadLetters > 0);
      if (idle.length > 0)
        throw new Error(
          `messages wait in ${idle.join(", ")} and nothing receives them (no dispatcher or poller)`,
        );
      if (dead.length > 0)
        throw new Error(
          `dead letters: ${dead.map((lane) => `${lane.lane} ${lane.deadLetters}`).join(", ")} (bgjobs dlq list)`,
        );
      return "consuming";
    },
  },
];

/**
 * Checks what `bgjobs` can see of a stack: the table and its indexes, each lane and
 * DLQ, the schedule group, whether this identity may write (a conditional update that never
 * applies), and whether messages wait with nothing receiving them. Changes nothing.
 *
 * @example (await doctor(conn)).filter((check) => check.level === "fail")
 */
export async function doctor(
  conn: Connection,
  checks: readonly DoctorCheckSpec[] = doctorChecks,
): Promise<DoctorCheck[]> {
  const { info } = conn;
  const where =
    info.source === "local"
      ? `local stack (stack.json of process ${info.pid ?? "this process"})`
      : info.source === "stack"
        ? `CloudFormation stack ${info.stackName} in ${info.region}`
        : `JOBS_* environment, ${info.region}`;
  const results: DoctorCheck[] = [
    { name: "stack", level: "ok", detail: `${where}: table ${info.tableName}` },
  ];
  const failed = new Set<string>();
  for (const check of checks) {
    const blocked = (check.needs ?? []).filter((name) => failed.has(name));
    if (blocked.length > 0) {
      failed.add(check.name);
      results.push({
        name: check.name,
        level: "warn",
        detail: `not checked: ${blocked.join(", ")} failed`,
      });
      continue;
    }
    try {
      const found = await check.run(conn);
      results.push(
        typeof found === "string"
          ? { name: check.name, level: "ok", detail: found }
          : { name: check.name, ...found },
      );
    } catch (error) {
      const level = check.onError ?? "fail";
      if (level === "fail") failed.add(check.name);
      const subject = check.subject?.(conn);
      const detail = subject ? `${subject}: ${describe(error)}` : describe(error);
      results.push({ name: check.name, level, detail });
    }
  }
  return results;
}

function describe(error: unknown): string {
  const name = (error as Error).name ?? "Error";
  const message = (error as Error).message ?? String(error);
  if (name === "AccessDeniedException" || /not authorized/i.test(message))
    return `access denied: ${message}`;
  const plain = ["Error", "ServiceUnreachableError", "QueueReadError"].includes(name);
  return plain ? message : `${name}: ${message}`;
}
