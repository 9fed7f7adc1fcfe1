import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { SlowestFirstSequencer } from "./test/sequencer.ts";

/**
 * Reaction's packages import `@reactioncommerce/api-utils/<x>.js`, which that package maps to
 * `lib/<x>.js` with the folder `exports` syntax Node 17 removed: resolve it to `lib/` here, and
 * have vite transform the Reaction packages (their JSON imports carry no import attribute).
 */
const apiUtilsLib = fileURLToPath(
  new URL("./node_modules/@reactioncommerce/api-utils/lib/", import.meta.url),
);

const reactionEntry = fileURLToPath(new URL("./lib/reaction/index.ts", import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@reactioncommerce\/api-utils\/(.+)$/, replacement: `${apiUtilsLib}$1` },
      // examples/reaction's tests import the package by name, as a team's would: its source here.
      { find: /^reaction-background-jobs-aws\/reaction$/, replacement: reactionEntry },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.js"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", REACTION_LOG_LEVEL: "FATAL" },
    server: { deps: { inline: [/@reactioncommerce\//] } },
    // One DynamoDB Local JVM for the run; each file's apps keep their own table on it.
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    // A worker keeps its imported modules between files (lib, the AWS SDK, CDK, Reaction's
    // packages): importing them afresh for each of 58 files cost about a third of the run. No
    // test patches a shared module (SDK mocks are per client instance), and every file stops
    // what it starts.
    isolate: false,
    sequence: { sequencer: SlowestFirstSequencer },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
