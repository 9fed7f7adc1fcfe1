import { listJobs } from "../jobs/list/index.ts";
import { LANES } from "../resources.ts";
import type { Connection } from "./connect.ts";
import { refusedSchedulesCheck } from "./doctor-schedules.ts";
import type { DoctorCheck } from "./types.ts";

/** An id no job has (ids are alphanumeric): the write check's condition can never hold. */
const PROBE_ID = "#bgjobs-doctor";

/**
 * Checks what `bgjobs` can see of a stack: the table and its indexes, each lane and
 * DLQ, the schedule group, whether this identity may write (a conditional update that never
 * applies), and whether messages wait with nothing receiving them. Changes nothing.
 *
 * @example (await doctor(conn)).filter((check) => check.level === "fail")
 */
export async function doctor(conn: Connection): Promise<DoctorCheck[]> {
  const { info, deps } = conn;
  const store = deps.jobs.store;
  const checks: DoctorCheck[] = [];
  const where =
    info.source === "local"
      ? `local stack (stack.json of process ${info.pid ?? "this process"})`
      : info.source === "stack"
        ? `CloudFormation stack ${info.stackName} in ${info.region}`
        : `JOBS_* environment, ${info.region}`;
  checks.push({ name: "stack", level: "ok", detail: `${where}: table ${info.tableName}` });
  const check = async (
    name: string,
    run: () => Promise<string>,
    onError: "warn" | "fail" = "fail",
  ) => {
    try {
      checks.push({ name, level: "ok", detail: await run() });
    } catch (error) {
      checks.push({ name, level: onError, detail: describe(error) });
    }
  };
  await check("table", async () => `${(await store.knownTypes()).length} job types known`);
  await check("index open", async () => {
    await store.openJobsOfType(PROBE_ID);
    return "queried";
  });
  await check("index byType", async () => {
    await listJobs(store, { type: PROBE_ID, limit: 1 });
    return "queried";
  });
  for (const lane of LANES) {
    await check(`lane ${lane}`, async () => {
      const depth = await deps.queues.depth(lane);
      return `${depth.visible} visible, ${depth.inFlight} in flight, ${depth.delayed} delayed, DLQ ${depth.deadLetters}`;
    });
  }
  if (!info.deadLetterQueueUrls)
    checks.push({
      name: "dead-letter queues",
      level: "warn",
      detail: "URLs not known: dlq commands unavailable",
    });
  if (info.scheduleGroup) {
    await check("schedule group", async () => {
      const schedules = await deps.schedules.list();
      return `${info.scheduleGroup}: ${schedules.length} schedules`;
    });
  } else {
    checks.push({
      name: "schedule group",
      level: "warn",
      detail: "not known: schedules cannot be paused or listed",
    });
  }
  await check(
    "write access",
    async () => {
      await store.transition(PROBE_ID, ["running"], { status: "running" });
      return "allowed (checked with a conditional update that never applies)";
    },
    "warn",
  );
  await check("workers", async () => {
    const lanes = await conn.ops.laneStats();
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
  });
  checks.push(await refusedSchedulesCheck(store));
  return checks;
}

function describe(error: unknown): string {
  const name = (error as Error).name ?? "Error";
  const message = (error as Error).message ?? String(error);
  if (name === "AccessDeniedException" || /not authorized/i.test(message))
    return `access denied: ${message}`;
  return name === "Error" ? message : `${name}: ${message}`;
}
