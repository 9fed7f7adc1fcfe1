import { LANES, type LaneName } from "../resources.ts";

/**
 * Which fairness group went longest without a start: each start stamps its group, and the
 * group stamped longest ago (or never) goes first. Kept across rounds, so groups take turns.
 */
export class FairShare {
  private readonly served = new Map<string, number>();
  private sequence = 0;

  /** The group's last start (-1: none yet); lower goes first. */
  lastServed(group: string): number {
    return this.served.get(group) ?? -1;
  }

  serve(group: string): void {
    this.served.delete(group);
    this.served.set(group, this.sequence++);
    // Forget the groups served longest ago once there are many (they count as new again).
    if (this.served.size > 10_000) {
      const oldest = this.served.keys().next().value;
      if (oldest !== undefined) this.served.delete(oldest);
    }
  }
}

/**
 * Which buffered messages to hand over now, for strict priority *per job type* and fairness
 * among tenants: a message of type T goes only into a free slot of T, and while a higher lane
 * holds a message of T that could not go, no message of T goes from a lower lane, however many
 * other types have free slots. Within a lane, T's free slots go to its messages' groups
 * (tenants) in turns, the group served longest ago first, so a shop that queued 500 jobs does
 * not hold back one that queued 5. Messages whose type is unknown (poison) or takes no slot go
 * at once. Removes the picked messages from `buffered`, in order.
 *
 * @example pickDeliverable(buffer, (m) => m.type, (type) => slots.freeFor(type), (m) => m.group)
 */
export function pickDeliverable<M>(
  buffered: Record<LaneName, M[]>,
  typeOf: (message: M) => string | null,
  freeFor: (type: string) => number,
  groupOf: (message: M) => string = () => "",
  fairness: FairShare = new FairShare(),
): Record<LaneName, M[]> {
  const picked: Record<LaneName, M[]> = { critical: [], normal: [], low: [] };
  const blocked = new Set<string>();
  const taken = new Map<string, number>();
  for (const lane of LANES) {
    const chosen = new Set<M>();
    const byType = new Map<string, M[]>();
    for (const message of buffered[lane]) {
      const type = typeOf(message);
      if (type === null) chosen.add(message);
      else {
        const ofType = byType.get(type);
        if (ofType) ofType.push(message);
        else byType.set(type, [message]);
      }
    }
    for (const [type, messages] of byType) {
      if (blocked.has(type)) continue;
      const free = freeFor(type) - (taken.get(type) ?? 0);
      const count = Math.min(Math.max(0, free), messages.length);
      for (const message of takeInTurns(messages, count, groupOf, fairness)) chosen.add(message);
      taken.set(type, (taken.get(type) ?? 0) + count);
      if (count < messages.length) blocked.add(type);
    }
    picked[lane] = buffered[lane].filter((message) => chosen.has(message));
    buffered[lane] = buffered[lane].filter((message) => !chosen.has(message));
  }
  return picked;
}

/** `count` of `messages`, one group at a time, the group served longest ago first. */
function takeInTurns<M>(
  messages: M[],
  count: number,
  groupOf: (message: M) => string,
  fairness: FairShare,
): M[] {
  if (count >= messages.length) {
    for (const message of messages) fairness.serve(groupOf(message));
    return messages;
  }
  const queues = new Map<string, M[]>();
  for (const message of messages) {
    const group = groupOf(message);
    const queue = queues.get(group);
    if (queue) queue.push(message);
    else queues.set(group, [message]);
  }
  const taken: M[] = [];
  while (taken.length < count) {
    let next: string | undefined;
    for (const [group, queue] of queues) {
      if (queue.length === 0) continue;
      if (next === undefined || fairness.lastServed(group) < fairness.lastServed(next))
        next = group;
    }
    if (next === undefined) break;
    taken.push((queues.get(next) as M[]).shift() as M);
    fairness.serve(next);
  }
  return taken;
}
