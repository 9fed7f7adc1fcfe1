/**
 * The local backend: the embedded stack (DynamoDB Local, fauxqs, the local Scheduler) and the
 * poller that stands in for Lambda's event source mappings. The only module of the runtime
 * that loads lib/local/: the host imports it for a local backend only, and the Lambda
 * bundles leave it out (see `LOCAL_ONLY_MODULES` in ./local-only.ts).
 */
import type { JobSystem } from "../jobs/api.ts";
import { holdMessage, keepReporting } from "../jobs/front.ts";
import { messageAt } from "../jobs/message.ts";
import { reconcile, requeueAll } from "../jobs/reconcile.ts";
import { LocalPoller } from "../local/poller.ts";
import { startLocalStack } from "../local/stack.ts";
import type { JobLogger } from "../log.ts";
import type { LocalStackInfo, LocalStackResources } from "../stack.ts";
import { removeStackFile, writeStackFile } from "../stack-file.ts";
import type { Consumer, Deployment, PluginRulesByType } from "./deployment.ts";
import type { LocalBackendOptions } from "./options.ts";

/**
 * Starts the local stack on loopback and provisions its table, lanes and schedule group.
 * With a `dataDir`, `<dataDir>/stack.json` tells `bgjobs` where it is while it runs.
 *
 * @example const deployment = await startLocalDeployment({ dataDir: ".data" }, logger);
 */
export async function startLocalDeployment(
  options: LocalBackendOptions,
  logger: JobLogger,
): Promise<Deployment> {
  const stack = await startLocalStack({
    logger,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.dynamodbEndpoint ? { dynamodbEndpoint: options.dynamodbEndpoint } : {}),
    ...(options.resourcePrefix ? { resourcePrefix: options.resourcePrefix } : {}),
    ...(options.requestCounter ? { requestCounter: options.requestCounter } : {}),
    ...(options.injectFault ? { injectFault: options.injectFault } : {}),
    ...(options.visibilityTimeoutSeconds !== undefined
      ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
      : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { endpoints, tableName, queueUrls, deadLetterQueueUrls, region } = stack;
  const { scheduleGroup, schedulerRoleArn, payloadBucket } = stack;
  const resources: LocalStackResources = {
    endpoints,
    tableName,
    queueUrls,
    deadLetterQueueUrls,
    region,
    scheduleGroup,
    schedulerRoleArn,
    payloadBucket,
  };
  const local: LocalStackInfo = { ...resources, clock: stack.clock };
  let poller: LocalPoller | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let reconciling: Promise<unknown> | undefined;

  const started = async (system: JobSystem, rules: PluginRulesByType) => {
    if (options.dataDir) {
      // While this stack runs, `bgjobs` finds it here (removed by stop()).
      writeStackFile(options.dataDir, {
        pid: process.pid,
        ...resources,
        cleanup: Object.fromEntries(rules.cleanup),
        tenants: Object.fromEntries(rules.tenants),
      });
    }
    // fauxqs keeps no messages across restarts: put every open job's message back.
    const requeued = await requeueAll(system.deps);
    if (requeued > 0)
      logger.info("requeued", { jobs: requeued, note: "open jobs from the data folder" });
  };

  const consume = ({ system, handler, stopping }: Consumer) => {
    if (poller) return;
    poller = new LocalPoller({
      sqs: stack.clients.sqs,
      queueUrls: stack.queues.queueUrls,
      queueArns: stack.queues.queueArns,
      region,
      handler,
      freeFor: (type) => system.workers.freeFor(type),
      capacityChanged: (ms) => system.workers.nextChange(ms),
      hold: (messageId, message) => {
        holdMessage(system.deps, messageId, messageAt(message));
        keepReporting(system.deps, stopping);
      },
      logger,
    });
    poller.start();
    reconcileTimer = setInterval(() => {
      if (reconciling) return;
      reconciling = reconcile(system.deps)
        .catch((error: unknown) =>
          logger.error("reconcile failed", { error: (error as Error).message }),
        )
        .finally(() => {
          reconciling = undefined;
        });
    }, options.reconcileIntervalMs ?? 5000);
  };

  return {
    resources,
    clients: stack.clients,
    local,
    clock: stack.clock,
    lanesOnClock: (lanes) => stack.lanesOnClock(lanes),
    ...(options.simulateIndexLagMs ? { simulateIndexLagMs: options.simulateIndexLagMs } : {}),
    settings: {
      // A clock that stands still would never end cancelJobs' cache wait: read logs fresh.
      ...(stack.clock.mode === "manual" ? { cancelCacheMs: 0 } : {}),
      ...(options.redeliveryDelaySeconds !== undefined
        ? { redeliveryDelaySeconds: options.redeliveryDelaySeconds }
        : {}),
      ...(options.runCheckIntervalMs !== undefined
        ? { runCheckIntervalMs: options.runCheckIntervalMs }
        : {}),
      ...options.reconcile,
    },
    started,
    consume,
    stopConsuming: async () => {
      clearInterval(reconcileTimer);
      await poller?.stop();
    },
    stop: async () => {
      await reconciling;
      if (options.dataDir) removeStackFile(options.dataDir);
      await stack.stop();
    },
  };
}
