import { lanes, RUN_TIME_RULE } from "../resources.ts";
import type { Delivery, DeliveryOutcome, JobDeps, WorkerSlotsView } from "./deps.ts";
import { holdMessage, keepReporting, releaseMessage, reportFront } from "./front.ts";
import { messageAt } from "./message.ts";
import { misplaced, moveToItsLane } from "./misplaced.ts";
import { type ClaimOutcome, claimAndRun } from "./run/claim.ts";

/**
 * The invocation a batch runs in (Lambda). With one, the dispatcher never waits: a message
 * with no free slot, or too little time left for its run, goes back at once.
 */
export interface InvocationBudget {
  /** Milliseconds until the invocation is stopped (`context.getRemainingTimeInMillis()`). */
  remainingMs(): number;
}

/**
 * The dispatcher: for each delivery, take a slot of the message's type, claim the job and
 * run it (see `claimAndRun`). Lambda's SQS handler (through `lib/aws/sqs-batch.ts`), the local
 * poller and the model check all call it. It never throws: a throw would fail the whole
 * batch. A message that failed comes back after a pause that doubles per receive (not at
 * once, not after the whole visibility timeout), so poison reaches the DLQ in minutes.
 *
 * Locally (no `budget`) a delivery waits for a slot: the poller hands over only what fits.
 * In Lambda (`budget`) the batch's runs start at once up to the type's concurrency, and what
 * cannot start now is deferred: back within seconds, its receive not counted toward the DLQ.
 *
 * Everything up to the slot wait runs synchronously, so a poller sees the slot taken as soon
 * as it hands a batch over.
 */
export function dispatch(
  deps: JobDeps,
  deliveries: readonly Delivery[],
  stopping?: AbortSignal,
  budget?: InvocationBudget,
): Promise<DeliveryOutcome[]> {
  // Held until their outcome: the delivery front (front.ts) counts them as not yet done with.
  for (const { messageId, message } of deliveries)
    if (message) holdMessage(deps, messageId, messageAt(message));
  void reportFront(deps);
  keepReporting(deps, stopping);
  return Promise.all(
    deliveries.map(async (delivery): Promise<DeliveryOutcome> => {
      let outcome: ClaimOutcome | "deferred";
      try {
        outcome = await deliver(deps, delivery, stopping, budget);
      } catch (error) {
        deps.logger.warn("dispatch failed; the message comes back", {
          messageId: delivery.messageId,
          error: (error as Error).message,
        });
        outcome = "retry";
      } finally {
        releaseMessage(deps, delivery.messageId);
      }
      if (outcome === "deferred") return defer(deps, delivery);
      if (outcome !== "retry") return { messageId: delivery.messageId, outcome: "acknowledged" };
      return {
        messageId: delivery.messageId,
        outcome: "retry",
        delaySeconds: backOff(deps, delivery),
      };
    }),
  );
}

function deliver(
  deps: JobDeps,
  delivery: Delivery,
  stopping: AbortSignal | undefined,
  budget: InvocationBudget | undefined,
): Promise<ClaimOutcome | "deferred"> {
  const { message } = delivery;
  // Not a job message (poison): it is retried and ends in the DLQ.
  if (!message) return Promise.resolve("retry");
  // Before any claim: a job runs only where its type is placed (lib/jobs/placement.ts).
  if (delivery.lane && misplaced(deps, delivery.lane, message.type))
    return moveToItsLane(deps, message, delivery.lane);
  const slots = deps.workers.get(message.type);
  // A paused type's job stays ready for resume(), which sends it again.
  if (slots?.paused) return Promise.resolve("acknowledged");
  if (!slots) return claimAndRun(deps, message, undefined, stopping);
  if (budget) {
    if (!fitsInInvocation(slots, budget) || !slots.tryAcquire()) return Promise.resolve("deferred");
    return runInSlot(deps, message, slots, stopping);
  }
  return slots.acquire().then(() => runInSlot(deps, message, slots, stopping));
}

async function runInSlot(
  deps: JobDeps,
  message: NonNullable<Delivery["message"]>,
  slots: WorkerSlotsView,
  stopping: AbortSignal | undefined,
): Promise<ClaimOutcome> {
  try {
    if (slots.paused) return "acknowledged"; // paused while it waited for a slot
    return await claimAndRun(deps, message, slots, stopping);
  } finally {
    slots.release();
  }
}

function fitsInInvocation(slots: WorkerSlotsView, budget: InvocationBudget): boolean {
  return budget.remainingMs() - RUN_TIME_RULE.startMarginMs >= slots.workTimeout;
}

/** The pause before a deferred message is back: 1, 2, 4... s, at most 30. */
function deferDelaySeconds(receiveCount: number): number {
  return Math.min(30, 2 ** Math.max(0, receiveCount - 1));
}

/**
 * A message that could not start now comes back within seconds. Its receives must not push
 * it to the DLQ (no worker failed): on the receive before the DLQ's count, a fresh copy is
 * sent (a fresh receive count) and this one acknowledged.
 */
async function defer(deps: JobDeps, delivery: Delivery): Promise<DeliveryOutcome> {
  const { messageId, message, lane, receiveCount } = delivery;
  const delaySeconds = deferDelaySeconds(receiveCount);
  if (receiveCount < lanes.maxReceiveCount - 1 || !message || !lane) {
    return { messageId, outcome: "retry", delaySeconds };
  }
  try {
    await deps.lanes.send(lane, message, delaySeconds);
    return { messageId, outcome: "acknowledged" };
  } catch {
    return { messageId, outcome: "retry", delaySeconds };
  }
}

/** The pause before a failed message comes back; the last receive logs one line. */
function backOff(deps: JobDeps, delivery: Delivery): number {
  if (delivery.receiveCount >= lanes.maxReceiveCount) {
    deps.logger.error("message goes to the dead-letter queue", {
      messageId: delivery.messageId,
      receives: delivery.receiveCount,
      body: delivery.body.slice(0, 200),
    });
  }
  return deps.settings.redeliveryDelaySeconds * 2 ** (delivery.receiveCount - 1);
}
