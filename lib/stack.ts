/**
 * The one description of a deployment: where its table, lanes and schedules are. The runtime
 * builds its adapters from it (lib/backend/), `bgjobs` connects with it (lib/ops/connect.ts),
 * the environment the CDK construct sets is read into it (lib/environment.ts), and a running
 * local stack writes it to `<dataDir>/stack.json` (lib/stack-file.ts).
 */
import type { LocalClock } from "./local/clock.ts";
import type { JobLane, LaneUrls } from "./resources.ts";

/** The servers the AWS clients talk to when they are not AWS's own (the local stack's). */
export interface ServiceEndpoints {
  dynamodb: string;
  sqs: string;
  scheduler: string;
  /** S3 (the payload bucket): fauxqs serves it locally, on the SQS endpoint. */
  s3: string;
}

/** A deployment's resources, as names and URLs: the same fields on AWS and locally. */
export interface StackResources {
  /** Default: `AWS_REGION` (see lib/environment.ts), else `us-east-1`. */
  region?: string;
  /** Only to point the same code at other servers (the local stack, tests); AWS needs none. */
  endpoints?: Partial<ServiceEndpoints>;
  tableName: string;
  /** Each lane's queue; the server lane's when the deployment has server types. */
  queueUrls: LaneUrls;
  /** The lanes' dead-letter queues (redrive, `bgjobs dlq`). */
  deadLetterQueueUrls?: LaneUrls;
  /** EventBridge Scheduler group and the role it sends to the lanes with (repeating jobs, long waits). */
  scheduleGroup?: string;
  schedulerRoleArn?: string;
  /** The S3 bucket for `data` too large for a record (a claim check); without it such data is refused. */
  payloadBucket?: string;
}

/**
 * A running local stack's resources, every field known: where the servers are, so that any
 * AWS client can inspect what the system wrote (`<dataDir>/stack.json` holds these).
 */
export interface LocalStackResources extends StackResources {
  region: string;
  endpoints: ServiceEndpoints;
  /** Every lane's queue: the local stack always has the server lane. */
  queueUrls: Record<JobLane, string>;
  deadLetterQueueUrls: Record<JobLane, string>;
  scheduleGroup: string;
  schedulerRoleArn: string;
  payloadBucket: string;
}

/** What `app.local` tells: the local stack's resources, and the clock its time runs on. */
export interface LocalStackInfo extends LocalStackResources {
  /** Real time, or with `local: { clock: "manual" }` time a test moves (lib/local/clock.ts). */
  clock: LocalClock;
}

/** The local servers take any key; these are the ones the local stack's clients send. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** The region when neither the resources nor the environment name one. */
export const DEFAULT_REGION = "us-east-1";
