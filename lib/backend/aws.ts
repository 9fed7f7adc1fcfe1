/**
 * The AWS backend: SDK clients on a deployment's resources, which the CDK construct names in
 * the functions' environment (or the caller passes). Nothing to start or consume: Lambda's
 * event source mappings and schedule do that.
 */
import { type AwsClients, createClients } from "../aws/clients.ts";
import { regionFromEnvironment } from "../environment.ts";
import { DEFAULT_REGION, type StackResources } from "../stack.ts";
import type { Deployment } from "./deployment.ts";
import type { AwsBackendOptions } from "./options.ts";

/**
 * The AWS SDK clients for a deployment: its region (else the environment's, else
 * `us-east-1`), and its endpoints when it has any (the local stack, tests).
 *
 * @example const clients = clientsFor({ tableName, queueUrls, region: "eu-west-1" });
 */
export function clientsFor(
  resources: StackResources,
  connection: Pick<AwsBackendOptions, "credentials" | "requestCounter"> = {},
): AwsClients {
  return createClients({
    region: resources.region ?? regionFromEnvironment() ?? DEFAULT_REGION,
    ...(resources.endpoints ? { endpoints: resources.endpoints } : {}),
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    ...(connection.requestCounter ? { requestCounter: connection.requestCounter } : {}),
  });
}

/** Ends the clients' sockets. */
export function destroyClients(clients: AwsClients): void {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  clients.scheduler.destroy();
  clients.s3.destroy();
}

/**
 * A deployment on AWS (or on servers speaking its protocols, given `endpoints`).
 * `functionTimeoutMs`: in Lambda, the dispatcher's timeout, which bounds every run.
 *
 * @example const deployment = awsDeployment(resourcesFromEnvironment(), {});
 */
export function awsDeployment(
  options: AwsBackendOptions,
  settings: { functionTimeoutMs?: number },
): Deployment {
  const { credentials, requestCounter, ...resources } = options;
  const clients = clientsFor(resources, {
    ...(credentials ? { credentials } : {}),
    ...(requestCounter ? { requestCounter } : {}),
  });
  return {
    resources,
    clients,
    settings,
    started: async () => {},
    consume: () => {},
    stopConsuming: async () => {},
    stop: async () => destroyClients(clients),
  };
}
