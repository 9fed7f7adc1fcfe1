import { randomUUID } from "node:crypto";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateScheduleGroupCommand, DeleteScheduleGroupCommand } from "@aws-sdk/client-scheduler";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { ensureJobTable, ensureLaneQueues } from "../../lib/aws/provision.ts";
import type { StackInfo } from "../../lib/ops/connect.ts";
import { resourceNames } from "../../lib/resources.ts";
import type { LocalAppHandle } from "../support/local-app.ts";

/**
 * A stack of its own on a local app's servers: a job table, the six queues, a schedule group,
 * created through the AWS SDK, that nothing consumes (the app's poller reads only its own
 * lanes). Tests break one of its resources, or watch jobs stay unconsumed; `drop()` deletes
 * what is left.
 */
export async function freshStack(
  local: LocalAppHandle,
): Promise<{ info: StackInfo; drop(): Promise<void> }> {
  const { dynamodb, sqs, scheduler } = local;
  const prefix = `fresh-${randomUUID().slice(0, 8)}`;
  const names = resourceNames(prefix);
  const [, queues] = await Promise.all([
    ensureJobTable(dynamodb, names.tableName),
    ensureLaneQueues(sqs, names),
    scheduler.send(new CreateScheduleGroupCommand({ Name: prefix })),
  ]);
  const info: StackInfo = {
    source: "env",
    region: local.app.local.region,
    endpoints: local.app.local.endpoints,
    tableName: names.tableName,
    queueUrls: queues.queueUrls,
    deadLetterQueueUrls: queues.deadLetterUrls,
    scheduleGroup: prefix,
    schedulerRoleArn: local.app.local.schedulerRoleArn,
  };
  const quietly = (call: Promise<unknown>) => call.catch(() => undefined); // already broken
  return {
    info,
    async drop() {
      const urls = [...Object.values(queues.queueUrls), ...Object.values(queues.deadLetterUrls)];
      await Promise.all([
        quietly(dynamodb.send(new DeleteTableCommand({ TableName: names.tableName }))),
        ...urls.map((url) => quietly(sqs.send(new DeleteQueueCommand({ QueueUrl: url })))),
        quietly(scheduler.send(new DeleteScheduleGroupCommand({ Name: prefix }))),
      ]);
    },
  };
}
