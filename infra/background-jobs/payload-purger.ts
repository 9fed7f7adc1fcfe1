import { join } from "node:path";
import {
  Duration,
  aws_lambda_event_sources as eventSources,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import { PAYLOAD_PREFIX } from "../../lib/jobs/payload.ts";
import { envNames, SERVICE_NAME } from "../../lib/names.ts";
import { REPO_ROOT } from "./entries.ts";
import type { JobResources } from "./resources.ts";

/**
 * Purged with its record: a small function on the job table's stream that deletes the payload
 * of every removed record that had one (`job.remove()`, an operator's delete, TTL alike). The
 * event source filter passes only `REMOVE` events whose old image carries a `dataRef`, so the
 * function runs once per purged large job (reading the stream itself is free to Lambda).
 * It needs no plugin code: it is bundled from `lambdas/payload-purger.ts` alone.
 *
 * @example purgePayloadsWithRecords(this, resources, { logRetention });
 */
export function purgePayloadsWithRecords(
  scope: Construct,
  resources: JobResources,
  settings: { logRetention: logs.RetentionDays },
): nodejs.NodejsFunction {
  const purger = new nodejs.NodejsFunction(scope, "PayloadPurger", {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(60),
    entry: join(REPO_ROOT, "lambdas", "payload-purger.ts"),
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
    environment: {
      [envNames.payloadBucket]: resources.payloadBucket.bucketName,
      [envNames.powertoolsServiceName]: SERVICE_NAME,
      [envNames.sdkNodeVersionWarningDisabled]: "true",
    },
    logGroup: new logs.LogGroup(scope, "PayloadPurgerLogs", {
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
    bundling: {
      forceDockerBundling: false,
      format: nodejs.OutputFormat.ESM,
      target: "node22",
      minify: true,
      sourceMap: true,
      externalModules: ["@aws-sdk/*"],
    },
    description: "Deletes the large data of removed job records (their claim checks)",
  });
  purger.addEventSource(
    new eventSources.DynamoEventSource(resources.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // A delete that keeps failing is retried for a day (the stream keeps records 24 h).
      retryAttempts: 10_000,
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual("REMOVE"),
          dynamodb: { OldImage: { dataRef: { M: { key: { S: lambda.FilterRule.exists() } } } } },
        }),
      ],
    }),
  );
  purger.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:DeleteObject"],
      resources: [resources.payloadBucket.arnForObjects(`${PAYLOAD_PREFIX}*`)],
    }),
  );
  return purger;
}
