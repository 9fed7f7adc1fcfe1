import type { JobMessage, LaneQueue } from "../jobs/deps.ts";
import { clampDelay } from "../jobs/lane-delay.ts";
import type { JobLane } from "../resources.ts";
import type { LocalClock } from "./clock.ts";

/**
 * The lanes with SQS `DelaySeconds` kept on the local stack's clock. fauxqs delays in real
 * time, which a manual clock cannot move: so a delayed send (a chain's next link within 900 s,
 * a short retry wait) is held here until the clock reaches its time, then sent with no delay.
 * An undelayed send goes straight through. Held messages are lost when the stack stops, as
 * fauxqs loses its messages (the next start requeues open jobs and re-arms chains).
 *
 * @example const lanes = new ClockHeldLanes(new SqsLanes(sqs, queueUrls), clock);
 */
export class ClockHeldLanes implements LaneQueue {
  private readonly stopping = new AbortController();

  constructor(
    private readonly lanes: LaneQueue,
    private readonly clock: LocalClock,
  ) {}

  async send(lane: JobLane, message: JobMessage, delaySeconds: number): Promise<void> {
    if (clampDelay(delaySeconds) === 0) return this.lanes.send(lane, message, 0);
    this.hold(delaySeconds, () => this.lanes.send(lane, message, 0));
  }

  async sendMany(lane: JobLane, messages: JobMessage[], delaySeconds: number): Promise<void> {
    if (clampDelay(delaySeconds) === 0) return this.lanes.sendMany(lane, messages, 0);
    this.hold(delaySeconds, () => this.lanes.sendMany(lane, messages, 0));
  }

  /** Drops what is held: nothing is sent after the stack's clients are gone. */
  stop(): void {
    this.stopping.abort();
  }

  private hold(delaySeconds: number, send: () => Promise<void>): void {
    const { signal } = this.stopping;
    void this.clock.sleep(clampDelay(delaySeconds) * 1000, signal).then(() => {
      if (signal.aborted) return;
      // advance() resolves once the held message is on its lane.
      this.clock.track(send());
    });
  }
}
