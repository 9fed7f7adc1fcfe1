import { describe, expect, it } from "vitest";
import { createApp } from "../../lib/index.ts";
import { createJobSystem } from "../../lib/jobs/api.ts";
import { listJobs } from "../../lib/jobs/list/index.ts";
import { messageGroup } from "../../lib/jobs/message.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { FakeClock } from "../support/memory/clock.ts";

const silent = { info() {}, warn() {}, error() {} };

function system(tenants: Map<string, string> = new Map()) {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const store = new MemoryJobStore(clock);
  const { backgroundJobs } = createJobSystem({
    store,
    lanes: new MemoryLanes(clock),
    logger: silent,
    cleanup: new Map(),
    tenants,
    clock,
  });
  return { store, backgroundJobs };
}

describe("a job's tenant", () => {
  it("is data.shopId when that is a non-empty string, and nothing otherwise", async () => {
    const { store, backgroundJobs } = system();
    const cases = [{ shopId: "s1" }, { shopId: "" }, { shopId: 7 }, { shop: "s1" }, {}];
    const tenants = [];
    for (const data of cases) {
      const job = await backgroundJobs.scheduleJob({ type: "t", data });
      tenants.push((await store.getJob(job._id))?.tenant);
    }
    expect(tenants).toEqual(["s1", undefined, undefined, undefined, undefined]);
  });

  it("is read at the key a plugin names for its type; other types keep data.shopId", async () => {
    const { store, backgroundJobs } = system(new Map([["mail", "data.account.id"]]));
    const data = { shopId: "s1", account: { id: "acc9" } };
    const mail = await backgroundJobs.scheduleJob({ type: "mail", data });
    const other = await backgroundJobs.scheduleJob({ type: "other", data });
    expect((await store.getJob(mail._id))?.tenant).toBe("acc9");
    expect((await store.getJob(other._id))?.tenant).toBe("s1");
    const listed = await listJobs(store, { tenant: "acc9", limit: 10 });
    expect(listed.jobs.map((job) => job._id)).toEqual([mail._id]);
  });
});

describe("registerPlugin backgroundJobs.tenants", () => {
  it.each([
    ["not an array", { type: "a", key: "data.x" }, "p.backgroundJobs.tenants"],
    ["missing type", [{ key: "data.x" }], "p.backgroundJobs.tenants[0].type"],
    ["a key outside data", [{ type: "a", key: "shopId" }], "p.backgroundJobs.tenants[0].key"],
    ["an empty path part", [{ type: "a", key: "data..x" }], "p.backgroundJobs.tenants[0].key"],
    ["data itself", [{ type: "a", key: "data" }], "p.backgroundJobs.tenants[0].key"],
    ["an unknown option", [{ type: "a", key: "data.x", by: 1 }], "by"],
  ])("refuses %s, naming the field", (_case, tenants, field) => {
    const host = createApp({ backgroundJobs: { local: { quiet: true } } });
    expect(() =>
      host.registerPlugin({ name: "p", backgroundJobs: { tenants: tenants as never } }),
    ).toThrow(expect.objectContaining({ field }));
  });

  it("refuses a second plugin naming another key for the same type", () => {
    const host = createApp({ backgroundJobs: { local: { quiet: true } } });
    host.registerPlugin({ name: "p", backgroundJobs: { tenants: [{ type: "a", key: "data.x" }] } });
    host.registerPlugin({ name: "q", backgroundJobs: { tenants: [{ type: "a", key: "data.x" }] } });
    expect(() =>
      host.registerPlugin({
        name: "r",
        backgroundJobs: { tenants: [{ type: "a", key: "data.y" }] },
      }),
    ).toThrow(/r\.backgroundJobs\.tenants\[0\]: "a" already has tenant key "data\.x"/);
  });
});

describe("a message's fairness group (its SQS MessageGroupId)", () => {
  it("is the tenant, the type for a job without one, and a hash for what SQS would refuse", () => {
    expect(messageGroup({ type: "mail", tenant: "shop-1" })).toBe("shop-1");
    expect(messageGroup({ type: "mail" })).toBe("type:mail");
    const long = messageGroup({ type: "mail", tenant: "x".repeat(129) });
    const spaced = messageGroup({ type: "mail", tenant: "shop 1" });
    const accented = messageGroup({ type: "mail", tenant: "boutique-é" });
    for (const group of [long, spaced, accented]) expect(group).toMatch(/^#[0-9a-z]+$/);
    expect(new Set([long, spaced, accented]).size).toBe(3);
    expect(messageGroup({ type: "mail", tenant: "shop 1" })).toBe(spaced);
  });
});
