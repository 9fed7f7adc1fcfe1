import { describe, expect, it } from "vitest";
import { queueArnOf } from "../../lib/backend/server-lane.ts";
import { resourcesFromEnvironment, serverTypesFromEnvironment } from "../../lib/environment.ts";
import { misplaced } from "../../lib/jobs/misplaced.ts";
import { laneOf } from "../../lib/jobs/placement.ts";

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
