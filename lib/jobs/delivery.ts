/**
 * Deliveries: what a lane hands the dispatcher, and what the dispatcher answers for each. The
 * port's neutral shape (lib/jobs/ports.ts re-exports it); the carriers (an SQS event, the
 * local poller, the memory consumer, the model check) translate to and from it.
 */
import type { JobLane } from "../resources.ts";
import type { JobMessage } from "./ports.ts";

/** One received message, whatever carried it (an SQS event, the local poller, the model check). */
export interface Delivery {
  /** The carrier's id for it (outcomes answer by it). */
  messageId: string;
  /** The parsed message, or `null` when the body is not one of ours (poison). */
  message: JobMessage | null;
  /** The raw body, for the one log line a poison message gets. */
  body: string;
  /** How often it has been received, this time included. */
  receiveCount: number;
  /** The lane it came from, when known (a deferred message's fresh copy goes back there). */
  lane?: JobLane;
}

/** What to do with a delivery: drop it (done with), or have it come back after a pause. */
export type DeliveryOutcome =
  | { messageId: string; outcome: "acknowledged" }
  | { messageId: string; outcome: "retry"; delaySeconds: number };
