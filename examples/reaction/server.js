/**
 * `npm run example:reaction`: the example Reaction API on 127.0.0.1 (PORT, default 3000),
 * its jobs on the embedded local stack (data in JOBS_DATA_DIR, default .data). It runs
 * Reaction's startup (the sitemap plugin schedules its daily job), serves GraphQL, sends
 * one email through Reaction's email plugin and prints its job as it completes. Ctrl-C stops
 * the server and every local server the jobs use.
 */
import { buildApp } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
const api = await buildApp();
api.initServer();
await api.runServiceStartup();
await new Promise((resolve) => api.httpServer.listen({ port, host: "127.0.0.1" }, resolve));
process.stdout.write(`GraphQL at http://127.0.0.1:${port}/graphql. Ctrl-C stops it.\n`);

const { backgroundJobs, collections, mutations } = api.context;
const job = await mutations.sendEmail(api.context.getInternalContext(), {
  to: "ada@example.com",
  fromShopId: "example-shop",
  subject: "Welcome",
  html: "<p>Hello from the job queue on DynamoDB and SQS</p>",
});
for (let i = 0; i < 100; i += 1) {
  const current = await backgroundJobs.getJob(job._id);
  if (current._doc.status === "completed") break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const listed = await collections.Jobs.find({
  type: "sendEmail",
  "data.shopId": "example-shop",
}).toArray();
process.stdout.write(
  `sendEmail jobs of example-shop: ${JSON.stringify(listed.map(({ _id, status }) => ({ _id, status })))}\n`,
);
process.stdout.write(
  `Try: curl -s http://127.0.0.1:${port}/graphql -H 'content-type: application/json' -d '{"query":"{ emailJobs(shopIds: [\\"${Buffer.from("reaction/shop:example-shop").toString("base64")}\\"]) { nodes { _id status data { to subject } } totalCount } }"}'\n`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping...\n");
    await api.stop();
    process.exit(0);
  });
}
