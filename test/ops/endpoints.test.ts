import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListScheduleGroupsCommand } from "@aws-sdk/client-scheduler";
import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "../../lib/aws/clients.ts";
import { ServiceUnreachableError } from "../../lib/aws/unreachable.ts";
import { endpointFromEnvironment } from "../../lib/environment.ts";
import { stackOutputNames } from "../../lib/names.ts";
import { LANES } from "../../lib/resources.ts";
import { restoreEnvironment, runBgjobs } from "../support/cli.ts";
import { useLocalApp } from "../support/local-app.ts";

/**
 * Where `bgjobs`'s clients send their requests when no local stack names its servers: as the
 * AWS SDK resolves it (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`), for the
 * CloudFormation call made without the SDK too; and a server that does not answer is named.
 */
const local = useLocalApp();

const saved = { ...process.env };
/** Only these AWS_* variables for the test: credentials for signing, and what it passes. */
function awsEnvironment(vars: Record<string, string>): void {
  for (const name of Object.keys(process.env))
    if (name.startsWith("AWS_ENDPOINT_URL") || name === "AWS_PROFILE") delete process.env[name];
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "l" }, vars);
}
afterEach(() => restoreEnvironment(saved));

const bgjobs = (argv: string[]) => runBgjobs(argv);

/** A loopback URL nothing listens on (a port just freed). */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe("endpointFromEnvironment (the CloudFormation call's endpoint)", () => {
  it("takes the service's own variable first, then AWS_ENDPOINT_URL, as the SDK does", () => {
    const global = "http://127.0.0.1:4000";
    const own = "http://127.0.0.1:4001";
    expect(endpointFromEnvironment("CloudFormation", { AWS_ENDPOINT_URL: global })).toBe(global);
    expect(
      endpointFromEnvironment("CloudFormation", {
        AWS_ENDPOINT_URL: global,
        AWS_ENDPOINT_URL_CLOUDFORMATION: own,
        AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:4002",
      }),
    ).toBe(own);
    expect(endpointFromEnvironment("Cost Explorer", { AWS_ENDPOINT_URL_COST_EXPLORER: own })).toBe(
      own,
    );
    expect(endpointFromEnvironment("CloudFormation", { AWS_ENDPOINT_URL: "" })).toBeUndefined();
    expect(
      endpointFromEnvironment("CloudFormation", {
        AWS_ENDPOINT_URL: global,
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
      }),
    ).toBeUndefined();
  });
});

describe("a server that does not answer", () => {
  it("bgjobs --stack with only AWS_ENDPOINT_URL names CloudFormation, the URL and the cause", async () => {
    const url = await closedUrl();
    awsEnvironment({ AWS_ENDPOINT_URL: url });
    const ran = await bgjobs(["doctor", "--stack", "Shop", "--region", "us-east-1"]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `bgjobs: cannot reach CloudFormation at ${url}: connect ECONNREFUSED ${url.slice(7)}\n`,
    );
  });

  it("each SDK client names its service and the URL AWS_ENDPOINT_URL gave it, after its retries", async () => {
    const url = await closedUrl();
    awsEnvironment({ AWS_ENDPOINT_URL: url });
    const clients = createClients({ region: "us-east-1" });
    try {
      // Each call's failure is caught as it is made: the three fail at once, and one awaited
      // later would be an unhandled rejection meanwhile.
      const failure = (call: Promise<unknown>) =>
        call.then(
          () => undefined,
          (e: unknown) => e,
        );
      const calls = [
        ["DynamoDB", failure(clients.dynamodb.send(new ListTablesCommand({})))],
        ["SQS", failure(clients.sqs.send(new ListQueuesCommand({})))],
        ["Scheduler", failure(clients.scheduler.send(new ListScheduleGroupsCommand({})))],
      ] as const;
      for (const [service, failed] of calls) {
        const error = await failed;
        expect(error).toBeInstanceOf(ServiceUnreachableError);
        expect((error as Error).message).toBe(
          `cannot reach ${service} at ${url}: connect ECONNREFUSED ${url.slice(7)}`,
        );
        expect((error as ServiceUnreachableError).code).toBe("ECONNREFUSED");
      }
    } finally {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      clients.scheduler.destroy();
    }
  });
});

describe("AWS_ENDPOINT_URL on a live server", () => {
  let gateway: { url: string; server: Server; seen: Set<string> };
  beforeAll(async () => {
    gateway = await awsGateway(local.app);
  });
  afterAll(async () => {
    await new Promise((resolve) => gateway?.server.close(resolve));
  });

  it("sends every client of bgjobs doctor --stack there: CloudFormation, DynamoDB, SQS, Scheduler", async () => {
    awsEnvironment({ AWS_ENDPOINT_URL: gateway.url });
    const ran = await bgjobs(["doctor", "--stack", "Shop", "--region", "us-east-1", "--json"]);
    expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(ran.stdout).checks[0].detail).toContain("CloudFormation stack Shop");
    expect([...gateway.seen].sort()).toEqual(["CloudFormation", "DynamoDB", "SQS", "Scheduler"]);
  });

  it("a service's own variable wins over AWS_ENDPOINT_URL for that service", async () => {
    gateway.seen.clear();
    awsEnvironment({
      AWS_ENDPOINT_URL: gateway.url,
      AWS_ENDPOINT_URL_DYNAMODB: local.app.local.endpoints.dynamodb,
    });
    const ran = await bgjobs(["doctor", "--stack", "Shop", "--region", "us-east-1", "--json"]);
    expect(ran.code).toBe(0);
    expect([...gateway.seen].sort()).toEqual(["CloudFormation", "SQS", "Scheduler"]);
  });
});

/**
 * One URL for every service, as `AWS_ENDPOINT_URL` is (moto serves all there): answers
 * CloudFormation's DescribeStacks with the local stack's resources as the construct's outputs,
 * and passes every other request to the local server of its service, noting which it saw.
 */
async function awsGateway(app: typeof local.app) {
  const stack = app.local;
  const outputs: Record<string, string> = {
    [stackOutputNames.tableName]: stack.tableName,
    [stackOutputNames.scheduleGroup]: stack.scheduleGroup,
    [stackOutputNames.schedulerRoleArn]: stack.schedulerRoleArn,
  };
  for (const lane of LANES) {
    outputs[stackOutputNames.queueUrl(lane)] = stack.queueUrls[lane];
    outputs[stackOutputNames.deadLetterQueueUrl(lane)] = stack.deadLetterQueueUrls[lane];
  }
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const target = String(req.headers["x-amz-target"] ?? "");
      if (new URLSearchParams(body.toString()).get("Action") === "DescribeStacks") {
        seen.add("CloudFormation");
        const members = Object.entries(outputs)
          .map(
            ([k, v]) =>
              `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`,
          )
          .join("");
        res.setHeader("content-type", "text/xml");
        res.end(
          `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>Shop</StackName><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`,
        );
        return;
      }
      const service = target.startsWith("DynamoDB")
        ? "DynamoDB"
        : target.startsWith("AmazonSQS")
          ? "SQS"
          : "Scheduler";
      seen.add(service);
      const endpoint = new URL(
        {
          DynamoDB: stack.endpoints.dynamodb,
          SQS: stack.endpoints.sqs,
          Scheduler: stack.endpoints.scheduler,
        }[service],
      );
      const forward = request(
        {
          host: endpoint.hostname,
          port: endpoint.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: endpoint.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", (error) => {
        res.statusCode = 502;
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}
