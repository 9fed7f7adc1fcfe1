import { createHash, createHmac } from "node:crypto";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ServiceUnreachableError } from "../../aws/unreachable.ts";
import { endpointFromEnvironment } from "../../environment.ts";

/** AWS credentials as the SDK's default provider chain resolves them. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export class StackOutputsError extends Error {
  override name = "StackOutputsError";
}

/**
 * A stack's CloudFormation outputs (`DescribeStacks`), by key. The package ships no
 * CloudFormation client, so this is the one Query API call it needs, signed with SigV4 using
 * the SDK's default credential chain (`AWS_PROFILE`, `--profile`, SSO, environment, roles).
 * `AWS_ENDPOINT_URL_CLOUDFORMATION`, else `AWS_ENDPOINT_URL` (the SDK's variables, in its
 * order) point it elsewhere. A server that does not answer is a `ServiceUnreachableError`
 * naming CloudFormation, the URL and the cause.
 *
 * @example await stackOutputs("BackgroundJobs", { region: "eu-west-1" }) // { JobsTableName: "..." }
 */
export async function stackOutputs(
  stackName: string,
  options: {
    region: string;
    endpoint?: string;
    credentials?: Credentials;
    env?: NodeJS.ProcessEnv;
  },
): Promise<Record<string, string>> {
  const endpoint =
    options.endpoint ??
    endpointFromEnvironment("CloudFormation", options.env) ??
    `https://cloudformation.${options.region}.amazonaws.com/`;
  const credentials = options.credentials ?? (await defaultCredentials(options.region));
  const body = new URLSearchParams({
    Action: "DescribeStacks",
    StackName: stackName,
    Version: "2010-05-15",
  }).toString();
  const url = new URL(endpoint);
  const headers = signRequest({
    method: "POST",
    url,
    body,
    region: options.region,
    service: "cloudformation",
    credentials,
    now: new Date(),
    contentType: "application/x-www-form-urlencoded; charset=utf-8",
  });
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body });
  } catch (error) {
    throw new ServiceUnreachableError("CloudFormation", url.origin, error);
  }
  const text = await response.text();
  if (!response.ok) {
    const code = tag(text, "Code") ?? String(response.status);
    const message = tag(text, "Message") ?? text.slice(0, 200);
    throw new StackOutputsError(`CloudFormation DescribeStacks ${stackName}: ${code}: ${message}`);
  }
  const outputs: Record<string, string> = {};
  const section = /<Outputs>([\s\S]*?)<\/Outputs>/.exec(text)?.[1] ?? "";
  for (const member of section.split("<member>").slice(1)) {
    const key = tag(member, "OutputKey");
    const value = tag(member, "OutputValue");
    if (key !== undefined && value !== undefined) outputs[key] = value;
  }
  return outputs;
}

/** The SDK's default provider chain, resolved through a client's config (it honours AWS_PROFILE). */
async function defaultCredentials(region: string): Promise<Credentials> {
  const client = new SQSClient({ region });
  try {
    const resolved = await client.config.credentials();
    return {
      accessKeyId: resolved.accessKeyId,
      secretAccessKey: resolved.secretAccessKey,
      ...(resolved.sessionToken ? { sessionToken: resolved.sessionToken } : {}),
    };
  } finally {
    client.destroy();
  }
}

/**
 * SigV4 headers for a request with a body and no query string.
 *
 * @example signRequest({ method: "POST", url, body, region, service: "cloudformation", credentials, now, contentType })
 */
export function signRequest(request: {
  method: string;
  url: URL;
  body: string;
  region: string;
  service: string;
  credentials: Credentials;
  now: Date;
  contentType: string;
}): Record<string, string> {
  const amzDate = request.now.toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    "content-type": request.contentType,
    host: request.url.host,
    "x-amz-date": amzDate,
  };
  if (request.credentials.sessionToken)
    headers["x-amz-security-token"] = request.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [
    request.method,
    request.url.pathname || "/",
    "",
    ...names.map((name) => `${name}:${headers[name]}`),
    "",
    names.join(";"),
    sha256(request.body),
  ].join("\n");
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key: Buffer = hmac(`AWS4${request.credentials.secretAccessKey}`, day);
  for (const part of [request.region, request.service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? unescapeXml(match[1] as string) : undefined;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}
