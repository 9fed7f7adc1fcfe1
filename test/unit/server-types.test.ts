import { describe, expect, it } from "vitest";
import { queueArnOf } from "../../lib/backend/server-lane.ts";
import { resourcesFromEnvironment, serverTypesFromEnvironment } from "../../lib/environment.ts";
import { createJobSystem } from "../../lib/jobs/api.ts";
import { misplaced } from "../../lib/jobs/misplaced.ts";
import { laneOf } from "../../lib/jobs/placement.ts";
import { silentLogger } from "../../lib/log.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { FakeClock } from "../support/memory/clock.ts";

const deployment = {
  JOBS_TABLE_NAME: "jobs",
  JOBS_QUEUE_URL_CRITICAL: "https://q/c",
  JOBS_QUEUE_URL_NORMAL: "https://q/n",
  JOBS_QUEUE_URL_LOW: "https://q/l",
};

describe("JOBS_SERVER_TYPES and the server lane's variables", () => {
  it("reads the server types, unset as undefined and set-but-empty as none", () => {
    expect(serverTypesFromEnvironment({})).toBeUndefined();
    expect(serverTypesFromEnvironment({ JOBS_SERVER_TYPES: "" })).toEqual([]);
    expect(
      serverTypesFromEnvironment({ JOBS_SERVER_TYPES: "saveImage/local, saveImage/remote" }),
    ).toEqual(["saveImage/local", "saveImage/remote"]);
  });

  it("refuses an empty name or one given twice, naming the variable and the name", () => {
    expect(() => serverTypesFromEnvironment({ JOBS_SERVER_TYPES: "a,,b" })).toThrow(
      /JOBS_SERVER_TYPES \(name 2\): is empty/,
    );
    expect(() => serverTypesFromEnvironment({ JOBS_SERVER_TYPES: "a," })).toThrow(/name 2/);
    expect(() => serverTypesFromEnvironment({ JOBS_SERVER_TYPES: "a, a" })).toThrow(
      /"a" is given twice/,
    );
  });

  it("adds the server lane's URLs to a deployment's resources only when they are set", () => {
    expect(resourcesFromEnvironment(deployment).queueUrls).not.toHaveProperty("server");
    const withServer = resourcesFromEnvironment({
      ...deployment,
      JOBS_QUEUE_URL_SERVER: "https://q/s",
    });
    expect(withServer.queueUrls.server).toBe("https://q/s");
  });
});

describe("placement", () => {
  const placement = { serverTypes: new Set(["saveImage/local"]) };

  it("puts a server type on the server lane whatever its priority, others by priority", () => {
    expect(laneOf(placement, { type: "saveImage/local", priority: -15 })).toBe("server");
    expect(laneOf(placement, { type: "saveImage/local", priority: 10 })).toBe("server");
    expect(laneOf(placement, { type: "sendEmail", priority: -15 })).toBe("critical");
    expect(laneOf({}, { type: "saveImage/local", priority: 0 })).toBe("normal");
  });

  it("calls a message misplaced on a lane its type does not run on, never when the lane is unknown", () => {
    expect(misplaced(placement, "normal", "saveImage/local")).toBe(true);
    expect(misplaced(placement, "server", "sendEmail")).toBe(true);
    expect(misplaced(placement, "server", "saveImage/local")).toBe(false);
    expect(misplaced(placement, "low", "sendEmail")).toBe(false);
    expect(misplaced(placement, undefined, "saveImage/local")).toBe(false);
  });

  it("names the server lane's queue by ARN as an SQS event would, so the dispatcher knows the lane", () => {
    expect(
      queueArnOf("https://sqs.eu-west-1.amazonaws.com/123456789012/shop-server", "eu-west-1"),
    ).toBe("arn:aws:sqs:eu-west-1:123456789012:shop-server");
  });
});

describe("a server type's worker in Lambda", () => {
  it("registers past the function's time rule, which binds only the types that run there", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5));
    const { backgroundJobs } = createJobSystem({
      store: new MemoryJobStore(clock),
      lanes: new MemoryLanes(clock),
      clock,
      logger: silentLogger,
      cleanup: new Map(),
      serverTypes: new Set(["saveImage/local"]),
      settings: { functionTimeoutMs: 60_000 },
    });
    const worker = async () => {};
    // The files plugin's own workTimeout: 10 minutes, longer than this function's 60 s.
    await expect(
      backgroundJobs.addWorker({ type: "saveImage/local", workTimeout: 600_000, worker }),
    ).resolves.toMatchObject({ type: "saveImage/local" });
    await expect(
      backgroundJobs.addWorker({ type: "sendEmail", workTimeout: 600_000, worker }),
    ).rejects.toThrow(/workTimeout: 600000 ms for "sendEmail" is longer than a run can take/);
  });
});
