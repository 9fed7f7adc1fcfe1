import { describe, expect, it } from "vitest";
import { workersEnabledFromEnvironment } from "../../lib/environment.ts";
import { backendFromEnvironment } from "../../lib/reaction/environment.ts";

describe("the Reaction plugin's backend from the environment", () => {
  it("is the embedded local stack in JOBS_DATA_DIR (default .data) when JOBS_TABLE_NAME is not set", () => {
    expect(backendFromEnvironment({})).toEqual({ local: { dataDir: ".data" } });
    expect(backendFromEnvironment({ JOBS_DATA_DIR: "/var/jobs" })).toEqual({
      local: { dataDir: "/var/jobs" },
    });
    // DATA_DIR, the name `npm start` and `bgjobs` read first, still works; JOBS_DATA_DIR wins.
    expect(backendFromEnvironment({ DATA_DIR: "/var/old" })).toEqual({
      local: { dataDir: "/var/old" },
    });
    expect(backendFromEnvironment({ JOBS_DATA_DIR: "/var/jobs", DATA_DIR: "/var/old" })).toEqual({
      local: { dataDir: "/var/jobs" },
    });
  });

  it("is the deployment's when JOBS_TABLE_NAME is set, and says which variables are missing", () => {
    const env = {
      JOBS_TABLE_NAME: "jobs",
      JOBS_QUEUE_URL_CRITICAL: "https://q/c",
      JOBS_QUEUE_URL_NORMAL: "https://q/n",
      JOBS_QUEUE_URL_LOW: "https://q/l",
      JOBS_SCHEDULE_GROUP: "group",
      JOBS_SCHEDULER_ROLE_ARN: "arn:aws:iam::1:role/r",
    };
    expect(backendFromEnvironment(env)).toEqual({
      aws: {
        tableName: "jobs",
        queueUrls: { critical: "https://q/c", normal: "https://q/n", low: "https://q/l" },
        scheduleGroup: "group",
        schedulerRoleArn: "arn:aws:iam::1:role/r",
      },
    });
    expect(() => backendFromEnvironment({ JOBS_TABLE_NAME: "jobs" })).toThrow(
      /set JOBS_QUEUE_URL_CRITICAL, JOBS_QUEUE_URL_NORMAL, JOBS_QUEUE_URL_LOW/,
    );
  });
});

describe("REACTION_WORKERS_ENABLED", () => {
  it("reads as Reaction's envalid bool: true unless it says false", () => {
    expect(workersEnabledFromEnvironment({})).toBe(true);
    for (const yes of ["true", "1", "yes", "on", "TRUE"])
      expect(workersEnabledFromEnvironment({ REACTION_WORKERS_ENABLED: yes })).toBe(true);
    for (const no of ["false", "0", "no", "off", "False"])
      expect(workersEnabledFromEnvironment({ REACTION_WORKERS_ENABLED: no })).toBe(false);
  });
});
