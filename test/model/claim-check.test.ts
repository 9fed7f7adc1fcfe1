import { describe, expect, it } from "vitest";
import { removedPayloadKeys } from "../../lib/aws/payload-purge.ts";
import { JobValidationError } from "../../lib/errors.ts";
import { createJobSystem } from "../../lib/jobs/api.ts";
import { ClaimCheckedStore } from "../../lib/jobs/claim-check.ts";
import { dispatch } from "../../lib/jobs/deliver.ts";
import type { JobStore, RunningJob } from "../../lib/jobs/deps.ts";
import {
  INLINE_DATA_MAX_BYTES,
  MAX_DATA_BYTES,
  PayloadUnavailableError,
  payloadHash,
  payloadKey,
} from "../../lib/jobs/payload.ts";
import type { JobRecord } from "../../lib/jobs/types.ts";
import { MemoryJobStore } from "../../lib/memory/job-store.ts";
import { MemoryLanes } from "../../lib/memory/lanes.ts";
import { FakeClock } from "../support/memory/clock.ts";
import { MemoryPayloads } from "../support/memory/payloads.ts";

/** A job system on in-memory ports whose table keeps large data in `payloads`. */
function system(options: { payloads?: MemoryPayloads | null } = {}) {
  const clock = new FakeClock();
  const table = new MemoryJobStore(clock);
  const payloads =
    options.payloads === null ? undefined : (options.payloads ?? new MemoryPayloads());
  // Each insert notes whether its payload was already written.
  const inserts: Array<{ id: string; payloadWritten: boolean }> = [];
  const watched: JobStore = Object.create(table, {
    insertJob: {
      value: (record: JobRecord) => {
        inserts.push({
          id: record._id,
          payloadWritten: payloads?.objects.has(payloadKey(record._id)) ?? false,
        });
        return table.insertJob(record);
      },
    },
  });
  const store = new ClaimCheckedStore(watched, payloads);
  const lanes = new MemoryLanes(clock);
  const jobs = createJobSystem({
    store,
    lanes,
    logger: { info() {}, warn() {}, error() {} },
    cleanup: new Map(),
    clock,
    settings: { cancelCacheMs: 0 },
  });
  const seen = new Map<string, unknown>();
  void jobs.backgroundJobs.addWorker({
    type: "mail",
    worker: async (job) => {
      seen.set(job._id, (job as unknown as RunningJob).data);
      await job.done();
    },
  });
  /** Delivers what the normal lane holds and waits for the runs to end. */
  const run = async () => {
    await clock.settle();
    await dispatch(jobs.deps, lanes.receive("normal", 10, 30_000));
  };
  return { clock, table, store, payloads, jobs, api: jobs.backgroundJobs, seen, run, inserts };
}

/** `data` whose JSON text is `bytes` long. */
function dataOf(bytes: number, shopId = "shop1") {
  const frame = JSON.stringify({ shopId, html: "" }).length;
  return { shopId, html: "x".repeat(bytes - frame) };
}

describe("the claim check on in-memory ports", () => {
  it("keeps data up to 256 KiB in the record, and writes no object", async () => {
    const { api, table, payloads, run, seen } = system();
    const data = dataOf(INLINE_DATA_MAX_BYTES);
    const job = await api.scheduleJob({ type: "mail", data });
    await run();
    expect(seen.get(job._id)).toEqual(data);
    expect(table.all()[0]?.dataRef).toBeUndefined();
    expect(table.all()[0]?.data).toEqual(data);
    expect(payloads?.objects.size).toBe(0);
  });

  it("puts larger data under the job's key before the record, which keeps the reference; the worker and getJob see it whole", async () => {
    const { api, table, payloads, run, seen, inserts } = system();
    const data = dataOf(INLINE_DATA_MAX_BYTES + 1);
    const text = JSON.stringify(data);
    const job = await api.scheduleJob({ type: "mail", data });
    expect(inserts).toEqual([{ id: job._id, payloadWritten: true }]);
    const [record] = table.all();
    expect(record?.data).toEqual({});
    expect(record?.dataRef).toEqual({
      key: payloadKey(job._id),
      bytes: text.length,
      sha256: payloadHash(text),
    });
    expect(payloads?.objects.get(payloadKey(job._id))).toBe(text);
    await run();
    expect(seen.get(job._id)).toEqual(data);
    expect((await api.getJob(job._id))?.data).toEqual(data);
    expect((await api.getJob(job._id))?._doc.status).toBe("completed");
  });

  it("reads a payload once per process: the claim, the settle and getJob use what it wrote", async () => {
    const { api, table, payloads, run } = system();
    const job = await api.scheduleJob({ type: "mail", data: dataOf(300_000) });
    await run();
    await api.getJob(job._id);
    const gets = () => payloads?.calls.filter((call) => call.startsWith("get")).length;
    expect(gets()).toBe(0);
    // Another process (its own cache) reads it from the bucket once.
    const other = new ClaimCheckedStore(table, payloads);
    await other.getJob(job._id);
    await other.getJobs([job._id]);
    expect(gets()).toBe(1);
  });

  it("a retried insert lands on the same object; a failed one leaves none behind", async () => {
    const { store, table, payloads, api } = system();
    const job = await api.scheduleJob({ type: "mail", data: dataOf(300_000) });
    const record = { ...table.all()[0], data: dataOf(300_000) } as JobRecord;
    expect(await store.insertJob(record)).toBe("exists");
    expect([...(payloads?.objects.keys() ?? [])]).toEqual([payloadKey(job._id)]);
    table.failNext("insertJob");
    const failed = api.scheduleJob({ type: "mail", data: dataOf(400_000, "shop2") });
    await expect(failed).rejects.toThrow();
    expect([...(payloads?.objects.keys() ?? [])]).toEqual([payloadKey(job._id)]);
  });

  it("a rerun writes the data again under the new job's own key", async () => {
    const { api, payloads, run, seen } = system();
    const data = dataOf(300_000);
    const job = await api.scheduleJob({ type: "mail", data });
    await run();
    const done = await api.getJob(job._id);
    const rerunId = await done?.rerun();
    expect(typeof rerunId).toBe("string");
    expect(payloads?.objects.has(payloadKey(rerunId as string))).toBe(true);
    await run();
    expect(seen.get(rerunId as string)).toEqual(data);
  });

  it("cancelJobs matches a claim-checked job on its whole data, never on what the record holds in its place", async () => {
    const { api, clock } = system();
    const big = await api.scheduleJob({ type: "mail", data: dataOf(300_000, "shop-9") });
    await clock.advance(1000);
    // The record's own `data` is `{}`: a filter on `{}` must not take it for an empty job.
    await api.cancelJobs({ type: "mail", data: {} });
    expect((await api.getJob(big._id))?._doc.status).toBe("ready");
    await api.cancelJobs({ type: "mail", "data.shopId": "shop-8" });
    expect((await api.getJob(big._id))?._doc.status).toBe("ready");
    await api.cancelJobs({ type: "mail", "data.shopId": "shop-9" });
    expect((await api.getJob(big._id))?._doc.status).toBe("cancelled");
  });

  it("refuses data over 16 MiB naming data, and writes nothing", async () => {
    const { api, table, payloads } = system();
    const error = await api
      .scheduleJob({ type: "mail", data: dataOf(MAX_DATA_BYTES + 1) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).field).toBe("data");
    expect(table.all()).toEqual([]);
    expect(payloads?.calls).toEqual([]);
  });

  it("without a payload bucket, refuses data that would need one, naming data and the variable", async () => {
    const { api, table } = system({ payloads: null });
    const error = await api
      .scheduleJob({ type: "mail", data: dataOf(300_000) })
      .catch((e: unknown) => e);
    expect((error as JobValidationError).field).toBe("data");
    expect((error as Error).message).toContain("JOBS_PAYLOAD_BUCKET");
    expect(table.all()).toEqual([]);
  });

  it("never hands out data that is not what was written: a changed object is refused, a missing one too", async () => {
    const { api, table, payloads } = system();
    const job = await api.scheduleJob({ type: "mail", data: dataOf(300_000) });
    const key = payloadKey(job._id);
    payloads?.objects.set(key, JSON.stringify(dataOf(300_000, "tampered")));
    // A process that never saw the payload reads it from the bucket and checks its hash.
    await expect(new ClaimCheckedStore(table, payloads).getJob(job._id)).rejects.toThrow(
      PayloadUnavailableError,
    );
    payloads?.objects.delete(key);
    const reader = new ClaimCheckedStore(table, payloads);
    await expect(reader.getJob(job._id)).rejects.toThrow(/missing/);
    // A listing leaves out a record whose payload the purge already took.
    expect(await reader.getJobs([job._id])).toEqual([]);
  });
});

describe("the payload purge's reading of removed records", () => {
  const image = (id: string, key = payloadKey(id)) => ({
    _id: { S: id },
    dataRef: { M: { key: { S: key }, bytes: { N: "1" }, sha256: { S: "x" } } },
  });
  it("deletes the payload of each removed record that had one, its own only", () => {
    expect(
      removedPayloadKeys([
        { eventName: "REMOVE", dynamodb: { OldImage: image("a") } },
        { eventName: "MODIFY", dynamodb: { OldImage: image("b") } },
        { eventName: "REMOVE", dynamodb: { OldImage: { _id: { S: "c" } } } },
        { eventName: "REMOVE", dynamodb: { OldImage: image("d", payloadKey("other")) } },
      ]),
    ).toEqual([payloadKey("a")]);
  });
});
