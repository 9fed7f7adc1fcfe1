import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  type StackResource,
} from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SQSClient } from "@aws-sdk/client-sqs";
import { MOTO_ACCOUNT, MOTO_REGION, type MotoServer, startMotoServer } from "./moto-server.ts";
import {
  CDK,
  CDK_QUIET_ENV,
  createSkippedScheduleGroups,
  type MotoAssembly,
  synthesizeForMoto,
} from "./moto-template.ts";
import { type SerialProxy, startSerialProxy } from "./serial-proxy.ts";

const run = promisify(execFile);

/** moto takes any key; these are what every client and the CDK CLI send. */
export const MOTO_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

/** SDK clients pointed at moto. */
export interface MotoClients {
  cloudformation: CloudFormationClient;
  dynamodb: DynamoDBClient;
  iam: IAMClient;
  lambda: LambdaClient;
  s3: S3Client;
  scheduler: SchedulerClient;
  sqs: SQSClient;
}

/** A stack deployed onto a moto server by the real CDK CLI. */
export interface MotoDeployment {
  moto: MotoServer;
  assembly: MotoAssembly;
  clients: MotoClients;
  stackName: string;
  stackStatus: string;
  outputs: Record<string, string>;
  resources: StackResource[];
  /** The bucket `cdk bootstrap` made and `cdk deploy` uploaded the assets to. */
  assetBucket: string;
  /** Schedule groups moto's CloudFormation skipped, created through the Scheduler API. */
  createdGroups: string[];
  /** What the CLI and the SDK need to reach moto: region, credentials, `AWS_ENDPOINT_URL`. */
  awsEnv: Record<string, string>;
  /** moto's DynamoDB one request at a time (see serial-proxy.ts): what the running system uses. */
  dynamodbProxy: SerialProxy;
  /** What Lambda gives the functions here: `awsEnv`, DynamoDB through `dynamodbProxy`. */
  lambdaEnv: Record<string, string>;
  timings: Record<"motoStartMs" | "synthMs" | "bootstrapMs" | "deployMs", number>;
  stop(): Promise<void>;
}

/**
 * Starts moto, synthesizes the app for `pluginsEntry` (`cdk synth`), and runs the real CDK CLI
 * against moto: `cdk bootstrap`, then `cdk deploy --method=direct` of the copy with moto's gaps
 * bridged. `stop()` stops the server and removes the assembly.
 *
 * @example const deployment = await deployOnMoto("MotoJobs", "test/deploy/scenario-plugins.ts")
 */
export async function deployOnMoto(
  stackName: string,
  pluginsEntry: string,
): Promise<MotoDeployment> {
  const startedAt = performance.now();
  const moto = await startMotoServer();
  const motoStartMs = performance.now() - startedAt;
  const awsEnv = {
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: moto.endpoint,
  };
  const cliEnv = {
    ...process.env,
    ...CDK_QUIET_ENV,
    ...awsEnv,
    // moto's CloudFormation reads path-style S3 URLs only from a "localhost" host.
    AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: moto.localhostEndpoint,
  };
  const clean: (() => void | Promise<void>)[] = [];
  try {
    const dynamodbProxy = await startSerialProxy(moto.endpoint);
    clean.push(() => dynamodbProxy.stop());
    // Bootstrapping needs no app: it runs beside the synth, from a folder with no cdk.json.
    const bootstrapDir = mkdtempSync(join(tmpdir(), "cdk-bootstrap-"));
    clean.push(() => rmSync(bootstrapDir, { recursive: true, force: true }));
    const bootstrapStart = performance.now();
    let bootstrapMs = 0;
    const bootstrapped = run(
      CDK,
      ["bootstrap", `aws://${MOTO_ACCOUNT}/${MOTO_REGION}`, "--no-notices"],
      { cwd: bootstrapDir, env: cliEnv, maxBuffer: 16 * 1024 * 1024 },
    ).then(() => {
      bootstrapMs = performance.now() - bootstrapStart;
    });
    const [assembly] = await Promise.all([
      synthesizeForMoto(stackName, pluginsEntry, MOTO_REGION, MOTO_ACCOUNT),
      bootstrapped,
    ]);
    clean.push(assembly.remove);
    const deployStart = performance.now();
    await run(
      CDK,
      [
        "deploy",
        stackName,
        "--app",
        assembly.patched,
        "--method=direct",
        "--require-approval",
        "never",
        "--no-notices",
      ],
      { cwd: bootstrapDir, env: cliEnv, maxBuffer: 16 * 1024 * 1024 },
    );
    const deployMs = performance.now() - deployStart;

    const common = { region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS };
    const clients: MotoClients = {
      cloudformation: new CloudFormationClient(common),
      dynamodb: new DynamoDBClient(common),
      iam: new IAMClient(common),
      lambda: new LambdaClient(common),
      s3: new S3Client({ ...common, forcePathStyle: true }),
      scheduler: new SchedulerClient(common),
      sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false }),
    };
    clean.push(() => {
      for (const client of Object.values(clients)) client.destroy();
    });
    const createdGroups = await createSkippedScheduleGroups(assembly.template, clients.scheduler);
    const described = async (name: string) =>
      (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: name })))
        .Stacks?.[0];
    const stack = await described(stackName);
    // The bootstrap stack's one assets bucket (moto's CDKToolkit stack has no outputs).
    const { Buckets = [] } = await clients.s3.send(new ListBucketsCommand({}));
    const assetBuckets = Buckets.map((b) => b.Name ?? "").filter((name) =>
      /^cdk-[a-z0-9]+-assets-/.test(name),
    );
    if (assetBuckets.length !== 1)
      throw new Error(`expected one cdk assets bucket after bootstrap, found ${assetBuckets}`);
    const outputsOf = (found: typeof stack) =>
      Object.fromEntries((found?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const { StackResources = [] } = await clients.cloudformation.send(
      new DescribeStackResourcesCommand({ StackName: stackName }),
    );
    return {
      moto,
      assembly,
      clients,
      stackName,
      stackStatus: stack?.StackStatus ?? "",
      outputs: outputsOf(stack),
      resources: StackResources,
      assetBucket: assetBuckets[0] as string,
      createdGroups,
      awsEnv,
      dynamodbProxy,
      lambdaEnv: { ...awsEnv, AWS_ENDPOINT_URL_DYNAMODB: dynamodbProxy.endpoint },
      timings: { motoStartMs, synthMs: assembly.synthMs, bootstrapMs, deployMs },
      stop: async () => {
        for (const step of clean.reverse()) await step();
        await moto.stop();
      },
    };
  } catch (error) {
    for (const step of clean.reverse()) await step();
    await moto.stop();
    throw error;
  }
}
