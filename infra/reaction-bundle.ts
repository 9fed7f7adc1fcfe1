import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** `BackgroundJobsProps.reactionApp`: the functions boot the team's Reaction API. */
export interface ReactionAppProps {
  /**
   * A module exporting `buildApp(): Promise<ReactionAPICore>`, the team's API unstarted: its
   * plugins registered (the job-queue swap-in in place of Reaction's) and its MongoDB connected
   * (or `MONGO_URL` set: the functions then connect to it). Imported statically, plugins and
   * all, so that it bundles: not through plugins.json.
   */
  entry: string;
  /** More environment for both functions (`MONGO_URL`, the team's own settings). */
  environment?: Record<string, string>;
}

/** The Reaction handlers the construct's generated entries wrap the module's `buildApp` in. */
export const REACTION_HANDLERS = {
  file: "reaction-handlers.ts",
  dispatcher: "reactionDispatcherHandler",
  reconciler: "reactionReconcilerHandler",
  imported: "buildApp",
};

/**
 * The functions' entries for a Reaction app, bundled (see `bundleReactionEntries`) into
 * `.cache/`: the `.mjs` files the construct's NodejsFunctions take as their entries.
 */
export function bundleReactionApp(entries: { dispatcher: string; reconciler: string }): {
  dispatcher: string;
  reconciler: string;
} {
  const outdir = join(REPO_ROOT, ".cache", "background-jobs-entries", "reaction-bundle");
  bundleReactionEntriesSync(entries, outdir);
  return { dispatcher: join(outdir, "dispatcher.mjs"), reconciler: join(outdir, "reconciler.mjs") };
}
const PACKAGE_NAME = "reaction-background-jobs-aws";

/**
 * What Reaction's packages do at run time that a bundle must do at bundle time:
 * - `importAsString("./schema.graphql")` (from `@reactioncommerce/api-utils`, for the GraphQL
 *   schemas of the core and every plugin) reads a file next to its caller. In a bundle every
 *   caller is the bundle, and those files are not beside it: each call on a string literal
 *   becomes the file's text.
 * - `const require = createRequire(import.meta.url)` then `require("apollo-server")`: esbuild
 *   bundles a `require` it knows, not one a module made for itself, so those packages would be
 *   missing at run time. The module's own `require` is dropped; its calls become esbuild's.
 */
export function reactionBundlingPlugin(): Plugin {
  const importAsString = /importAsString\(\s*(["'])([^"']+)\1\s*\)/g;
  const ownRequire = /^\s*const\s+require\s*=\s*createRequire\(\s*import\.meta\.url\s*\)\s*;?/m;
  return {
    name: "reaction-bundling",
    setup(bundler) {
      bundler.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
        const source = await readFile(args.path, "utf8");
        if (!source.includes("importAsString(") && !ownRequire.test(source)) return undefined;
        const require = createRequire(args.path);
        const contents = source
          .replace(ownRequire, "")
          .replace(importAsString, (_match, _quote, specifier: string) =>
            JSON.stringify(readFileSync(require.resolve(specifier), "utf8")),
          );
        return { contents, loader: "js" };
      });
    },
  };
}

/**
 * Bundles Lambda entries that boot a Reaction API into one ES module each (`<name>.mjs` in
 * `outdir`): Reaction's packages and the team's with them, the schema files inlined, this
 * package resolved to this checkout's `lib/` (one copy of the job system, whatever the team's
 * module imports it as), the AWS SDK left to the Lambda runtime, and optional native modules
 * (bunyan's dtrace-provider) left out, as their users expect when they are missing.
 */
export async function bundleReactionEntries(
  entries: Record<string, string>,
  outdir: string,
): Promise<void> {
  await build({
    entryPoints: entries,
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    external: ["@aws-sdk/*", "fauxqs", "dtrace-provider"],
    alias: { [PACKAGE_NAME]: join(REPO_ROOT, "lib") },
    plugins: [reactionBundlingPlugin()],
    logLevel: "error",
  });
}

/**
 * `bundleReactionEntries`, synchronously, for the CDK construct (constructs are built
 * synchronously, and esbuild plugins need its asynchronous API): in a child process.
 */
export function bundleReactionEntriesSync(entries: Record<string, string>, outdir: string): void {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify({ entries, outdir })],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  if (result.status !== 0) {
    throw new Error(
      `BackgroundJobs: bundling the Reaction app (reactionApp.entry) failed:\n${result.stderr || result.error?.message}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { entries, outdir } = JSON.parse(process.argv[2] as string);
  await bundleReactionEntries(entries, outdir);
}
