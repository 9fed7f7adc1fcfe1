#!/usr/bin/env node
// The `bgjobs` executable. In a checkout it runs the TypeScript in lib/ through tsx (as
// `npm start` does); installed from the package, the JavaScript `npm run build` wrote to dist/.
import { existsSync } from "node:fs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const source = new URL("../lib/cli/main.ts", import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  main = await import(source.href);
} else {
  main = await import(new URL("../dist/cli/main.js", import.meta.url).href);
}
await main.runCli();
