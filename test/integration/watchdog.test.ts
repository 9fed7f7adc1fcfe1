import { execFileSync, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { sleep, waitUntil } from "../support/local-app.ts";

function javaProcessesOnPort(port: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => /^\s*\d+ \S*java /.test(line) && line.includes(`-port ${port}`));
}

describe("the DynamoDB Local watchdog", () => {
  it("kills the JVM when the process that started the local stack is killed with SIGKILL", async () => {
    const script = `
      import { createApp } from "./lib/index.ts";
      const app = createApp({ backgroundJobs: { local: { quiet: true } } });
      await app.start();
      process.stdout.write(new URL(app.local.endpoints.dynamodb).port + "\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: process.cwd(),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      let port = "";
      child.stdout.on("data", (chunk: Buffer) => {
        port += chunk.toString();
      });
      await waitUntil(() => port.endsWith("\n"), 60_000, "the child's local stack");
      port = port.trim();
      expect(javaProcessesOnPort(port)).toHaveLength(1);
      child.kill("SIGKILL");
      await waitUntil(() => javaProcessesOnPort(port).length === 0, 15_000, "the JVM to exit");
      await sleep(100);
      expect(javaProcessesOnPort(port)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
