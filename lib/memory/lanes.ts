import type { Clock, Delivery, JobMessage, LaneQueue } from "../jobs/deps.ts";
import { clampDelay } from "../jobs/lane-delay.ts";
import { parseJobMessage } from "../jobs/message.ts";
import { LANES, type LaneName } from "../resources.ts";
import { Faults } from "./faults.ts";

/** A message held on a lane. */
export interface StoredMessage {
  messageId: string;
  body: string;
  /** When it can next be received (the clock's epoch ms). */
  visibleAt: number;
  receiveCount: number;
}

export interface MemoryLanesOptions {
  /** Each sent message is stored twice with this probability (SQS is at-least-once). */
  duplicateProbability?: number;
  /** The randomness for `duplicateProbability` (seed it for a reproducible run). Default Math.random. */
  random?: () => number;
  /** A message received more often than this moves to its lane's dead letters, as to a DLQ. */
  maxReceiveCount?: number;
  /** Called after each message is stored (the memory backend's consumer wakes on it). */
  stored?(lane: LaneName): void;
}

/**
 * The lanes in memory, with SQS standard queue behaviour that matters to the lifecycle:
 * delays in whole seconds up to 900, visibility timeouts, receive counts, and on request
 * duplicate deliveries, reordering and failed sends.
 *
 * @example
 * const lanes = new MemoryLanes(clock);
 * await lanes.send("normal", { id: "J1", type: "t" }, 0);
 * const [delivery] = lanes.receive("normal", 10, 30_000);
 */
export class MemoryLanes implements LaneQueue {
  private readonly queues = new Map<LaneName, StoredMessage[]>(LANES.map((lane) => [lane, []]));
  private readonly dead = new Map<LaneName, StoredMessage[]>(LANES.map((lane) => [lane, []]));
  private readonly faults = new Faults<"send" | "sendMany">();
  private duplicates = 0;
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly options: MemoryLanesOptions = {},
  ) {}

  /** The next `count` calls of `operation` throw, having sent nothing. */
  failNext(operation: "send" | "sendMany", count = 1): void {
    this.faults.failNext(operation, count);
  }

  /** The next `count` messages sent are each stored twice. */
  duplicateNext(count = 1): void {
    this.duplicates += count;
  }

  async send(lane: LaneName, message: JobMessage, delaySeconds: number): Promise<void> {
    this.faults.check("send");
    this.put(lane, JSON.stringify(message), delaySeconds);
  }

  async sendMany(lane: LaneName, messages: JobMessage[], delaySeconds: number): Promise<void> {
    this.faults.check("sendMany");
    for (const message of messages) this.put(lane, JSON.stringify(message), delaySeconds);
  }

  /**
   * Stores a body as it is, past the fault hooks: a poison message, or what another sender
   * (the scheduler) delivers.
   */
  put(lane: LaneName, body: string, delaySeconds = 0): void {
    const visibleAt = this.clock.now() + clampDelay(delaySeconds) * 1000;
    const copies = this.takeDuplicate() ? 2 : 1;
    for (let i = 0; i < copies; i += 1) {
      this.lane(lane).push({ messageId: `m${this.nextId++}`, body, visibleAt, receiveCount: 0 });
    }
    this.options.stored?.(lane);
  }

  /**
   * Receives up to `max` visible messages, hiding each for `visibilityMs` (until deleted or
   * its visibility changed). A message over `maxReceiveCount` goes to the dead letters instead.
   */
  receive(lane: LaneName, max: number, visibilityMs: number): Delivery[] {
    const now = this.clock.now();
    const deliveries: Delivery[] = [];
    for (const stored of [...this.lane(lane)]) {
      if (deliveries.length >= max) break;
      if (stored.visibleAt > now) continue;
      if (
        this.options.maxReceiveCount !== undefined &&
        stored.receiveCount >= this.options.maxReceiveCount
      ) {
        this.remove(lane, stored.messageId);
        this.dead.get(lane)?.push(stored);
        continue;
      }
      stored.receiveCount += 1;
      stored.visibleAt = now + visibilityMs;
      deliveries.push({
        messageId: stored.messageId,
        message: parseJobMessage(stored.body),
        body: stored.body,
        receiveCount: stored.receiveCount,
      });
    }
    return deliveries;
  }

  /** Deletes a received message; `false` when it is gone already. */
  delete(lane: LaneName, messageId: string): boolean {
    return this.remove(lane, messageId) !== undefined;
  }

  /** Makes a received message visible again `ms` from now (0: at once). */
  changeVisibility(lane: LaneName, messageId: string, ms: number): void {
    const stored = this.lane(lane).find((m) => m.messageId === messageId);
    if (stored) stored.visibleAt = this.clock.now() + Math.max(0, ms);
  }

  /** Reorders a lane (a standard queue promises no order). */
  shuffle(lane: LaneName, random: () => number = Math.random): void {
    const messages = this.lane(lane);
    for (let i = messages.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [messages[i], messages[j]] = [messages[j] as StoredMessage, messages[i] as StoredMessage];
    }
  }

  /** Copies of the messages on a lane, visible or not. */
  messages(lane: LaneName): StoredMessage[] {
    return this.lane(lane).map((m) => ({ ...m }));
  }

  /** Copies of the messages a lane gave up on (`maxReceiveCount`). */
  deadLetters(lane: LaneName): StoredMessage[] {
    return (this.dead.get(lane) ?? []).map((m) => ({ ...m }));
  }

  /** When the next hidden message on any lane becomes visible, or `undefined`. */
  nextVisibleAt(): number | undefined {
    const now = this.clock.now();
    let next: number | undefined;
    for (const lane of LANES) {
      for (const m of this.lane(lane)) {
        if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
      }
    }
    return next;
  }

  private lane(lane: LaneName): StoredMessage[] {
    return this.queues.get(lane) as StoredMessage[];
  }

  private remove(lane: LaneName, messageId: string): StoredMessage | undefined {
    const messages = this.lane(lane);
    const index = messages.findIndex((m) => m.messageId === messageId);
    return index < 0 ? undefined : messages.splice(index, 1)[0];
  }

  private takeDuplicate(): boolean {
    if (this.duplicates > 0) {
      this.duplicates -= 1;
      return true;
    }
    const p = this.options.duplicateProbability ?? 0;
    return p > 0 && (this.options.random ?? Math.random)() < p;
  }
}
