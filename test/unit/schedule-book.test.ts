/**
 * The schedule book both schedulers arm with (lib/local/scheduler/book.ts): which instants
 * fire, on a manual clock, with no network.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/local/clock.ts";
import { type BookEntry, ScheduleBook } from "../../lib/local/scheduler/book.ts";
import { parseScheduleExpression } from "../../lib/schedule/eventbridge.ts";

const T0 = Date.UTC(2026, 0, 5, 10, 0, 30);
const minute = (m: number) => Date.UTC(2026, 0, 5, 10, m, 0);

function entry(key: string, expression: string, more: Partial<BookEntry<string>> = {}) {
  return {
    key,
    expression: parseScheduleExpression(expression),
    startDate: minute(0),
    enabled: true,
    deleteAfterCompletion: false,
    target: key,
    ...more,
  };
}

function recordingBook(clock: ManualClock, deliver?: () => Promise<void>) {
  const fired: string[] = [];
  const book = new ScheduleBook<string>(clock, {
    fire: (e, at) => {
      fired.push(`${e.target}@${new Date(at).toISOString().slice(11, 19)}`);
      return deliver?.();
    },
  });
  return { book, fired };
}

describe("ScheduleBook", () => {
  it("catches up every instant a wake finds passed, oldest first, each once", async () => {
    const clock = new ManualClock(T0);
    const { book, fired } = recordingBook(clock);
    book.set(entry("a", "rate(1 minute)"));
    book.set(entry("b", "cron(0/2 * * * ? *)"));
    await clock.set(minute(4)); // not started: nothing fires by itself
    expect(fired).toEqual([]);
    expect(book.fireDue()).toBe(6);
    expect(fired).toEqual([
      "a@10:01:00",
      "a@10:02:00",
      "b@10:02:00",
      "a@10:03:00",
      "a@10:04:00",
      "b@10:04:00",
    ]);
    expect(book.fireDue()).toBe(0);
    expect(book.nextFireAt()).toBe(minute(5));
  });

  it("driven by its clock, fires each instant at that instant until stopped", async () => {
    const clock = new ManualClock(T0);
    const seen: number[] = [];
    const book = new ScheduleBook<string>(clock, {
      fire: () => {
        seen.push(clock.now());
        return undefined;
      },
    });
    book.start();
    book.set(entry("a", "rate(1 minute)"));
    await clock.set(minute(3));
    expect(seen).toEqual([minute(1), minute(2), minute(3)]);
    book.stop();
    await clock.set(minute(10));
    expect(seen).toHaveLength(3);
  });

  it("restores a recurring entry from now (no catch-up of downtime), a due at() at once", async () => {
    const clock = new ManualClock(minute(30));
    const { book, fired } = recordingBook(clock);
    book.restore(entry("r", "rate(1 minute)"), minute(1));
    book.restore(entry("once", "at(2026-01-05T10:05:00)"), undefined);
    book.restore(
      entry("spent", "at(2026-01-05T10:04:00)", { deleteAfterCompletion: true }),
      minute(4),
    );
    expect(book.entries().map((e) => e.key)).toEqual(["once", "r"]);
    expect(book.fireDue()).toBe(1);
    expect(fired).toEqual(["once@10:05:00"]);
    expect(book.nextFireAt()).toBe(minute(31));
  });

  it("deletes a completed entry only once its last delivery is done", async () => {
    const clock = new ManualClock(T0);
    let finish!: () => void;
    const delivery = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const { book } = recordingBook(clock, () => delivery);
    book.set(entry("once", "at(2026-01-05T10:01:00)", { deleteAfterCompletion: true }));
    await clock.set(minute(1));
    expect(book.fireDue()).toBe(1);
    expect(book.get("once")).toBeDefined();
    finish();
    await delivery;
    await Promise.resolve();
    expect(book.get("once")).toBeUndefined();
  });

  it("a replaced entry never fires an instant again; a disabled one never fires", async () => {
    const clock = new ManualClock(T0);
    const { book, fired } = recordingBook(clock);
    book.set(entry("a", "rate(1 minute)"));
    await clock.set(minute(2));
    book.fireDue();
    book.set(entry("a", "rate(1 minute)"));
    book.set(entry("off", "rate(1 minute)", { enabled: false, deleteAfterCompletion: true }));
    await clock.set(minute(3));
    book.fireDue();
    expect(fired).toEqual(["a@10:01:00", "a@10:02:00", "a@10:03:00"]);
    expect(book.get("off")).toBeDefined();
  });
});
