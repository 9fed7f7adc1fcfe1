import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { tempDataDir, waitUntil } from "../support/local-app.ts";

/**
 * `npm start` prints the dashboard's URL and writes `<dataDir>/stack.json` for `bgjobs`;
 * Ctrl-C stops the dashboard with everything else and removes the file.
 */
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

it("prints the dashboard URL, writes stack.json while it runs, and removes it on Ctrl-C", async () => {
  const data = await tempDataDir();
  try {
    const root = join(import.meta.dirname, "../..");
    child = spawn(process.execPath, ["--import", "tsx", "examples/start.ts"], {
      cwd: root,
      env: { ...process.env, JOBS_DATA_DIR: data.dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    await waitUntil(() => /Dashboard: (\S+)/.test(output), 60_000, "the dashboard URL");
    const url = (/Dashboard: (\S+)/.exec(output) as RegExpExecArray)[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
    const file = join(data.dir, "stack.json");
    const info = JSON.parse(readFileSync(file, "utf8"));
    expect(info.pid).toBe(child.pid);
    expect(info.cleanup).toEqual({
      "bgjobs/probe": 1, // the built-in probe's (lib/probe-plugin.ts)
      "saveImage/local": 7,
      "sitemaps/generate": 3,
    });
    const login = await fetch(url, { redirect: "manual" });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const config = await fetch(new URL("/api/config", url), { headers: { cookie } });
    expect(await config.json()).toMatchObject({
      readOnly: false,
      title: "local stack (npm start)",
    });

    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.kill("SIGINT");
    await waitUntil(
      () => output.includes("stopped: every server and timer ended."),
      30_000,
      "a clean stop",
    );
    await exited;
    expect(existsSync(file)).toBe(false);
    await expect(fetch(url)).rejects.toThrow();
  } finally {
    await data.remove();
  }
});
