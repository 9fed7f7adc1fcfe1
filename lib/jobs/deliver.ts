import { lanes } from "../resources.ts";
import type { Delivery, DeliveryOutcome, JobDeps } from "./deps.ts";
import { holdMessage, keepReporting, releaseMessage, reportFront } from "./front.ts";
import { messageAt } from "./message.ts";
import { type ClaimOutcome, claimAndRun } from "./run/claim.ts";

/**
 * The dispatcher: for each delivery, wait for a free slot of the message's type, claim the
 * job and run it (see `claimAndRun`). Lambda's SQS handler (through `lib/aws/sqs-batch.ts`),
 * the local poller and the model check all call it. It never throws: a throw would fail the
 * whole batch. A message that failed comes back after a pause that doubles per receive (not
 * at once, not after the whole visibility timeout), so poison reaches the DLQ in minutes.
 *
 * Everything up to the slot wait runs synchronously, so a poller sees the slot taken as soon
 * as it hands a batch over.
 */
export function dispatch(
  deps: JobDeps,
  deliveries: readonly Delivery[],
  stopping?: AbortSignal,
): Promise<DeliveryOutcome[]> {
  // Held until their outcome: the delivery front (front.ts) counts them as not yet done with.
  for (const { messageId, message } of deliveries)
    if (message) holdMessage(deps, messageId, messageAt(message));
  void reportFront(deps);
  keepReporting(deps, stopping);
  return Promise.all(
    deliveries.map(async (delivery): Promise<DeliveryOutcome> => {
      let outcome: ClaimOutcome;
      try {
        outcome = await deliver(deps, delivery, stopping);
      } catch (error) {
        deps.logger.warn("dispatch failed; the message comes back", {
          messageId: delivery.messageId,
          error: (error as Error).message,
        });
        outcome = "retry";
      } finally {
        releaseMessage(deps, delivery.messageId);
      }
      if (outcome !== "retry") return { messageId: delivery.messageId, outcome: "acknowledged" };
      return {
        messageId: delivery.messageId,
        outcome: "retry",
        delaySeconds: backOff(deps, delivery),
      };
    }),
  );
}

function deliver(deps: JobDeps, delivery: Delivery, stopping?: AbortSignal): Promise<ClaimOutcome> {
  const { message } = delivery;
  // Not a job message (poison): it is retried and ends in the DLQ.
  if (!message) return Promise.resolve("retry");
  const slots = deps.workers.get(message.type);
  // A paused type's job stays ready for resume(), which sends it again.
  if (slots?.paused) return Promise.resolve("acknowledged");
  if (!slots) return claimAndRun(deps, message, undefined, stopping);
  return slots.acquire().then(async () => {
    try {
      if (slots.paused) return "acknowledged"; // paused while it waited for a slot
      return await claimAndRun(deps, message, slots, stopping);
    } finally {
      slots.release();
    }
  });
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
