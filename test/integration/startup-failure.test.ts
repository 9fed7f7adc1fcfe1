import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { createApp } from "../../lib/index.ts";
import { waitUntil } from "../support/local-app.ts";

function accepts(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("a start that fails", () => {
  it("rejects with the plugin's error and leaves no server running", async () => {
    const app = createApp({ backgroundJobs: { local: { quiet: true } } });
    let endpoints: string[] = [];
    app.registerPlugin({
      name: "broken",
      functionsByType: {
        startup: [
          ({ app: host }) => {
            endpoints = Object.values(host.local.endpoints);
            throw new Error("plugin startup failed");
          },
        ],
      },
    });
    await expect(app.start()).rejects.toThrow("plugin startup failed");
    expect(endpoints).toHaveLength(4); // DynamoDB, SQS, Scheduler, S3 (fauxqs's SQS port)
    await waitUntil(
      async () => !(await Promise.all(endpoints.map(accepts))).some(Boolean),
      10_000,
      "the servers to close",
    );
    expect(() => app.local).toThrow();
  });
});
