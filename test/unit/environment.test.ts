import { describe, expect, it } from "vitest";
import {
  actorFromEnvironment,
  dataDirFromEnvironment,
  functionTimeoutMsFromEnvironment,
  hasDeploymentEnvironment,
  inLambdaEnvironment,
  metricsNamespaceFromEnvironment,
  regionFromEnvironment,
  resourcesFromEnvironment,
} from "../../lib/environment.ts";

const deployment = {
  JOBS_TABLE_NAME: "jobs",
  JOBS_QUEUE_URL_CRITICAL: "https://q/c",
  JOBS_QUEUE_URL_NORMAL: "https://q/n",
  JOBS_QUEUE_URL_LOW: "https://q/l",
};

describe("the environment, read in lib/environment.ts", () => {
  it("names the local data folder JOBS_DATA_DIR, with DATA_DIR as its older name, else .data", () => {
    expect(dataDirFromEnvironment({})).toBe(".data");
    expect(dataDirFromEnvironment({ JOBS_DATA_DIR: "/a" })).toBe("/a");
    expect(dataDirFromEnvironment({ DATA_DIR: "/b" })).toBe("/b");
    expect(dataDirFromEnvironment({ JOBS_DATA_DIR: "/a", DATA_DIR: "/b" })).toBe("/a");
    // An empty variable is an unset one, as a shell's `JOBS_DATA_DIR= npm start` means.
    expect(dataDirFromEnvironment({ JOBS_DATA_DIR: "", DATA_DIR: "/b" })).toBe("/b");
  });

  it("reads the deployment's resources, with the region when the environment names one", () => {
    expect(hasDeploymentEnvironment({})).toBe(false);
    expect(hasDeploymentEnvironment(deployment)).toBe(true);
    expect(resourcesFromEnvironment({ ...deployment, AWS_REGION: "eu-west-1" })).toEqual({
      region: "eu-west-1",
      tableName: "jobs",
      queueUrls: { critical: "https://q/c", normal: "https://q/n", low: "https://q/l" },
    });
    // Dead-letter queues only when every lane's is named.
    expect(
      resourcesFromEnvironment({ ...deployment, JOBS_DLQ_URL_NORMAL: "https://d/n" }),
    ).not.toHaveProperty("deadLetterQueueUrls");
    expect(() => resourcesFromEnvironment({ JOBS_QUEUE_URL_LOW: "https://q/l" })).toThrow(
      /set JOBS_TABLE_NAME, JOBS_QUEUE_URL_CRITICAL, JOBS_QUEUE_URL_NORMAL \(the CDK construct does\)/,
    );
  });

  it("takes AWS_REGION, else AWS_DEFAULT_REGION", () => {
    expect(regionFromEnvironment({})).toBeUndefined();
    expect(regionFromEnvironment({ AWS_DEFAULT_REGION: "us-west-2" })).toBe("us-west-2");
    expect(
      regionFromEnvironment({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-west-2" }),
    ).toBe("eu-west-1");
  });

  it("reads what Lambda and the construct set: the function, its timeout, the metrics namespace", () => {
    expect(inLambdaEnvironment({})).toBe(false);
    expect(inLambdaEnvironment({ AWS_LAMBDA_FUNCTION_NAME: "dispatcher" })).toBe(true);
    expect(functionTimeoutMsFromEnvironment({ JOBS_FUNCTION_TIMEOUT_MS: "900000" })).toBe(900_000);
    for (const bad of [undefined, "", "0", "-1", "soon"])
      expect(functionTimeoutMsFromEnvironment({ JOBS_FUNCTION_TIMEOUT_MS: bad })).toBeUndefined();
    expect(metricsNamespaceFromEnvironment({})).toBe("BackgroundJobs");
    expect(metricsNamespaceFromEnvironment({ JOBS_METRICS_NAMESPACE: "Shop" })).toBe("Shop");
    expect(actorFromEnvironment({ BGJOBS_ACTOR: "ada" })).toBe("ada");
    expect(actorFromEnvironment({})).toBeUndefined();
  });
});
