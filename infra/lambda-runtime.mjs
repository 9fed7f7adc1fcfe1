// Loads a Lambda bundle as the Node.js runtime does (an ES module's `handler` export, in a
// fresh process: a cold start) and invokes it once. Usage:
//   node lambda-runtime.mjs <bundle/index.mjs> <request.json> <response.json>
// request: { event, remainingMs }. response: { result } or { error }, plus importMs and
// invokeMs. Logs stay on stdout/stderr, as in Lambda.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [bundle, requestFile, responseFile] = process.argv.slice(2);
const { event, remainingMs = 900_000 } = JSON.parse(readFileSync(requestFile, "utf8"));
const begin = performance.now();
const deadline = Date.now() + remainingMs;
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: `local-${process.pid}`,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
let response;
try {
  const { handler } = await import(pathToFileURL(bundle).href);
  const imported = performance.now();
  const result = await handler(event, context);
  response = {
    result,
    importMs: imported - begin,
    invokeMs: performance.now() - imported,
  };
} catch (error) {
  response = { error: error instanceof Error ? error.message : String(error) };
}
writeFileSync(responseFile, JSON.stringify(response));
process.exit(0);
