import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import { awsOptionsFromEnvironment } from "../../lib/app.ts";
import {
  type CountMetricName,
  countMetrics,
  deployEnvNames,
  envNames,
  metricNames,
  SERVICE_NAME,
  type TimeMetricName,
  timeMetrics,
} from "../../lib/names.ts";
import type { JobMetrics } from "../../lib/observability.ts";
import { LANES } from "../../lib/resources.ts";

/** The CDK sources (the construct's folder included), concatenated. */
const infraDir = new URL("../../infra/", import.meta.url);
const infraFiles = readdirSync(infraDir, { recursive: true, encoding: "utf8" }).filter((file) =>
  file.endsWith(".ts"),
);
const infraSource = infraFiles
  .map((file) => readFileSync(new URL(file, infraDir), "utf8"))
  .join("\n");

describe("lib/names.ts", () => {
  it("names exactly the metrics the runtime emits", () => {
    expectTypeOf<CountMetricName>().toEqualTypeOf<Parameters<JobMetrics["count"]>[0]>();
    expectTypeOf<TimeMetricName>().toEqualTypeOf<Parameters<JobMetrics["time"]>[0]>();
    expect(new Set(Object.values(metricNames))).toEqual(new Set([...countMetrics, ...timeMetrics]));
  });

  it("spells the per-lane variables as the runtime reads them", () => {
    expect(LANES.map((lane) => envNames.queueUrl(lane))).toEqual([
      "JOBS_QUEUE_URL_CRITICAL",
      "JOBS_QUEUE_URL_NORMAL",
      "JOBS_QUEUE_URL_LOW",
    ]);
    expect(LANES.map((lane) => envNames.deadLetterQueueUrl(lane))).toEqual([
      "JOBS_DLQ_URL_CRITICAL",
      "JOBS_DLQ_URL_NORMAL",
      "JOBS_DLQ_URL_LOW",
    ]);
  });

  it("is where awsOptionsFromEnvironment reads the resource names", () => {
    const env = Object.fromEntries([
      [envNames.tableName, "table"],
      ...LANES.map((lane) => [envNames.queueUrl(lane), `queue-${lane}`]),
      ...LANES.map((lane) => [envNames.deadLetterQueueUrl(lane), `dlq-${lane}`]),
      [envNames.scheduleGroup, "group"],
      [envNames.schedulerRoleArn, "role"],
    ]);
    expect(awsOptionsFromEnvironment(env)).toEqual({
      tableName: "table",
      queueUrls: { critical: "queue-critical", normal: "queue-normal", low: "queue-low" },
      deadLetterQueueUrls: { critical: "dlq-critical", normal: "dlq-normal", low: "dlq-low" },
      scheduleGroup: "group",
      schedulerRoleArn: "role",
    });
  });

  it("is the only place infra/ gets those names from: no literal of them remains there", () => {
    const names = [
      ...Object.values(envNames).filter((name) => typeof name === "string"),
      ...Object.values(deployEnvNames),
      ...Object.values(metricNames),
      SERVICE_NAME,
    ];
    // The construct's files are read too, not only infra/'s top level.
    expect(infraFiles).toEqual(
      expect.arrayContaining([
        "app.ts",
        "background-jobs/construct.ts",
        "background-jobs/functions.ts",
      ]),
    );
    for (const name of names) {
      expect(infraSource, name).not.toMatch(new RegExp(`["'\`]${name}["'\`]`));
    }
    expect(infraSource).not.toMatch(/["'`]JOBS_(QUEUE|DLQ)_URL/);
  });
});
