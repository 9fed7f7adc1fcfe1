import { CfnOutput } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { stackOutputNames } from "../../lib/names.ts";
import { type JobResources, laneQueues } from "./resources.ts";

/**
 * The outputs `bgjobs --stack NAME` reads (names in lib/names.ts): the table, each lane's
 * queue and DLQ (the server lane's too), the job schedule group, the scheduler role and the
 * payload bucket.
 *
 * @example addOutputs(this, resources);
 */
export function addOutputs(scope: Construct, resources: JobResources): void {
  const output = (key: string, value: string, description: string) =>
    new CfnOutput(scope, key, { key, value, description });
  output(stackOutputNames.tableName, resources.table.tableName, "The job table");
  // The server lane's too, when there is one: the API servers need its URL.
  for (const { lane, queue, deadLetterQueue } of laneQueues(resources)) {
    output(stackOutputNames.queueUrl(lane), queue.queueUrl, `The ${lane} lane's queue`);
    output(
      stackOutputNames.deadLetterQueueUrl(lane),
      deadLetterQueue.queueUrl,
      `The ${lane} lane's dead-letter queue`,
    );
  }
  output(
    stackOutputNames.scheduleGroup,
    resources.scheduleGroup.scheduleGroupName,
    "The job schedule group",
  );
  output(
    stackOutputNames.schedulerRoleArn,
    resources.schedulerRole.roleArn,
    "The role EventBridge Scheduler sends job messages with",
  );
  output(
    stackOutputNames.payloadBucket,
    resources.payloadBucket.bucketName,
    "The bucket of job data too large for a record",
  );
}
