import { LANES, type LaneName } from "../resources.ts";

/**
 * Which buffered messages to hand over now, for strict priority *per job type*: a message of
 * type T goes only into a free slot of T, and while a higher lane holds a message of T that
 * could not go, no message of T goes from a lower lane, however many other types have free
 * slots. Messages whose type is unknown (poison) or takes no slot go at once. Removes the
 * picked messages from `buffered`, in order.
 *
 * @example pickDeliverable(buffer, (m) => m.type, (type) => slots.freeFor(type))
 */
export function pickDeliverable<M>(
  buffered: Record<LaneName, M[]>,
  typeOf: (message: M) => string | null,
  freeFor: (type: string) => number,
): Record<LaneName, M[]> {
  const picked: Record<LaneName, M[]> = { critical: [], normal: [], low: [] };
  const blocked = new Set<string>();
  const taken = new Map<string, number>();
  for (const lane of LANES) {
    const kept: M[] = [];
    for (const message of buffered[lane]) {
      const type = typeOf(message);
      if (type === null) {
        picked[lane].push(message);
        continue;
      }
      const used = taken.get(type) ?? 0;
      if (!blocked.has(type) && freeFor(type) - used > 0) {
        picked[lane].push(message);
        taken.set(type, used + 1);
      } else {
        blocked.add(type);
        kept.push(message);
      }
    }
    buffered[lane] = kept;
  }
  return picked;
}
