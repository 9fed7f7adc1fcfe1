import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { nameUnreachableEndpoints } from "./unreachable.ts";

/**
 * Where the AWS clients point: the local stack's servers (`endpoints`), else where the SDK
 * itself resolves them: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the
 * shared config file's `endpoint_url`, else AWS (lib/environment.ts `endpointFromEnvironment`).
 */
export interface ClientConfig {
  region: string;
  endpoints?: { dynamodb?: string; sqs?: string; scheduler?: string };
  /** Static credentials for local servers; on AWS the default provider chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Counts every request by `Service.Operation` (the bench's per-job request figures). */
  requestCounter?: RequestCounter;
  /**
   * Fault injection for tests: an error returned here is thrown instead of sending
   * `Service.Operation`, inside the SDK's retry loop (a throttle or a 5xx is retried).
   */
  injectFault?: FaultInjector;
}

/** Given `Service.Operation` and the command's input (the same object on each retry). */
export type FaultInjector = (operation: string, input: object) => Error | undefined;

export interface AwsClients {
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
  scheduler: SchedulerClient;
}

/** Counts SDK requests by operation, with a middleware on every client it is given to. */
export class RequestCounter {
  readonly counts = new Map<string, number>();

  record(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  reset(): void {
    this.counts.clear();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }
}

/** The same SDK clients for AWS and for the local stack; only the endpoints differ. */
export function createClients(config: ClientConfig): AwsClients {
  const common = {
    region: config.region,
    ...(config.credentials ? { credentials: config.credentials } : {}),
  };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: config.endpoints?.dynamodb });
  // fauxqs only knows the queue URLs it returned: send to the endpoint, not the URL's host.
  const sqs = new SQSClient({
    ...common,
    endpoint: config.endpoints?.sqs,
    useQueueUrlAsEndpoint: false,
  });
  const scheduler = new SchedulerClient({ ...common, endpoint: config.endpoints?.scheduler });
  for (const [service, client] of [
    ["DynamoDB", dynamodb],
    ["SQS", sqs],
    ["Scheduler", scheduler],
  ] as const) {
    observeRequests(client.middlewareStack as unknown as MiddlewareStackLike, service, config);
    nameUnreachableEndpoints(
      client.middlewareStack as unknown as Parameters<typeof nameUnreachableEndpoints>[0],
      service,
    );
  }
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { dynamodb, documents, sqs, scheduler };
}

/** The part of a client's middleware stack used here (the three clients' stacks differ only in types). */
interface MiddlewareStackLike {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: "initialize" | "finalizeRequest"; name: string; priority?: "low" },
  ): void;
}

/**
 * Counts each call once (before the SDK's retries), and injects faults inside the retry loop,
 * so an injected throttle or 5xx is retried by the SDK exactly as a real one would be.
 */
function observeRequests(stack: MiddlewareStackLike, service: string, config: ClientConfig): void {
  const { requestCounter: counter, injectFault: inject } = config;
  if (counter) {
    stack.add(
      (next, context) => (args) => {
        counter.record(`${service}.${operationName(context.commandName)}`);
        return next(args);
      },
      { step: "initialize", name: "countRequests" },
    );
  }
  if (inject) {
    stack.add(
      (next, context) => (args) => {
        const fault = inject(
          `${service}.${operationName(context.commandName)}`,
          (args as { input: object }).input,
        );
        if (fault) return Promise.reject(fault);
        return next(args);
      },
      { step: "finalizeRequest", name: "injectFaults", priority: "low" },
    );
  }
}

function operationName(commandName: string | undefined): string {
  return (commandName ?? "Unknown").replace(/Command$/, "");
}
