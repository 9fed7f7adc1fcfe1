import { describe, expect, it } from "vitest";
import { describeSchedule } from "../../lib/schedule/describe.ts";
import { nextFireTimes, parseScheduleExpression } from "../../lib/schedule/eventbridge.ts";
import {
  firstFireAfter,
  laterFireTimes,
  parseScheduleText,
} from "../../lib/schedule/later-text.ts";
import { toScheduleForm } from "../../lib/schedule/translate.ts";

/** later.js texts from its grammar (every N unit, at, on, of, in, between, after/before, also, except). */
function corpus(): string[] {
  const texts = new Set<string>([
    // Reaction's own, and its plugins'
    "every 24 hours",
    "Every 24 hours",
    "every day",
    "every 4 hours",
    "every 1 mins",
    "at 2:00 am",
    "every 5 mins",
    "every 1 second",
  ]);
  const units: Array<[string, number[]]> = [
    ["seconds", [1, 5, 15, 20, 30, 45]],
    ["mins", [1, 2, 3, 5, 7, 10, 12, 15, 20, 25, 30, 45, 90]],
    ["minutes", [4, 6, 8, 9, 11, 13, 17, 40]],
    ["hours", [1, 2, 3, 4, 5, 6, 7, 8, 12, 24, 36]],
    ["days", [1, 2, 3, 5, 7, 10, 15]],
    ["weeks", [1, 2, 3]],
    ["months", [1, 2, 3, 4, 6]],
  ];
  for (const [unit, values] of units) for (const n of values) texts.add(`every ${n} ${unit}`);
  for (const time of [
    "12:00 am",
    "1:30 am",
    "6:00 am",
    "9:15 am",
    "12:00 pm",
    "5:45 pm",
    "11:59 pm",
    "03:00",
    "18:20",
  ]) {
    texts.add(`at ${time}`);
    texts.add(`at ${time} on Mon-Fri`);
    texts.add(`at ${time} every weekend`);
    texts.add(`on the first day of the month at ${time}`);
    texts.add(`on the last day of the month at ${time}`);
    texts.add(`at ${time} except on Sat and Sun`);
  }
  for (const day of ["first", "last", "2nd", "15th", "28th", "31st"]) {
    texts.add(`on the ${day} day of the month`);
    texts.add(`on the ${day} day of the month of Jan,Apr,Jul,Oct`);
  }
  for (const days of ["Mon", "Tue,Thu", "Mon-Fri", "Sat,Sun", "Wed through Fri"]) {
    texts.add(`every 30 minutes on ${days}`);
    texts.add(`at 8:00 am on ${days}`);
  }
  for (const n of [2, 3, 6]) {
    texts.add(`every ${n} hours between the 8th and 18th hour`);
    texts.add(`every ${n} hours after 6th hour`);
    texts.add(`every ${n} hours before 12th hour`);
  }
  for (const n of [5, 10, 15, 30]) {
    for (const days of ["Mon-Fri", "Sat,Sun", "Tue"]) texts.add(`every ${n} mins on ${days}`);
    for (const months of ["Jan", "Mar-May", "Jun,Dec"]) texts.add(`every ${n} mins of ${months}`);
  }
  for (const n of [1, 2, 4, 6]) {
    for (const months of ["Feb", "Jan,Jul", "Sep through Nov"])
      texts.add(`every ${n} hours of ${months}`);
    texts.add(`every ${n} hours on the 1st day of the month`);
    texts.add(`every ${n} hours on Fri`);
  }
  for (const time of ["7:00 am", "4:30 pm", "00:05"]) {
    for (const day of ["1st", "10th", "last"])
      texts.add(`at ${time} on the ${day} day of the month`);
    texts.add(`at ${time} of Jan and Jul`);
    texts.add(`at ${time} in 2027`);
  }
  texts.add("every weekday");
  texts.add("every weekend");
  texts.add("every 5 mins every weekend");
  texts.add("every 15 minutes starting on the 7th min");
  texts.add("every 20 mins starting on the 7th min");
  texts.add("every 30 minutes after 9:00 am before 5:00 pm");
  texts.add("at 10:15 am and 5:30 pm");
  texts.add("at 8:00 am and 8:00 pm");
  texts.add("at 10:15 am also at 5:15pm except on Tuesday");
  texts.add("on the 13th day of the month on Fri");
  texts.add("on the 2nd day instance on Tue at 4:00 am");
  texts.add("on the 100th day of the year");
  texts.add("every 3 months on the 1st day of the month");
  texts.add("at 12:00 am on the last day of the month except of Dec");
  texts.add("every 10 mins on Mon through Fri also every 30 mins on Sat,Sun");
  texts.add("in 2027 every 6 hours");
  return [...texts];
}

const START = new Date("2026-11-28T10:07:30Z");

describe("later.js text -> EventBridge, held against later.js itself", () => {
  const texts = corpus();

  it("translates each text to its form: rate for steps dividing the hour, chain for seconds and weeks, cron otherwise", () => {
    // Texts whose form is known from later's meaning, one group per form; each must translate so.
    const groups: Record<"cron" | "rate" | "chain", string[]> = {
      rate: ["every 15 mins", "every 5 mins", "every 1 hour", "every 30 minutes"],
      chain: ["every 15 seconds", "every 1 second", "every 2 weeks", "every 45 seconds"],
      cron: ["every 7 minutes", "every 24 hours", "at 2:00 am", "at 8:00 am on Mon-Fri"],
    };
    for (const [kind, group] of Object.entries(groups)) {
      for (const text of group) {
        expect(toScheduleForm(parseScheduleText(text, START).schedule).kind, text).toBe(kind);
      }
    }
  });

  it("every translated expression fires at exactly later's next 50 instants", () => {
    const forms = { cron: 0, rate: 0, chain: 0 };
    for (const text of texts) {
      const parsed = parseScheduleText(text, START);
      const form = toScheduleForm(parsed.schedule);
      forms[form.kind] += 1;
      const expected = laterFireTimes(parsed.schedule, START, 50).map((date) => date.toISOString());
      if (form.kind === "chain") {
        // A chain arms later's own next instant each time: the sequence is later's by construction.
        expect(expected.length, text).toBeGreaterThan(0);
        continue;
      }
      // A rate() is created with its StartDate on later's first instant.
      const startDate = firstFireAfter(parsed.schedule, START) as Date;
      const actual = nextFireTimes(form.expression, { after: START, count: 50, startDate }).map(
        (d) => d.toISOString(),
      );
      expect({ text, expression: form.expression, times: actual }).toEqual({
        text,
        expression: form.expression,
        times: expected,
      });
    }
    process.stdout.write(`later.js corpus: ${texts.length} texts -> ${JSON.stringify(forms)}\n`);
    // The comparison above was made for every form, not skipped for most texts.
    expect(forms.cron).toBeGreaterThan(50);
    expect(forms.rate).toBeGreaterThan(5);
  });

  it("keeps later's meaning: every 7 minutes is 0,7,...,56 of each hour, not a 7-minute rate", () => {
    const { schedule } = parseScheduleText("every 7 minutes", START);
    expect(toScheduleForm(schedule)).toEqual({ kind: "cron", expression: "cron(0/7 * * * ? *)" });
    expect(toScheduleForm(parseScheduleText("every 24 hours", START).schedule)).toEqual({
      kind: "cron",
      expression: "cron(0 0 * * ? *)",
    });
    expect(toScheduleForm(parseScheduleText("every 15 mins", START).schedule)).toEqual({
      kind: "rate",
      expression: "rate(15 minutes)",
    });
    expect(toScheduleForm(parseScheduleText("every 15 seconds", START).schedule).kind).toBe(
      "chain",
    );
    expect(toScheduleForm(parseScheduleText("every 2 weeks", START).schedule).kind).toBe("chain");
  });

  it("the first run is the next range after the one scheduling falls in (Reaction's rule)", () => {
    const { schedule } = parseScheduleText("every 1 hour", START);
    expect(firstFireAfter(schedule, START)?.toISOString()).toBe("2026-11-28T11:00:00.000Z");
  });
});

describe("parse errors name the schedule", () => {
  it("refuses text later.js gets nothing from, quoting it and where it stopped", () => {
    expect(() => parseScheduleText("foo bar", START)).toThrow(
      /^schedule: later.js found no schedule in "foo bar" \(it stopped at position 0/,
    );
  });

  it("refuses a schedule with no future occurrence", () => {
    expect(() => parseScheduleText("in 2020", START)).toThrow(
      /^schedule: "in 2020" has no occurrence after/,
    );
  });

  it("accepts a part-way parse with later's meaning and a warning (Reaction's cleanup uses \"every day\")", () => {
    const parsed = parseScheduleText("every day", START);
    expect(parsed.errorAt).toBe(6);
    expect(parsed.warning).toContain('"day" is ignored');
    expect(laterFireTimes(parsed.schedule, START, 2).map((d) => d.toISOString())).toEqual([
      "2026-12-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
    ]);
  });
});

describe("describeSchedule", () => {
  it("gives the EventBridge form, the next fire times and the known surprises", () => {
    const daily = describeSchedule("every day", { count: 2, now: START });
    expect(daily.eventBridge).toBe("cron(0 0 1 * ? *)");
    expect(daily.warnings.join(" ")).toMatch(/gaps are (28|30|31) d/);
    const ninety = describeSchedule("every 90 minutes", { count: 3, now: START });
    expect(ninety.next.map((d) => d.toISOString())).toEqual([
      "2026-11-28T11:00:00.000Z",
      "2026-11-28T12:00:00.000Z",
      "2026-11-28T13:00:00.000Z",
    ]);
    expect(ninety.warnings).toEqual([expect.stringContaining("gaps are 1 h")]);
    const seconds = describeSchedule("every 15 seconds", { now: START });
    expect(seconds.eventBridge).toBe("chained");
    expect(seconds.chainedBecause).toContain("seconds");
  });
});

describe("the EventBridge expression evaluator", () => {
  const after = new Date("2026-01-01T10:40:00Z");
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

  it("evaluates cron with lists, steps, L, # and names", () => {
    expect(iso(nextFireTimes("cron(0/7 * * * ? *)", { after, count: 3 }))).toEqual([
      "2026-01-01T10:42:00.000Z",
      "2026-01-01T10:49:00.000Z",
      "2026-01-01T10:56:00.000Z",
    ]);
    expect(iso(nextFireTimes("cron(0 0 L * ? *)", { after, count: 2 }))).toEqual([
      "2026-01-31T00:00:00.000Z",
      "2026-02-28T00:00:00.000Z",
    ]);
    expect(iso(nextFireTimes("cron(0 4 ? * TUE#2 *)", { after, count: 2 }))).toEqual([
      "2026-01-13T04:00:00.000Z",
      "2026-02-10T04:00:00.000Z",
    ]);
    expect(iso(nextFireTimes("cron(15 10 ? * 6L 2026)", { after, count: 1 }))).toEqual([
      "2026-01-30T10:15:00.000Z",
    ]);
  });

  it("evaluates rate from its StartDate and at() once", () => {
    const startDate = new Date("2026-01-01T10:00:00Z");
    expect(iso(nextFireTimes("rate(15 minutes)", { after, count: 2, startDate }))).toEqual([
      "2026-01-01T10:45:00.000Z",
      "2026-01-01T11:00:00.000Z",
    ]);
    expect(iso(nextFireTimes("at(2026-01-01T10:41:00)", { after, count: 5 }))).toEqual([
      "2026-01-01T10:41:00.000Z",
    ]);
    expect(nextFireTimes("at(2026-01-01T10:39:00)", { after, count: 5 })).toEqual([]);
  });

  it("validates as EventBridge does", () => {
    expect(() => parseScheduleExpression("cron(0 0 * * * *)")).toThrow(
      /exactly one of day-of-month and day-of-week/,
    );
    expect(() => parseScheduleExpression("cron(0 0 ? * ? *)")).toThrow(/exactly one/);
    expect(() => parseScheduleExpression("cron(0 0 * *)")).toThrow(/6 fields/);
    expect(() => parseScheduleExpression("cron(61 0 * * ? *)")).toThrow(/field/);
    expect(() => parseScheduleExpression("cron(0 0 ? * 1/2 *)")).toThrow(/day-of-week takes no/);
    expect(() => parseScheduleExpression("rate(0 minutes)")).toThrow(/rate/);
    expect(() => parseScheduleExpression("rate(5 seconds)")).toThrow(/rate/);
    expect(() => parseScheduleExpression("at(2026-02-30T00:00:00)")).toThrow(/Invalid date/);
    expect(() => parseScheduleExpression("every 5 minutes")).toThrow(/Invalid Schedule Expression/);
  });
});
