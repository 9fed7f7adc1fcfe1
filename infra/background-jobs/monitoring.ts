import {
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  Duration,
  type aws_lambda as lambda,
  type aws_sns as sns,
  type aws_sqs as sqs,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import { countMetrics, metricDimensions, metricNames, SERVICE_NAME } from "../../lib/names.ts";
import type { JobLane } from "../../lib/resources.ts";
import { type JobResources, type LaneQueuePair, laneQueues, laneTitle } from "./resources.ts";

/** What the alarms and the dashboard watch, and where alarms go. */
export interface MonitoringSettings {
  /** CloudWatch namespace of the job metrics. */
  metricsNamespace: string;
  /** Alarm when a lane's oldest message has waited this long (the server lane's when it exists). */
  maxMessageAge: Record<JobLane, Duration>;
  /** Alarms notify this topic when given. */
  alarmTopic?: sns.ITopic;
}

/**
 * The alarms: each DLQ not empty, each lane's oldest message over its age, dispatcher errors
 * and throttles, and any job ending failed; each notifies the alarm topic when there is one.
 *
 * @example jobs.alarms.push(...addAlarms(this, resources, dispatcher, settings));
 */
export function addAlarms(
  scope: Construct,
  resources: JobResources,
  dispatcher: lambda.Function,
  settings: MonitoringSettings,
): cloudwatch.Alarm[] {
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
  ) => {
    const created = new cloudwatch.Alarm(scope, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    if (settings.alarmTopic)
      created.addAlarmAction(new cloudwatchActions.SnsAction(settings.alarmTopic));
    alarms.push(created);
  };
  for (const { lane, queue, deadLetterQueue } of laneQueues(resources)) {
    alarm(
      `${laneTitle(lane)}DeadLettersNotEmpty`,
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      1,
      `Messages in the ${lane} lane's DLQ: poison messages or a dispatcher that keeps crashing. Inspect, then redrive.`,
    );
    const maxAge = settings.maxMessageAge[lane];
    alarm(
      `${laneTitle(lane)}OldestMessage`,
      queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      maxAge.toSeconds(),
      `A ${lane} job has waited over ${maxAge.toHumanString()} to start: the lane is backed up.`,
    );
  }
  alarm(
    "DispatcherErrors",
    dispatcher.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
    1,
    "The dispatcher Lambda failed (a whole batch comes back).",
  );
  alarm(
    "DispatcherThrottles",
    dispatcher.metricThrottles({ period: Duration.minutes(5), statistic: "Sum" }),
    1,
    "The dispatcher Lambda was throttled.",
  );
  alarm(
    metricNames.jobsFailed,
    jobMetric(settings.metricsNamespace, metricNames.jobsFailed, "Sum", Duration.minutes(5)),
    1,
    "Jobs ended failed (retries used up, or a fatal failure).",
  );
  return alarms;
}

/**
 * The dashboard: jobs by outcome and by type, start delay and duration percentiles, and the
 * depth of each lane and each DLQ.
 *
 * @example const dashboard = addDashboard(this, resources, namespace);
 */
export function addDashboard(
  scope: Construct,
  resources: JobResources,
  namespace: string,
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, "Dashboard", {});
  const period = Duration.minutes(5);
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Jobs by outcome",
      left: countMetrics.map((name) => jobMetric(namespace, name, "Sum", period, name)),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: "Jobs by type (completed, failed)",
      left: [metricNames.jobsCompleted, metricNames.jobsFailed].map(
        (name) =>
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${namespace},${metricDimensions.service},${metricDimensions.type}} MetricName="${name}"', 'Sum', 300)`,
            label: name,
            period,
          }),
      ),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Start delay (ms after due)",
      left: ["p50", "p95", "Maximum"].map((stat) =>
        jobMetric(namespace, metricNames.jobStartDelay, stat, period, stat),
      ),
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: "Duration (ms)",
      left: ["p50", "p95", "Maximum"].map((stat) =>
        jobMetric(namespace, metricNames.jobDuration, stat, period, stat),
      ),
      width: 12,
    }),
  );
  const depth = (title: string, queueOf: (pair: LaneQueuePair) => sqs.Queue) =>
    new cloudwatch.GraphWidget({
      title,
      left: laneQueues(resources).map((pair) =>
        queueOf(pair).metricApproximateNumberOfMessagesVisible({
          period,
          statistic: "Maximum",
          label: pair.lane,
        }),
      ),
      width: 12,
    });
  dashboard.addWidgets(
    depth("Queue depth per lane", (pair) => pair.queue),
    depth("DLQ depth per lane", (pair) => pair.deadLetterQueue),
  );
  return dashboard;
}

/** A job metric over every type (the `{service}` dimension set); labelled for graphs. */
function jobMetric(
  namespace: string,
  name: string,
  statistic: string,
  period: Duration,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName: name,
    dimensionsMap: { [metricDimensions.service]: SERVICE_NAME },
    statistic,
    period,
    ...(label ? { label } : {}),
  });
}
