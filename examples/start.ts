import { startDashboard } from "../lib/dashboard/server.ts";
import { dataDirFromEnvironment } from "../lib/environment.ts";
import { type AppContext, createApp } from "../lib/index.ts";
import { connectToApp } from "../lib/ops/connect.ts";
import { emailJob, emailPlugin } from "./plugins/email.ts";
import { filesPlugin, saveImageJob } from "./plugins/files.ts";
import { sitemapPlugin } from "./plugins/sitemap.ts";

/**
 * `npm start`: the embedded local stack with Reaction-style plugins. Each job's status changes
 * print as they happen; Ctrl-C stops every server and timer.
 */
const dataDir = dataDirFromEnvironment(); // JOBS_DATA_DIR (DATA_DIR also works), else .data
const app = createApp({ backgroundJobs: { local: { dataDir } } });
let stopping = false;
app.registerPlugin(filesPlugin);
app.registerPlugin(emailPlugin);
app.registerPlugin(sitemapPlugin);
app.registerPlugin({
  name: "demo",
  functionsByType: {
    startup: [
      async ({ backgroundJobs }) => {
        // A plugin may schedule from its startup; these run once the stack is up.
        setTimeout(() => {
          scheduleDemoJobs(backgroundJobs).catch((error: unknown) => {
            // Ctrl-C can stop the stack while these are still being sent: no crash for that.
            if (!stopping) process.stderr.write(`demo jobs: ${(error as Error).message}\n`);
          });
        }, 100);
      },
    ],
  },
});

const started = Date.now();
try {
  await app.start();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(
  `Local stack up in ${Date.now() - started} ms: DynamoDB ${app.local.endpoints.dynamodb}, SQS ${app.local.endpoints.sqs}, Scheduler ${app.local.endpoints.scheduler}. Ctrl-C stops it.\n`,
);
// The dashboard, in this process (a cancel from it ends a run here at once). `bgjobs` finds
// this stack through ${dataDir}/stack.json while it runs.
const operations = connectToApp(app);
const dashboard = await startDashboard({ ops: operations.ops, title: "local stack (npm start)" });
process.stdout.write(
  `Dashboard: ${dashboard.url}\nCLI: npx bgjobs jobs list (reads ${dataDir}/stack.json)\n`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping...\n");
    await dashboard.stop();
    operations.close();
    await app.stop();
    process.stdout.write("stopped: every server and timer ended.\n");
  });
}

/** A few jobs to watch: three images (one fails once), an email, and one missing its recipient. */
async function scheduleDemoJobs(backgroundJobs: AppContext["backgroundJobs"]): Promise<void> {
  for (const [i, name] of ["logo.png", "flaky-banner.jpg", "hero.webp"].entries()) {
    await backgroundJobs.scheduleJob(saveImageJob({ _id: `file-${Date.now()}-${i}`, name }));
  }
  await backgroundJobs.scheduleJob(
    emailJob({
      from: "shop@example.com",
      to: "ada@example.com",
      subject: "Your order",
      html: "<p>Thanks</p>",
    }),
  );
  await backgroundJobs.scheduleJob(
    emailJob({ from: "shop@example.com", subject: "No recipient", html: "<p>?</p>" }),
  );
}
