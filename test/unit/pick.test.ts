import { describe, expect, it } from "vitest";
import { FairShare, pickDeliverable } from "../../lib/local/pick.ts";
import type { LaneName } from "../../lib/resources.ts";

interface M {
  id: string;
  type: string;
  shop: string;
}
const m = (id: string, type: string, shop: string): M => ({ id, type, shop });
const pick = (buffer: Record<LaneName, M[]>, free: Record<string, number>, fair: FairShare) =>
  pickDeliverable(
    buffer,
    (message) => message.type,
    (type) => free[type] ?? 0,
    (message) => message.shop,
    fair,
  );
const ids = (picked: Record<LaneName, M[]>) =>
  [...picked.critical, ...picked.normal, ...picked.low].map((message) => message.id);

describe("the local poller's pick", () => {
  it("gives a type's free slots to shops in turns, a newcomer first", () => {
    const fair = new FairShare();
    const buffer = {
      critical: [],
      normal: [m("a1", "t", "A"), m("a2", "t", "A"), m("a3", "t", "A"), m("b1", "t", "B")],
      low: [],
    };
    expect(ids(pick(buffer, { t: 1 }, fair))).toEqual(["a1"]);
    // B has not been served: it goes next, though A's messages came first.
    expect(ids(pick(buffer, { t: 1 }, fair))).toEqual(["b1"]);
    expect(ids(pick(buffer, { t: 2 }, fair))).toEqual(["a2", "a3"]);
  });

  it("keeps strict priority per type: no lower lane's job of a type while a higher one waits", () => {
    const fair = new FairShare();
    const buffer = {
      critical: [m("c1", "t", "A"), m("c2", "t", "B")],
      normal: [m("n1", "t", "C"), m("u1", "u", "C")],
      low: [m("l1", "u", "D")],
    };
    const picked = pick(buffer, { t: 1, u: 5 }, fair);
    expect(ids(picked)).toEqual(["c1", "u1", "l1"]);
    expect(buffer.critical.map((message) => message.id)).toEqual(["c2"]);
    expect(buffer.normal.map((message) => message.id)).toEqual(["n1"]);
  });
});
