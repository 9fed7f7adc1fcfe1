/**
 * jongodb: an in-memory MongoDB wire-protocol server shipped as a native binary in an npm
 * package (linux x64 only), which the migrate tests and `npm run bench:migrate` talk to through
 * the real `mongodb` driver. No MongoDB server may be downloaded here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** The jongodb binary, or `undefined` where it cannot run (not linux x64, not installed). */
export function jongodbBinary(): string | undefined {
  try {
    const pkg = require.resolve("@jongodb/memory-server-bin-linux-x64-gnu/package.json");
    const binary = join(dirname(pkg), "bin", "jongodb");
    return process.platform === "linux" && process.arch === "x64" && existsSync(binary)
      ? binary
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts jongodb on 127.0.0.1 and a free port; resolves its `mongodb://host:port` once it
 * prints it. `stop()` kills it.
 *
 * @example const mongo = await startJongodb(binary); ... mongo.stop();
 */
export async function startJongodb(binary: string): Promise<{ url: string; stop(): void }> {
  const server: ChildProcess = spawn(binary, ["--host=127.0.0.1", "--port=0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const uri = /JONGODB_URI=(mongodb:\/\/[^/\s]+)/.exec(out)?.[1];
      if (uri) resolve(uri);
    });
    server.on("exit", (code) => reject(new Error(`jongodb exited with ${code}: ${out}`)));
  });
  return { url, stop: () => server.kill() };
}
