import { describe, expect, it } from "vitest";
import { deliveryFront } from "../../lib/jobs/front.ts";

describe("the delivery front the reconciler reads", () => {
  const now = 1_000_000;

  it("is held back by a process's report renewed within three of its report intervals", () => {
    const settings = { staleAfterMs: 60_000, frontReportMs: 10_000 }; // reports every 10 s
    const fronts = [{ processId: "p1", front: now - 120_000, at: now - 25_000 }];
    expect(deliveryFront(settings, fronts, now).front).toBe(now - 120_000);
  });

  it("forgets a report not renewed within three intervals: that process caught up or died", () => {
    // staleAfter 1 s: a lagging process reports every 250 ms, so a report 1 s old is a dead
    // process's (a crashed dispatcher's) and must not keep its runs from being expired.
    const settings = { staleAfterMs: 1000, frontReportMs: 10_000 };
    const fronts = [{ processId: "gone", front: now - 5000, at: now - 1000 }];
    expect(deliveryFront(settings, fronts, now).front).toBe(now - 500);
    const long = [{ processId: "gone", front: now - 5000, at: now - 3000 }];
    expect(deliveryFront(settings, long, now).stale).toEqual(["gone"]);
  });
});
