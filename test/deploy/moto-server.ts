import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const WATCHDOG = fileURLToPath(new URL("../../lib/local/watchdog.mjs", import.meta.url));

/** Where moto's server comes from, for the one line a skipped run prints. */
const INSTALL_HINT = "pip install 'moto[server]'";

/** The variable `.ci/run` sets: there a missing `moto_server` fails the run instead of skipping. */
export const REQUIRE_MOTO = "BGJOBS_REQUIRE_MOTO";

/** The account and region moto answers for: moto's default account, any region. */
export const MOTO_ACCOUNT = "123456789012";
export const MOTO_REGION = "us-east-1";

/** moto_server did not answer, or stopped before it did. */
export class MotoServerError extends Error {
  override name = "MotoServerError";
}

/** Is `moto_server` on PATH (pyenv's shim counts only when it resolves to an installed moto)? */
export function motoServerAvailable(): boolean {
  const found = spawnSync("moto_server", ["--help"], { stdio: "ignore", timeout: 20_000 });
  return found.status === 0;
}

/**
 * Whether the moto tests run here: `moto_server` on PATH. Without it they skip with one line
 * naming `moto[server]`, unless `BGJOBS_REQUIRE_MOTO` is set (CI), where this throws.
 *
 * @example describe.skipIf(!motoTestsRun("deploy test"))("cdk deploy on moto", ...)
 */
export function motoTestsRun(what: string): boolean {
  if (motoServerAvailable()) return true;
  const missing = `no moto_server on PATH (${INSTALL_HINT})`;
  if (process.env[REQUIRE_MOTO]) throw new MotoServerError(`${what}: ${missing}`);
  console.warn(`${what} skipped: ${missing}`);
  return false;
}

/** A moto server this process started on 127.0.0.1. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`: what the SDK clients and `AWS_ENDPOINT_URL` get. */
  endpoint: string;
  /**
   * `http://localhost:PORT`: moto's CloudFormation reads path-style S3 URLs (the template and
   * the functions' code) only from a "localhost" host (`AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION`).
   */
  localhostEndpoint: string;
  port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** A port free on 127.0.0.1 at the moment of asking. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string")
    throw new MotoServerError("no free port on 127.0.0.1");
  return address.port;
}

/**
 * Starts `moto_server` on 127.0.0.1 and a free port and resolves once it answers HTTP.
 * The caller stops it (`stop()`); a watchdog kills it if this process dies first; a server that does not answer within `readyMs` is killed and
 * the error carries what it printed.
 *
 * @example const moto = await startMotoServer(); ...; await moto.stop();
 */
export async function startMotoServer(readyMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  // Under the local stack's watchdog: moto dies with this process, even on SIGKILL.
  const child = spawn(
    process.execPath,
    [WATCHDOG, String(process.pid), "moto_server", "-H", "127.0.0.1", "-p", String(port)],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let printed = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    printed = (printed + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new MotoServerError(`moto_server exited (${child.exitCode}): ${printed}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      await response.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopChild(child, exited);
        throw new MotoServerError(`moto_server did not answer on ${endpoint}: ${printed}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    endpoint,
    localhostEndpoint: `http://localhost:${port}`,
    port,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const killed = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(killed);
}
