import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The package as a Reaction team gets it: `npm pack`'s tarball, installed into a scratch
// Reaction API whose plugins.json lists it in place of @reactioncommerce/api-plugin-job-queue,
// run by plain Node (no tsx, no TypeScript) with Reaction's real core, email and sitemap
// plugins. The scratch app's other dependencies are this checkout's node_modules, linked
// (tests must not reach the network); hence --preserve-symlinks, so that a linked package
// (api-core importing the plugins named in plugins.json) resolves from the app's node_modules
// as an installed one would.
const run = promisify(execFile);
const repo = realpathSync(new URL("../..", import.meta.url));
const PACKAGE = "reaction-background-jobs-aws";
let scratch: string;
let app: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "reaction-pack-"));
  app = join(scratch, "app");
  const { stdout } = await run("npm", ["pack", "--pack-destination", scratch], {
    cwd: repo,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  const tarball = join(scratch, stdout.trim().split("\n").at(-1) as string);
  const modules = join(app, "node_modules");
  linkDependencies(join(repo, "node_modules"), modules);
  const installed = join(modules, PACKAGE);
  mkdirSync(installed, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  for (const file of ["shop-plugin.js", "smtp-plugin.js"]) {
    copyFileSync(join(repo, "examples", "reaction", file), join(app, file));
  }
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch-api", type: "module" }));
  writeFileSync(
    join(app, "plugins.json"),
    JSON.stringify({
      shop: "./shop-plugin.js",
      jobQueue: `${PACKAGE}/reaction`,
      email: "@reactioncommerce/api-plugin-email",
      sitemapGenerator: "@reactioncommerce/api-plugin-sitemap-generator",
      smtp: "./smtp-plugin.js",
    }),
  );
  writeFileSync(join(app, "check.js"), CHECK_SCRIPT);
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Links every package of `from` into `to` (scoped ones one by one), except this one. */
function linkDependencies(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    if (entry.startsWith(".") || entry === PACKAGE) continue;
    if (entry.startsWith("@")) linkDependencies(join(from, entry), join(to, entry));
    else symlinkSync(join(from, entry), join(to, entry));
  }
}

/** The scratch API: plugins.json as a Reaction API loads it, one email sent and listed. */
const CHECK_SCRIPT = `
import { ReactionAPICore, importPluginsJSONFile } from "@reactioncommerce/api-core";
import mongoMock from "mongo-mock";

const api = new ReactionAPICore({ version: "0.0.0-scratch" });
await api.registerPlugins(await importPluginsJSONFile("./plugins.json"));
mongoMock.max_delay = 0;
const client = await mongoMock.MongoClient.connect("mongodb://127.0.0.1:27017/scratch");
const db = client.db("scratch");
await api.setMongoDatabase(db);
await api.collections.Shops.insertOne({ _id: "shop1", name: "Shop", emails: [{ address: "s@example.com" }] });
await api.runServiceStartup();
const { backgroundJobs, collections, mutations } = api.context;
const job = await mutations.sendEmail(api.context.getInternalContext(), {
  to: "ada@example.com", fromShopId: "shop1", subject: "Hi", html: "<p>Hi</p>",
});
let status;
for (let i = 0; i < 200 && status !== "completed"; i += 1) {
  status = (await backgroundJobs.getJob(job._id))._doc.status;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const sitemaps = await collections.Jobs.find({ type: "sitemaps/generate" }).toArray();
const emails = await collections.Jobs.find({ type: "sendEmail", "data.shopId": "shop1" }).toArray();
await api.stop();
// mongo-mock keeps the process alive, as a connection would, until both are closed.
await db.close();
await client.close();
console.log(JSON.stringify({
  plugin: api.registeredPlugins["job-queue"].label,
  version: api.registeredPlugins["job-queue"].version,
  status,
  emailJobs: emails.map((doc) => doc._id),
  jobId: job._id,
  sitemapSchedules: sitemaps.map((doc) => doc.status),
}));
`;

describe("the npm package in a Reaction API", () => {
  it("installs from its tarball and boots with the real core, email and sitemap plugins under plain Node", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--preserve-symlinks", "--import", `${PACKAGE}/reaction/node-compat`, "check.js"],
      {
        cwd: app,
        timeout: 90_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          JOBS_DATA_DIR: join(scratch, "data"),
          REACTION_LOG_LEVEL: "FATAL",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        },
      },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1) as string);
    expect(result).toMatchObject({
      plugin: expect.stringContaining("Job queue"),
      // Read from the installed package's own package.json, through dist/.
      version: JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version,
      status: "completed",
      sitemapSchedules: ["waiting"],
    });
    expect(result.emailJobs).toEqual([result.jobId]);
  });
});
