/**
 * Reaction Commerce's `context.backgroundJobs`, on DynamoDB, SQS and Lambda.
 *
 * @example
 * import { createApp } from "reaction-background-jobs-aws";
 * const app = createApp({ backgroundJobs: { local: {} } });
 * app.registerPlugin({ name: "demo", functionsByType: { startup: [async ({ backgroundJobs }) => {
 *   await backgroundJobs.addWorker({ type: "hello", async worker(job) { await job.done("hi"); } });
 *   await backgroundJobs.scheduleJob({ type: "hello", data: {} });
 * }] } });
 * await app.start();
 */
export {
  App,
  type AppContext,
  type AppOptions,
  type AwsBackendOptions,
  awsOptionsFromEnvironment,
  createApp,
  type LocalBackendOptions,
  type MemoryBackendOptions,
  type Plugin,
} from "./app.ts";
export { RequestCounter } from "./aws/clients.ts";
export { type SqsBatchHandler, sqsBatchHandler } from "./aws/sqs-batch.ts";
export type { MemoryBackendInfo } from "./backend.ts";
export { JobStateError, JobValidationError, LocalStackError } from "./errors.ts";
export type { BackgroundJobs, WorkerHandle } from "./jobs/api.ts";
export type { RunningJob, WorkerFunction } from "./jobs/deps.ts";
export { Job } from "./jobs/job.ts";
export { laneFor, PRIORITIES } from "./jobs/priority.ts";
export type { ReconcileOptions, ReconcileReport } from "./jobs/reconcile.ts";
export { RunEndedError } from "./jobs/run/begin.ts";
export type { TenantRule } from "./jobs/tenant.ts";
export type { JobDoc, JobStatus } from "./jobs/types.ts";
export type { CleanupRule, ScheduleJobOptions } from "./jobs/validate.ts";
export { LANES, type LaneName } from "./resources.ts";
export type { LocalStackInfo, StackResources } from "./stack.ts";
