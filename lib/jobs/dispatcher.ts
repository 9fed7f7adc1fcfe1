import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { parseJobMessage } from "../aws/lanes.ts";
import { randomId } from "../ids.ts";
import { lanes } from "../resources.ts";
import type { Job } from "./job.ts";
import type { JobMessage } from "./ports.ts";
import { type JobSystem, jobFields } from "./system.ts";
import { DEFAULT_WORK_TIMEOUT_MS } from "./validate.ts";
import type { WorkerSlots } from "./workers.ts";

/** Handles one SQS batch; Lambda's event source mapping and the local poller both call it. */
export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** What became of one message. `retry` leaves it to SQS (redelivery, then the DLQ). */
type Outcome = "ran" | "acknowledged" | "retry";

/**
 * The dispatcher: for each message, wait for a free slot of the job's type, claim the job with
 * one conditional write, run the worker, and wait for the run to settle (the worker may call
 * `done` after it returned) until its lease ends. A failed claim (cancelled, done, someone
 * else's live lease) acknowledges the message: delivery is at-least-once, effects exactly-once.
 * Answers with a partial batch response; it never throws, since a throw fails the whole batch.
 */
export function createDispatcher(system: JobSystem, signal?: AbortSignal): SqsBatchHandler {
  return async (event) => {
    const failures: SQSBatchItemFailure[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        let outcome: Outcome;
        try {
          outcome = await dispatchRecord(system, record, signal);
        } catch (error) {
          system.logger.warn("dispatch failed; the message comes back", {
            messageId: record.messageId,
            error: (error as Error).message,
          });
          outcome = "retry";
        }
        if (outcome !== "retry") return;
        failures.push({ itemIdentifier: record.messageId });
        await backOff(system, record);
      }),
    );
    return { batchItemFailures: failures };
  };
}

/**
 * A message that failed comes back after a growing delay (not at once, not after the whole
 * visibility timeout), so poison reaches the DLQ in minutes. The last try logs one line.
 */
async function backOff(system: JobSystem, record: SQSRecord): Promise<void> {
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  if (receives >= lanes.maxReceiveCount) {
    system.logger.error("message goes to the dead-letter queue", {
      messageId: record.messageId,
      receives,
      body: record.body.slice(0, 200),
    });
  }
  const seconds = system.redeliveryDelaySeconds * 2 ** (receives - 1);
  await system.lanes
    .delayRedelivery(record.eventSourceARN, record.receiptHandle, seconds)
    .catch(() => {
      // The message still comes back after the visibility timeout.
    });
}

// Everything up to the slot wait runs synchronously, so a poller sees the capacity taken
// as soon as it hands over the batch.
function dispatchRecord(
  system: JobSystem,
  record: SQSRecord,
  signal?: AbortSignal,
): Promise<Outcome> {
  const message = parseJobMessage(record.body);
  // Not a job message (poison): it is retried and ends in the DLQ.
  if (!message) return Promise.resolve("retry");
  const slots = system.workerFor(message.type);
  if (slots?.paused) return Promise.resolve("acknowledged");
  if (!slots) return claimAndRun(system, message, undefined, signal);
  return slots.acquire().then(async () => {
    try {
      // Paused while this message waited for a slot: the job stays ready for resume().
      if (slots.paused) return "acknowledged";
      return await claimAndRun(system, message, slots, signal);
    } finally {
      slots.release();
    }
  });
}

async function claimAndRun(
  system: JobSystem,
  message: JobMessage,
  slots: WorkerSlots | undefined,
  signal?: AbortSignal,
): Promise<Outcome> {
  let id = message.id;
  if (message.firedAt !== undefined) {
    // A repeating job fired: its template makes an occurrence, which runs like any job.
    const occurrence = await system.fire(message);
    if (!occurrence) return "acknowledged";
    id = occurrence._id;
  }
  const now = system.now();
  const result = await system.store.claimJob(id, {
    runId: randomId(),
    now,
    workTimeout: slots?.workTimeout ?? DEFAULT_WORK_TIMEOUT_MS,
  });
  if ("current" in result) {
    const current = result.current;
    // No such job (poison, or removed meanwhile): retried, then the DLQ.
    if (!current) return "retry";
    if (current.repeat) return "acknowledged"; // a template runs only through its firings
    if ((current.status === "waiting" || current.status === "ready") && current.after > now) {
      // Not due yet: a wait longer than SQS's 900 s delay travels in hops.
      await system.enqueue(current);
    } else if (current.status === "running" && (current.leaseUntil ?? 0) < now) {
      await system.expireRun(current);
    }
    return "acknowledged";
  }
  const claimed = result.claimed;
  if (await system.cancelledByTombstone(claimed)) return "acknowledged";
  const job = system.beginRun(claimed);
  system.logger.info("running", { ...jobFields(claimed), waitedMs: now - claimed.after });
  system.metrics.count("JobsStarted", claimed.type);
  system.metrics.time("JobStartDelay", claimed.type, now - claimed.after);
  if (!slots) {
    await job.fail(`No worker registered for job type "${claimed.type}"`);
    return "ran";
  }
  await runWorker(system, job, slots, signal);
  return "ran";
}

/** Runs the worker and waits for the run to settle, failing it when its lease runs out. */
async function runWorker(
  system: JobSystem,
  job: Job,
  slots: WorkerSlots,
  signal?: AbortSignal,
): Promise<void> {
  const run = job.run!;
  const worker = Promise.resolve()
    .then(() => slots.worker(job))
    .catch(async (error: unknown) => {
      // A throw is `fail(message)`; after `done` it changes nothing (fenced).
      if (run.settled) return;
      await job
        .fail(error instanceof Error ? error.message : String(error))
        .catch((failError: unknown) => {
          system.logger.error("could not record a worker's failure", {
            jobId: job._id,
            error: (failError as Error).message,
          });
        });
    });
  const finished = worker.then(() => run.whenSettled);
  for (;;) {
    const remaining = run.leaseUntil - system.now();
    if (remaining <= 0) break;
    const outcome = await settledWithin(finished, remaining, signal);
    if (outcome !== "timeout" || run.settled) return;
    // A heartbeat may have moved the lease on: go round and wait for the rest.
  }
  if (!run.settled) await job.fail("Failed for exceeding worker set workTimeout");
}

/** Waits for `settled`, at most `ms`, or until `signal` aborts (the app stopping). */
function settledWithin(
  settled: Promise<unknown>,
  ms: number,
  signal?: AbortSignal,
): Promise<"settled" | "timeout" | "aborted"> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve("aborted");
    const finish = (outcome: "settled" | "timeout" | "aborted") => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("timeout"), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    settled.then(() => finish("settled"));
  });
}
