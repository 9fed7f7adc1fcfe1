import { aws_iam as iam, type aws_lambda as lambda, Stack } from "aws-cdk-lib";
import { PAYLOAD_PREFIX } from "../../lib/jobs/payload.ts";
import { JOB_TABLE_INDEXES } from "../../lib/resources.ts";
import { type JobResources, laneQueues, schedulesArn } from "./resources.ts";

/** The condition on PassRole of the scheduler role: only towards EventBridge Scheduler. */
function passedToScheduler(): Record<string, Record<string, string>> {
  return { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } };
}

/** The payload objects' ARNs: the bucket's `data/` prefix, nothing else in it. */
function payloadObjectsArn(resources: JobResources): string {
  return resources.payloadBucket.arnForObjects(`${PAYLOAD_PREFIX}*`);
}

/**
 * What lib/aws/payloads.ts calls for a job system that inserts and reads jobs: put (a multipart
 * upload is PutObject too), abort an upload it could not finish, get, and delete the object of
 * a record whose put failed.
 */
const PAYLOAD_WRITES = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"];

/** The ARNs of the table's indexes (Query is granted on them, never on the table). */
function indexArns(resources: JobResources): string[] {
  return JOB_TABLE_INDEXES.map((index) => `${resources.table.tableArn}/index/${index.name}`);
}

/** Every lane's queue ARN, the server lane's too (a misplaced message is moved there). */
function laneArns(resources: JobResources): string[] {
  return laneQueues(resources).map(({ queue }) => queue.queueArn);
}

/** What the job system calls, as statements (see `grantJobCalls`). */
function jobCallStatements(resources: JobResources): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
      ],
      resources: [resources.table.tableArn],
    }),
    new iam.PolicyStatement({ actions: ["dynamodb:Query"], resources: indexArns(resources) }),
    new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: laneArns(resources) }),
    new iam.PolicyStatement({
      actions: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
      resources: [schedulesArn(resources)],
    }),
    new iam.PolicyStatement({
      actions: ["iam:PassRole"],
      resources: [resources.schedulerRole.roleArn],
      conditions: passedToScheduler(),
    }),
    new iam.PolicyStatement({
      actions: ["s3:GetObject", ...PAYLOAD_WRITES],
      resources: [payloadObjectsArn(resources)],
    }),
  ];
}

/**
 * Least privilege, exactly what lib/aws calls: items of the table (Get/BatchGet/Put/Update/Delete),
 * Query on the indexes (never the table), SendMessage (and SendMessageBatch) to the
 * lanes (the server lane's too), Create/Update/DeleteSchedule in the job schedule group,
 * passing the scheduler role to Scheduler, and the payload objects (`data/*`: get, put, abort,
 * delete). The SQS event sources add the dispatcher's consume
 * grant (ReceiveMessage, DeleteMessage, ChangeMessageVisibility, ...) on the priority lanes.
 *
 * @example grantJobCalls(functions.reconciler, resources);
 */
export function grantJobCalls(fn: lambda.Function, resources: JobResources): void {
  for (const statement of jobCallStatements(resources)) fn.addToRolePolicy(statement);
}

/**
 * An API server's role: the job calls (as `grantJobCalls`: it schedules, cancels and runs
 * jobs), and consuming the server lane by long polling: ReceiveMessage, DeleteMessage,
 * ChangeMessageVisibility and GetQueueAttributes on the server lane's queue only.
 *
 * @example grantApiServer(taskRole, resources)
 */
export function grantApiServer(grantee: iam.IGrantable, resources: JobResources): iam.Grant {
  const grants = jobCallStatements(resources).map((statement) =>
    iam.Grant.addToPrincipal({
      grantee,
      actions: statement.actions,
      resourceArns: statement.resources,
      ...(Object.keys(statement.conditions ?? {}).length > 0
        ? { conditions: statement.conditions }
        : {}),
    }),
  );
  if (resources.serverLane) {
    grants.push(
      iam.Grant.addToPrincipal({
        grantee,
        actions: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
        ],
        resourceArns: [resources.serverLane.queue.queueArn],
      }),
    );
  }
  return grants.reduce((combined, grant) => combined.combine(grant));
}

/**
 * What `bgjobs` needs to look (jobs list/get/logs/watch, schedules list, lanes stats, dlq
 * list, doctor, `dashboard --read-only`): item and batch reads of the table and Query on its
 * indexes, queue attributes of the lanes and DLQs, a peek at the DLQs (receive, then make
 * visible again), the job schedule group's schedules, and this stack's outputs (`--stack`).
 *
 * @example grantRead(supportRole, resources)
 */
export function grantRead(grantee: iam.IGrantable, resources: JobResources): iam.Grant {
  const pairs = laneQueues(resources);
  const all = pairs.flatMap(({ queue, deadLetterQueue }) => [queue, deadLetterQueue]);
  const dlqs = pairs.map(({ deadLetterQueue }) => deadLetterQueue.queueArn);
  const grants: [actions: string[], resourceArns: string[]][] = [
    [["dynamodb:GetItem", "dynamodb:BatchGetItem"], [resources.table.tableArn]],
    [["dynamodb:Query"], indexArns(resources)],
    [["sqs:GetQueueAttributes"], all.map((queue) => queue.queueArn)],
    [["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"], dlqs],
    [["scheduler:GetSchedule"], [schedulesArn(resources)]],
    // bgjobs doctor: GetScheduleGroup fails for a missing group, where ListSchedules answers [].
    [["scheduler:GetScheduleGroup"], [resources.scheduleGroup.scheduleGroupArn]],
    // ListSchedules has no resource type: it cannot be scoped (the group is a request parameter).
    [["scheduler:ListSchedules"], ["*"]],
    [["cloudformation:DescribeStacks"], [Stack.of(resources.table).stackId]],
    // A claim-checked job's data (the job detail shows it).
    [["s3:GetObject"], [payloadObjectsArn(resources)]],
  ];
  return grants
    .map(([actions, resourceArns]) => iam.Grant.addToPrincipal({ grantee, actions, resourceArns }))
    .reduce((combined, grant) => combined.combine(grant));
}

/**
 * `grantRead`, plus what operator actions write: item updates, puts (a template fired now)
 * and deletes on the table; payload objects (an occurrence's large data); SendMessage to the lanes (a job sent again, a redrive);
 * DeleteMessage on the DLQs (a redrive); creating, updating and deleting schedules in the job
 * schedule group (pause, resume, cancel, a chain's next link) and passing the scheduler role
 * to EventBridge Scheduler for them.
 *
 * @example grantOperate(onCallRole, resources)
 */
export function grantOperate(grantee: iam.IGrantable, resources: JobResources): iam.Grant {
  const writes = [
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      resourceArns: [resources.table.tableArn],
    }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["sqs:SendMessage"],
      resourceArns: laneArns(resources),
    }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["sqs:DeleteMessage"],
      resourceArns: laneQueues(resources).map(({ deadLetterQueue }) => deadLetterQueue.queueArn),
    }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
      resourceArns: [schedulesArn(resources)],
    }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["iam:PassRole"],
      resourceArns: [resources.schedulerRole.roleArn],
      conditions: passedToScheduler(),
    }),
    // A template fired now inserts an occurrence, whose large data is written under its own key.
    iam.Grant.addToPrincipal({
      grantee,
      actions: PAYLOAD_WRITES,
      resourceArns: [payloadObjectsArn(resources)],
    }),
  ];
  return writes.reduce((combined, grant) => combined.combine(grant), grantRead(grantee, resources));
}
