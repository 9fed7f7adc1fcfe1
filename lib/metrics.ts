/** The job metrics the lifecycle emits; the Powertools (CloudWatch EMF) sink is `lib/observability.ts`. */
export type JobCountMetric =
  | "JobsScheduled"
  | "JobsStarted"
  | "JobsCompleted"
  | "JobsFailed"
  | "JobsRetried"
  | "JobsCancelled"
  | "RepeatsSkipped"
  /** A repeating job's schedule later.js found no occurrence in: logged, recorded, resolved. */
  | "ScheduleRefused";
export type JobTimeMetric = "JobDuration" | "JobStartDelay";

/** Job metrics, with the job type as a dimension. */
export interface JobMetrics {
  count(name: JobCountMetric, type: string): void;
  time(name: JobTimeMetric, type: string, ms: number): void;
}

export const noMetrics: JobMetrics = { count() {}, time() {} };
