import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { JobLogger, LogFields } from "./log.ts";
import type { JobMetrics } from "./metrics.ts";
import { metricDimensions, SERVICE_NAME } from "./names.ts";

export { type JobMetrics, noMetrics } from "./metrics.ts";

/**
 * CloudWatch metrics through Powertools (Embedded Metric Format on stdout): each event is its
 * own EMF record, published under `{service, type}` and `{service}`.
 */
export function powertoolsMetrics(namespace: string, serviceName = SERVICE_NAME): JobMetrics {
  const metrics = new Metrics({ namespace, serviceName });
  const emit = (
    name: string,
    type: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
  ) => {
    const single = metrics.singleMetric();
    // Two dimension sets: per job type, and all types together (what the alarms watch).
    single.addDimensions({ [metricDimensions.type]: type });
    single.addDimensions({});
    single.addMetric(name, unit, value);
  };
  return {
    count: (name, type) => emit(name, type, MetricUnit.Count, 1),
    time: (name, type, ms) => emit(name, type, MetricUnit.Milliseconds, Math.max(0, ms)),
  };
}

/** Structured JSON logs through Powertools Logger; a job's `data` is never among the fields. */
export function powertoolsLogger(serviceName = SERVICE_NAME): JobLogger {
  const logger = new Logger({ serviceName });
  return {
    info: (message: string, fields: LogFields = {}) => logger.info(message, fields),
    warn: (message: string, fields: LogFields = {}) => logger.warn(message, fields),
    error: (message: string, fields: LogFields = {}) => logger.error(message, fields),
    debug: (message: string, fields: LogFields = {}) => logger.debug(message, fields),
  };
}
