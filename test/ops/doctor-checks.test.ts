import { DeleteTableCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb";
import { DeleteScheduleGroupCommand } from "@aws-sdk/client-scheduler";
import { DeleteQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { createClients } from "../../lib/aws/clients.ts";
import { adaptersFor } from "../../lib/backend/adapters.ts";
import { createJobSystem } from "../../lib/jobs/api.ts";
import { silentLogger } from "../../lib/log.ts";
import { type Connection, connect, type StackInfo } from "../../lib/ops/connect.ts";
import { doctor } from "../../lib/ops/doctor.ts";
import { NO_WORKERS_AFTER_MS } from "../../lib/ops/lanes.ts";
import type { DoctorCheck } from "../../lib/ops/types.ts";
import { jobTable, LANES } from "../../lib/resources.ts";
import { LOCAL_CREDENTIALS } from "../../lib/stack.ts";
import { useLocalApp } from "../support/local-app.ts";
import { freshStack } from "./fresh-stack.ts";

/**
 * Every `bgjobs doctor` check fails on a stack broken in exactly its resource, and the others
 * pass. Each test that breaks something provisions a stack of its own (table, six queues,
 * schedule group) on one local stack's servers, breaks one thing in it through the AWS SDK,
 * and runs doctor on it; the others share one healthy stack.
 */
const local = useLocalApp();

/** Runs doctor on a connection to `info`, and closes it. */
async function doctorOn(
  info: StackInfo,
  connectWith: (info: StackInfo) => Connection | Promise<Connection> = (info) => connect(info),
): Promise<{ checks: DoctorCheck[]; info: StackInfo }> {
  const conn = await connectWith(info);
  try {
    return { checks: await doctor(conn), info };
  } finally {
    conn.close();
  }
}

/** Runs doctor on a fresh stack after `breakIt`, and drops the stack. */
async function doctorAfter(
  breakIt: (info: StackInfo) => Promise<unknown>,
  connectWith?: (info: StackInfo) => Connection | Promise<Connection>,
): Promise<{ checks: DoctorCheck[]; info: StackInfo }> {
  const stack = await freshStack(local);
  try {
    await breakIt(stack.info);
    return await doctorOn(stack.info, connectWith);
  } finally {
    await stack.drop();
  }
}

/** One healthy stack for the tests that break nothing in it (made on first use). */
let healthy: ReturnType<typeof freshStack> | undefined;
async function healthyStack(): Promise<StackInfo> {
  healthy ??= freshStack(local);
  return (await healthy).info;
}
afterAll(async () => {
  await (await healthy)?.drop();
});

/** The checks by level: `{ fail: [...names], warn: [...] }`, and each check's detail by name. */
function byLevel(checks: DoctorCheck[]) {
  const names = (level: DoctorCheck["level"]) =>
    checks.filter((c) => c.level === level).map((c) => c.name);
  const detail = Object.fromEntries(checks.map((c) => [c.name, c.detail]));
  return { fail: names("fail"), warn: names("warn"), detail };
}

const ALL_CHECKS = [
  "stack",
  "table",
  "index open",
  "index byType",
  ...LANES.map((lane) => `lane ${lane}`),
  "dead-letter queues",
  "schedule group",
  "write access",
  "workers",
];

describe("bgjobs doctor on a broken stack", () => {
  it("passes every check on a healthy stack", async () => {
    const { checks } = await doctorOn(await healthyStack());
    expect(checks.map((c) => c.name)).toEqual(ALL_CHECKS);
    expect(byLevel(checks)).toMatchObject({ fail: [], warn: [] });
  });

  it("table: a deleted table fails, naming it; the table's other checks are not run", async () => {
    const { checks, info } = await doctorAfter((info) =>
      local.dynamodb.send(new DeleteTableCommand({ TableName: info.tableName })),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual(["table"]);
    expect(found.detail.table).toMatch(
      new RegExp(`^table ${info.tableName}: ResourceNotFoundException`),
    );
    expect(found.warn).toEqual(["index open", "index byType", "write access", "workers"]);
    expect(found.detail["index open"]).toBe("not checked: table failed");
  });

  for (const index of Object.values(jobTable.indexes)) {
    it(`index ${index.name}: a table without it fails that check, naming the index`, async () => {
      const { checks, info } = await doctorAfter((info) =>
        local.dynamodb.send(
          new UpdateTableCommand({
            TableName: info.tableName,
            GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: index.name } }],
          }),
        ),
      );
      const found = byLevel(checks);
      expect(found.fail).toEqual([`index ${index.name}`]);
      expect(found.detail[`index ${index.name}`]).toMatch(
        new RegExp(`^index ${index.name} of table ${info.tableName}: `),
      );
      // The open index is what the workers check reads.
      expect(found.warn).toEqual(index.name === "open" ? ["workers"] : []);
    });
  }

  it("lane: a deleted queue fails its lane, naming the queue", async () => {
    const { checks, info } = await doctorAfter((info) =>
      local.sqs.send(new DeleteQueueCommand({ QueueUrl: info.queueUrls.normal })),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual(["lane normal"]);
    expect(found.detail["lane normal"]).toContain(`queue ${info.queueUrls.normal}: `);
    expect(found.warn).toEqual(["workers"]);
  });

  it("lane: a deleted dead-letter queue fails its lane, naming the DLQ", async () => {
    const { checks, info } = await doctorAfter((info) =>
      local.sqs.send(
        new DeleteQueueCommand({ QueueUrl: info.deadLetterQueueUrls?.critical as string }),
      ),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual(["lane critical"]);
    expect(found.detail["lane critical"]).toContain(
      `queue ${info.deadLetterQueueUrls?.critical}: `,
    );
  });

  it("workers: a dead letter in a DLQ fails, naming the lane and the count", async () => {
    const { checks } = await doctorAfter((info) =>
      local.sqs.send(
        new SendMessageCommand({
          QueueUrl: info.deadLetterQueueUrls?.low as string,
          MessageBody: "poison",
        }),
      ),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual(["workers"]);
    expect(found.detail.workers).toBe("dead letters: low 1 (bgjobs dlq list)");
  });

  it("workers: a due job's message waiting past 30 s with nothing receiving it fails, naming the lane", async () => {
    // Nothing polls this stack's queues; its job system's time is moved, not waited for.
    let now = Date.now();
    const clock = { now: () => now, sleep: async () => {} };
    const { checks } = await doctorAfter(
      async () => {},
      async (info) => {
        const clients = createClients({
          region: info.region,
          endpoints: local.app.local.endpoints,
          credentials: LOCAL_CREDENTIALS,
        });
        const jobs = createJobSystem({
          ...adaptersFor(clients, info),
          logger: silentLogger,
          cleanup: new Map(),
          clock,
        });
        await jobs.backgroundJobs.scheduleJob({ type: "doctor/unconsumed", data: {} });
        now += NO_WORKERS_AFTER_MS + 1000;
        return connect(info, { deps: jobs.deps, clients });
      },
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual(["workers"]);
    expect(found.detail.workers).toBe(
      "messages wait in normal and nothing receives them (no dispatcher or poller)",
    );
  });

  it("schedule group: a deleted group fails, naming it (ListSchedules alone would pass)", async () => {
    const { checks, info } = await doctorAfter((info) =>
      local.scheduler.send(new DeleteScheduleGroupCommand({ Name: info.scheduleGroup })),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual(["schedule group"]);
    expect(found.detail["schedule group"]).toMatch(
      new RegExp(
        `^schedule group ${info.scheduleGroup}: ResourceNotFoundException: .*${info.scheduleGroup}`,
      ),
    );
  });

  it("write access: an identity refused UpdateItem is warned about, naming the table", async () => {
    // DynamoDB Local has no IAM: the refusal AWS would answer is what this client receives.
    const refused = Object.assign(
      new Error("User: arn:aws:iam::1:user/ro is not authorized to perform: dynamodb:UpdateItem"),
      {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 400 },
      },
    );
    const { checks, info } = await doctorOn(await healthyStack(), (info) =>
      connect(info, {
        clients: createClients({
          region: info.region,
          endpoints: local.app.local.endpoints,
          credentials: LOCAL_CREDENTIALS,
          injectFault: (operation) => (operation === "DynamoDB.UpdateItem" ? refused : undefined),
        }),
      }),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual([]);
    expect(found.warn).toEqual(["write access"]);
    expect(found.detail["write access"]).toBe(
      `table ${info.tableName}: access denied: ${refused.message}`,
    );
  });

  it("warns when the stack names no dead-letter queues or schedule group", async () => {
    const { checks } = await doctorOn(
      await healthyStack(),
      ({ deadLetterQueueUrls, scheduleGroup, ...info }) => connect(info),
    );
    const found = byLevel(checks);
    expect(found.fail).toEqual([]);
    expect(found.warn).toEqual(["dead-letter queues", "schedule group"]);
  });
});
