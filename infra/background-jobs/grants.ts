import { aws_iam as iam, type aws_lambda as lambda, Stack } from "aws-cdk-lib";
import { JOB_TABLE_INDEXES, LANES } from "../../lib/resources.ts";
import { type JobResources, schedulesArn } from "./resources.ts";

/** The condition on PassRole of the scheduler role: only towards EventBridge Scheduler. */
function passedToScheduler(): Record<string, Record<string, string>> {
  return { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } };
}

/** The ARNs of the table's indexes (Query is granted on them, never on the table). */
function indexArns(resources: JobResources): string[] {
  return JOB_TABLE_INDEXES.map((index) => `${resources.table.tableArn}/index/${index.name}`);
}

/**
 * Least privilege, exactly what lib/aws calls: items of the table (Get/BatchGet/Put/Update/Delete),
 * Query on the indexes (never the table), SendMessage (and SendMessageBatch) to the
 * lanes, Create/Update/DeleteSchedule in the job schedule group, and passing the scheduler
 * role to Scheduler. The SQS event sources add the dispatcher's consume grant
 * (ReceiveMessage, DeleteMessage, ChangeMessageVisibility, ...) on the lanes.
 *
 * @example grantJobCalls(functions.reconciler, resources);
 */
export function grantJobCalls(fn: lambda.Function, resources: JobResources): void {
  fn.addToRolePolicy(
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
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ["dynamodb:Query"], resources: indexArns(resources) }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["sqs:SendMessage"],
      resources: LANES.map((lane) => resources.queues[lane].queueArn),
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
      resources: [schedulesArn(resources)],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["iam:PassRole"],
      resources: [resources.schedulerRole.roleArn],
      conditions: passedToScheduler(),
    }),
  );
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
  const { queues, deadLetterQueues } = resources;
  const all = LANES.flatMap((lane) => [queues[lane], deadLetterQueues[lane]]);
  const dlqs = LANES.map((lane) => deadLetterQueues[lane].queueArn);
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
  ];
  return grants
    .map(([actions, resourceArns]) => iam.Grant.addToPrincipal({ grantee, actions, resourceArns }))
    .reduce((combined, grant) => combined.combine(grant));
}

/**
 * `grantRead`, plus what operator actions write: item updates, puts (a template fired now)
 * and deletes on the table; SendMessage to the lanes (a job sent again, a redrive);
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
      resourceArns: LANES.map((lane) => resources.queues[lane].queueArn),
    }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["sqs:DeleteMessage"],
      resourceArns: LANES.map((lane) => resources.deadLetterQueues[lane].queueArn),
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
  ];
  return writes.reduce((combined, grant) => combined.combine(grant), grantRead(grantee, resources));
}
