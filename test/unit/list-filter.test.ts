import { describe, expect, it } from "vitest";
import { parseArgs } from "../../lib/cli/args.ts";
import { FILTER_FLAGS, filterOf } from "../../lib/cli/jobs.ts";
import { filterFromQuery } from "../../lib/dashboard/api.ts";
import { JobValidationError } from "../../lib/errors.ts";
import { validateFilter } from "../../lib/jobs/list/index.ts";
import { planFilter } from "../../lib/reaction/filter.ts";

const NOW = Date.UTC(2026, 0, 5, 12);

describe("one filter parser behind every surface", () => {
  it("the CLI's flags and the dashboard's query string give the same raw filter and the same valid one", () => {
    const cli = filterOf(
      parseArgs(
        [
          "--type",
          "sendEmail",
          "-s",
          "shop1",
          "--status",
          "failed, ready",
          "--lane",
          "low",
          "--since",
          "1h",
          "--until",
          "2026-01-05T11:30:00Z",
          "--data",
          "order.id=42",
        ],
        FILTER_FLAGS,
      ),
    );
    const dashboard = filterFromQuery(
      new URLSearchParams(
        "type=sendEmail&tenant=shop1&status=failed,%20ready&lane=low&since=1h&until=2026-01-05T11:30:00Z&data=order.id%3D42&cursor=x",
      ),
    );
    expect(cli).toEqual(dashboard);
    expect(validateFilter(cli, NOW)).toEqual({
      type: "sendEmail",
      tenant: "shop1",
      statuses: new Set(["failed", "ready"]),
      lane: "low",
      from: NOW - 3_600_000,
      to: Date.UTC(2026, 0, 5, 11, 30),
      data: { path: ["order", "id"], value: 42, text: "42" },
    });
    // Empty values are not given, on either surface.
    expect(filterFromQuery(new URLSearchParams("type=&status="))).toEqual({});
  });

  it("refuses alike on every surface, naming the field", () => {
    const cli = filterOf(parseArgs(["--status", "doing"], FILTER_FLAGS));
    const dashboard = filterFromQuery(new URLSearchParams("status=doing"));
    for (const raw of [cli, dashboard])
      expect(() => validateFilter(raw, NOW)).toThrow(/^statuses: "doing" is not a status/);
    expect(() => validateFilter({ statuses: ["ready", "doing"] }, NOW)).toThrow(
      expect.objectContaining({ field: "statuses" }),
    );
    expect(() => validateFilter({ statuses: ["ready", "doing"] }, NOW, { indexed: true })).toThrow(
      expect.objectContaining({ field: "statuses[1]" }),
    );
    expect(() => validateFilter({ data: "k=1" }, NOW)).toThrow(JobValidationError);
    expect(() => validateFilter({ createdFrom: "1h" })).toThrow(/createdFrom: must be epoch/);
    expect(() => validateFilter({ createdFrom: "2h", createdTo: "3h" }, NOW)).toThrow(
      /^createdFrom: .* is after createdTo/,
    );
  });

  it("a Mongo filter of the Jobs view translates into the same valid filter", () => {
    const plan = planFilter({
      type: { $in: ["sendEmail", "other"] },
      status: { $in: ["failed", "nope"] },
      created: { $gt: new Date(1000), $lte: 5000.5 },
      "data.shopId": "s1",
    });
    expect(plan.filter).toEqual({ statuses: new Set(["failed"]), from: 1001, to: 5000 });
    expect(plan).toMatchObject({ types: ["sendEmail", "other"], empty: false });
    expect(planFilter({ status: "nope" }).empty).toBe(true);
  });
});
