import { type aws_lambda as lambda, type Stack, type aws_s3 as s3, Validations } from "aws-cdk-lib";
import type { BackgroundJobs } from "./background-jobs/construct.ts";

/**
 * The cdk-nag findings this design accepts, each with its reason. Any other finding fails
 * the synth (cdk-nag's AwsSolutions checks run on every `cdk synth`).
 */
export function acknowledgeFindings(stack: Stack, jobs: BackgroundJobs): void {
  const acknowledge = (id: string, reason: string) =>
    Validations.of(stack).acknowledge({ id, reason });
  acknowledge(
    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AWSLambdaBasicExecutionRole only lets the functions write their own CloudWatch logs.",
  );
  acknowledge(
    `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${jobs.scheduleGroup.scheduleGroupName}/*]`,
    "Schedules are created per job at run time (job-<id>, at-<id>-<time>); the grant is limited to this construct's own schedule group.",
  );
  const reconciler = stack.getLogicalId(jobs.reconciler.node.defaultChild as lambda.CfnFunction);
  acknowledge(
    `AwsSolutions::AwsSolutions-IAM5[Resource::<${reconciler}.Arn>:*]`,
    "The reconcile schedule's role may invoke the reconciler function's versions and aliases (the CDK's LambdaInvoke target grant); nothing else.",
  );
  const payloads = stack.getLogicalId(jobs.payloadBucket.node.defaultChild as s3.CfnBucket);
  acknowledge(
    `AwsSolutions::AwsSolutions-IAM5[Resource::<${payloads}.Arn>/data/*]`,
    "Payload objects are keyed by job id at run time (data/<id>.json); the grant is limited to the payload bucket's data/ prefix.",
  );
  acknowledge(
    "AwsSolutions::AwsSolutions-S1",
    "The payload bucket is written only by this construct's functions under data/<job id>; access logs would need a second bucket per deployment. Turn on CloudTrail S3 data events where object-level audit is required.",
  );
  acknowledge(
    "AwsSolutions::AwsSolutions-L1",
    "Node.js 22 is the runtime the project targets (DESIGN fixes nodejs22.x); 24.x is not required by anything here.",
  );
}
