import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../lib/app.ts";
import { LOCAL_ONLY_MODULES } from "../../lib/backend/local-only.ts";
import type { Job } from "../../lib/jobs/job.ts";
import { backendFromEnvironment } from "../../lib/reaction/environment.ts";
import { memoryBackendOf } from "../../lib/reaction/index.ts";
import { startReactionApi } from "../support/reaction-api.ts";

// The memory backend (backgroundJobs.memory, JOBS_BACKEND=memory): a team's tests run the
// swap-in in process, on the in-memory ports, with no server and no Java.
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

/** Runs `fn` with these variables set (undefined: unset), then puts process.env back in place. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>) {
  const before = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const assign = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  assign(vars);
  try {
    return await fn();
  } finally {
    assign(before);
  }
}

/** A deferred: a worker waits on it until the test releases it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("an app on the memory backend with a manual clock", () => {
  let app: App;
  const runs = new Map<string, number>();
  const starts: string[] = [];
  const held = new Map<string, ReturnType<typeof gate>>();

  beforeAll(async () => {
    app = createApp({ backgroundJobs: { memory: { clock: "manual", startAt: T0 } } });
    app.registerPlugin({
      name: "test",
      functionsByType: {
        startup: [
          async ({ backgroundJobs }) => {
            await backgroundJobs.addWorker({
              type: "count",
              async worker(job) {
                const key = String(job.data.key);
                runs.set(key, (runs.get(key) ?? 0) + 1);
                if (job.data.failFirst && runs.get(key) === 1)
                  await job.fail("first attempt fails");
                else await job.done("ok");
              },
            });
            await backgroundJobs.addWorker({
              type: "one-at-a-time",
              concurrency: 1,
              async worker(job) {
                const key = String(job.data.key);
                starts.push(key);
                await held.get(key)?.opened;
                await job.done();
              },
            });
          },
        ],
      },
    });
    await app.start();
  });
  afterAll(async () => {
    for (const { open } of held.values()) open();
    await app?.stop();
  });

  const status = async (job: Job) =>
    (await app.context.backgroundJobs.getJob(job._id))?._doc.status;

  it("runs a job in process: idle() resolves once it is done", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({ type: "count", data: { key: "a" } });
    await app.memory.idle();
    expect(await status(job)).toBe("completed");
    expect(runs.get("a")).toBe(1);
  });

  it("waits out a retry on the clock, and only there", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({
      type: "count",
      data: { key: "b", failFirst: true },
      retry: { retries: 1, wait: 30_000 },
    });
    await app.memory.idle();
    expect(await status(job)).toBe("waiting");
    await app.memory.clock.advance(29_000);
    await app.memory.idle();
    expect(runs.get("b")).toBe(1);
    await app.memory.clock.advance(1_000);
    await app.memory.idle();
    expect(await status(job)).toBe("completed");
    expect(runs.get("b")).toBe(2);
  });

  it("cancels a job waiting for its retry: it never runs again", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({
      type: "count",
      data: { key: "c", failFirst: true },
      retry: { retries: 1, wait: 30_000 },
    });
    await app.memory.idle();
    await app.context.backgroundJobs.cancelJobs({
      type: "count",
      data: { key: "c", failFirst: true },
    });
    await app.memory.clock.advance(60_000);
    await app.memory.idle();
    expect(await status(job)).toBe("cancelled");
    expect(runs.get("c")).toBe(1);
  });

  it("fires a repeating job's occurrences as the clock passes each one", async () => {
    const template = await app.context.backgroundJobs.scheduleJob({
      type: "count",
      data: { key: "d" },
      schedule: "every 1 minute",
    });
    await app.memory.clock.advance(3 * 60_000);
    await app.memory.idle();
    expect(runs.get("d")).toBe(3);
    await app.context.backgroundJobs.cancelJobs({ type: "count", data: { key: "d" } });
    await app.memory.clock.advance(2 * 60_000);
    await app.memory.idle();
    expect(runs.get("d")).toBe(3);
    expect(await status(template)).toBe("cancelled");
  });

  it("keeps a type's concurrency and starts its jobs strictly by priority", async () => {
    for (const key of ["first", "low", "normal", "critical"]) held.set(key, gate());
    const { backgroundJobs } = app.context;
    await backgroundJobs.scheduleJob({ type: "one-at-a-time", data: { key: "first" } });
    await app.memory.clock.advance(0);
    expect(starts).toEqual(["first"]);
    await backgroundJobs.scheduleJob({ type: "one-at-a-time", data: { key: "low" }, priority: 10 });
    await backgroundJobs.scheduleJob({ type: "one-at-a-time", data: { key: "normal" } });
    await backgroundJobs.scheduleJob({
      type: "one-at-a-time",
      data: { key: "critical" },
      priority: -10,
    });
    await app.memory.clock.advance(0);
    expect(starts).toEqual(["first"]);
    for (const key of ["first", "critical", "normal", "low"]) held.get(key)?.open();
    await app.memory.idle();
    expect(starts).toEqual(["first", "critical", "normal", "low"]);
  });

  it("has no SQS queues to take events or redrive from, and says so", async () => {
    await expect(app.handleSqsEvent({ Records: [] })).rejects.toThrow(/backgroundJobs\.memory/);
    await expect(app.redriveDeadLetters()).rejects.toThrow(/backgroundJobs\.memory/);
  });

  it("keeps its jobs in this app only: another app's memory does not know them", async () => {
    const job = await app.context.backgroundJobs.scheduleJob({ type: "count", data: { key: "e" } });
    const other = createApp({ backgroundJobs: { memory: { quiet: true } } });
    await other.start();
    try {
      expect(await other.context.backgroundJobs.getJob(job._id)).toBeNull();
    } finally {
      await other.stop();
    }
  });
});

describe("JOBS_BACKEND=memory", () => {
  it("runs createApp() with no options in memory", async () => {
    await withEnv({ JOBS_BACKEND: "memory" }, async () => {
      const app = createApp();
      app.registerPlugin({
        name: "test",
        functionsByType: {
          startup: [
            ({ backgroundJobs }) =>
              backgroundJobs.addWorker({ type: "hello", worker: (job) => job.done("hi") }),
          ],
        },
      });
      await app.start();
      try {
        const job = await app.context.backgroundJobs.scheduleJob({ type: "hello", data: {} });
        await app.memory.idle();
        expect((await app.context.backgroundJobs.getJob(job._id))?._doc.result).toEqual({
          value: "hi",
        });
      } finally {
        await app.stop();
      }
    });
  });

  it("is the Reaction plugin's backend when set", () => {
    expect(backendFromEnvironment({ JOBS_BACKEND: "memory" })).toEqual({ memory: {} });
  });

  it("is refused where it would be silently wrong, naming the variable", async () => {
    const start = (vars: Record<string, string>, options?: Parameters<typeof createApp>[0]) =>
      withEnv(vars, () => createApp(options).start());
    await expect(start({ JOBS_BACKEND: "memory", JOBS_TABLE_NAME: "prod-jobs" })).rejects.toThrow(
      /JOBS_TABLE_NAME: is set/,
    );
    await expect(
      start({ JOBS_BACKEND: "memory", JOBS_QUEUE_URL_NORMAL: "https://sqs/normal" }),
    ).rejects.toThrow(/JOBS_QUEUE_URL_NORMAL: is set/);
    await expect(
      start({ AWS_LAMBDA_FUNCTION_NAME: "dispatcher" }, { backgroundJobs: { memory: {} } }),
    ).rejects.toThrow(/AWS_LAMBDA_FUNCTION_NAME: is set/);
    await expect(start({ JOBS_BACKEND: "in-memory" })).rejects.toThrow(/JOBS_BACKEND: must be/);
    expect(() =>
      backendFromEnvironment({ JOBS_BACKEND: "memory", JOBS_TABLE_NAME: "prod-jobs" }),
    ).toThrow(/JOBS_TABLE_NAME: is set/);
    await expect(createApp({ backgroundJobs: { memory: {}, local: {} } }).start()).rejects.toThrow(
      /backgroundJobs: takes one backend/,
    );
    await expect(
      createApp({ backgroundJobs: { memory: { clock: "fake" as "manual" } } }).start(),
    ).rejects.toThrow(/backgroundJobs\.memory\.clock/);
  });
});

describe("what the memory backend loads", () => {
  const lib = (path: string) => fileURLToPath(new URL(`../../lib/${path}`, import.meta.url));
  const inputs = async (entry: string, external: string[]) => {
    const { metafile } = await build({
      entryPoints: [lib(entry)],
      bundle: true,
      write: false,
      platform: "node",
      format: "esm",
      metafile: true,
      logLevel: "silent",
      external,
    });
    const imported = Object.values(metafile.outputs).flatMap((output) =>
      output.imports.map((i) => i.path),
    );
    return { files: Object.keys(metafile.inputs), imported };
  };

  it("is none of the local stack's servers: no DynamoDB Local, no fauxqs, no Scheduler server, no poller", async () => {
    const { files, imported } = await inputs("backend/memory.ts", ["@aws-sdk/*", "fauxqs"]);
    expect(files).toContain("lib/memory/consumer.ts");
    const servers = files.filter((file) =>
      /lib\/local\/(stack|dynamodb-local|sqs-server|poller|scheduler\/server)\.ts$/.test(file),
    );
    expect(servers).toEqual([]);
    expect(imported.filter((path) => path === "fauxqs" || path.startsWith("@aws-sdk/"))).toEqual(
      [],
    );
  });

  it("is left out of what the Lambda functions bundle, as the construct bundles them", async () => {
    const { files, imported } = await inputs("index.ts", [
      "@aws-sdk/*",
      "fauxqs",
      ...LOCAL_ONLY_MODULES,
    ]);
    expect(files.filter((file) => file.startsWith("lib/memory/"))).toEqual([]);
    expect(imported).toContain("./backend/memory.ts");
  });
});

describe("a Reaction API on the memory backend with a manual clock", () => {
  it("runs the sitemap plugin's daily job when the clock reaches midnight", async () => {
    const reaction = await startReactionApi({
      shops: ["shop1"],
      jobQueue: {
        backgroundJobs: {
          memory: { clock: "manual", quiet: true, startAt: Date.UTC(2026, 0, 5, 23, 59) },
        },
      },
    });
    try {
      const { Sitemaps } = reaction.api.collections;
      const memory = await memoryBackendOf(reaction.api);
      await memory.idle();
      expect(await Sitemaps?.find({ shopId: "shop1" }).toArray()).toEqual([]);
      await memory.clock.advance(60_000);
      await memory.idle();
      const handles = (await Sitemaps?.find({ shopId: "shop1" }).toArray())?.map((s) =>
        String(s.handle),
      );
      expect(handles?.sort()).toEqual(["sitemap-pages-1.xml", "sitemap.xml"]);
    } finally {
      await reaction.stop();
    }
  });
});
