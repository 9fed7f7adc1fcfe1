#!/usr/bin/env node
// The `bgjobs` executable: the project is TypeScript run by tsx, as `npm start` is.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const { register } = await import("tsx/esm/api");
register();
const { runCli } = await import("../lib/cli/main.ts");
await runCli();
