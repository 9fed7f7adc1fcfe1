import { describe, expect, it } from "vitest";
import { laneFor, priorityValue } from "../../lib/jobs/priority.ts";

describe("priorities and lanes", () => {
  it("maps Reaction's names to integers", () => {
    expect(["low", "normal", "medium", "high", "critical"].map((p) => priorityValue(p))).toEqual([
      10, 0, -5, -10, -15,
    ]);
    expect(priorityValue(undefined)).toBe(0);
    expect(priorityValue(-3)).toBe(-3);
  });

  it("puts priority <= -10 in critical, >= 10 in low, the rest in normal", () => {
    expect([-15, -10, -9, 0, 9, 10, 50].map(laneFor)).toEqual([
      "critical",
      "critical",
      "normal",
      "normal",
      "normal",
      "low",
      "low",
    ]);
  });

  it("refuses unknown names and non-integers, naming the field", () => {
    expect(() => priorityValue("urgent")).toThrow(/^priority: unknown priority "urgent"/);
    expect(() => priorityValue(2.5)).toThrow(/^priority:/);
  });
});
