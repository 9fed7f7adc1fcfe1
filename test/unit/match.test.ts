import { describe, expect, it } from "vitest";
import { deepEqual, matchesFilter } from "../../lib/jobs/match.ts";
import { validateCancelFilter } from "../../lib/jobs/validate.ts";

const job = {
  _id: "j1",
  type: "sitemaps/generate",
  data: { shopId: "s1", notifyUserId: "u1", deep: { a: [1, { b: 2 }] } },
};

describe("cancelJobs filter matching", () => {
  it("data matches by deep equality regardless of key order", () => {
    const filter = validateCancelFilter({
      type: "sitemaps/generate",
      data: { deep: { a: [1, { b: 2 }] }, notifyUserId: "u1", shopId: "s1" },
    });
    expect(matchesFilter(job, filter)).toBe(true);
  });

  it("data with fewer keys does not match (Reaction's sitemap per-shop case)", () => {
    expect(
      matchesFilter(
        job,
        validateCancelFilter({ type: "sitemaps/generate", data: { shopId: "s1" } }),
      ),
    ).toBe(false);
  });

  it("a dotted key matches one field, nested too", () => {
    expect(
      matchesFilter(job, validateCancelFilter({ type: "sitemaps/generate", "data.shopId": "s1" })),
    ).toBe(true);
    expect(
      matchesFilter(
        job,
        validateCancelFilter({ type: "sitemaps/generate", "data.deep.a": [1, { b: 2 }] }),
      ),
    ).toBe(true);
    expect(
      matchesFilter(job, validateCancelFilter({ type: "sitemaps/generate", "data.shopId": "s2" })),
    ).toBe(false);
    expect(
      matchesFilter(job, validateCancelFilter({ type: "sitemaps/generate", "data.missing": "x" })),
    ).toBe(false);
  });

  it("type and _id must match", () => {
    expect(matchesFilter(job, validateCancelFilter({ type: "other" }))).toBe(false);
    expect(matchesFilter(job, validateCancelFilter({ _id: "j1" }))).toBe(true);
  });

  it("deepEqual distinguishes arrays from objects and order inside arrays", () => {
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ 0: 1 }, [1])).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
  });
});
