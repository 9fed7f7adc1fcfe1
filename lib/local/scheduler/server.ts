import type { SQSClient } from "@aws-sdk/client-sqs";
import type { JobLogger } from "../../log.ts";
import { type LocalClock, realLocalClock } from "../clock.ts";
import { ScheduleBook } from "./book.ts";
import { serveSchedulerApi } from "./http.ts";
import type { Schedule } from "./records.ts";
import { ScheduleRegistry } from "./registry.ts";
import { readSchedulerState, writeSchedulerState } from "./state-file.ts";
import { deliverFiring } from "./target.ts";

/**
 * A local EventBridge Scheduler: the wire protocol `@aws-sdk/client-scheduler` speaks
 * (`http.ts`), validating as AWS does for the forms used here (`records.ts`); each schedule
 * armed in the schedule book over the stack's clock (`book.ts`), its firings sent to their SQS
 * target (`target.ts`); one-time schedules deleted after they fire when asked to; schedules
 * kept in a file so they survive a restart (`state-file.ts`).
 */
export interface LocalScheduler {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the local Scheduler on 127.0.0.1 (a free port).
 *
 * @example
 * const scheduler = await startLocalScheduler({ sqs, region: "us-east-1", logger });
 * new SchedulerClient({ endpoint: scheduler.endpoint, region: "us-east-1", credentials });
 */
export async function startLocalScheduler(options: {
  sqs: SQSClient;
  region: string;
  logger: JobLogger;
  /** Where schedules are kept across restarts; in memory when omitted. */
  stateFile?: string;
  /** What fires the schedules: the real clock unless the stack runs on a manual one. */
  clock?: LocalClock;
}): Promise<LocalScheduler> {
  const { sqs, region, logger, stateFile } = options;
  const clock = options.clock ?? realLocalClock;
  const save = () => {
    if (stateFile) writeSchedulerState(stateFile, registry.state());
  };
  const book = new ScheduleBook<Schedule>(clock, {
    fire: (entry, at) => {
      const delivery = deliverFiring(sqs, logger, entry.target, at);
      clock.track(delivery);
      return delivery;
    },
    changed: save,
  });
  const registry = new ScheduleRegistry(book, clock, region, save);
  registry.restore(stateFile ? readSchedulerState(stateFile) : undefined);
  book.start();
  const { server, endpoint } = await serveSchedulerApi(registry, {
    region,
    now: () => clock.now(),
  });
  return {
    endpoint,
    stop: async () => {
      book.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
