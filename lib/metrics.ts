/** The job metrics the lifecycle emits; the Powertools (CloudWatch EMF) sink is `lib/observability.ts`. */
export type JobCountMetric =
  | "JobsScheduled"
  | "JobsStarted"
  | "JobsCompleted"
  | "JobsFailed"
  | "JobsRetried"
  | "JobsCancelled"
  | "RepeatsSkipped";
export type JobTimeMetric = "JobDuration" | "JobStartDelay";

/** Job metrics, with the job type as a dimension. */
export interface JobMetrics {
  count(name: JobCountMetric, type: string): void;
  time(name: JobTimeMetric, type: string, ms: number): void;
}

export const noMetrics: JobMetrics = { count() {}, time() {} };
