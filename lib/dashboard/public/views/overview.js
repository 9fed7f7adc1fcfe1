/** Overview: counts per type and status, completions and failures per minute, metrics, lanes. */
import uPlot from "/assets/vendor/uPlot.esm.js";
import { get } from "../api.js";
import { h, human, replace, table } from "../dom.js";

const OPEN = ["waiting", "ready", "running", "paused"];
const ENDED = ["completed", "failed", "cancelled"];

export function overviewView() {
  const counts = h("div");
  const chartBox = h("div", { class: "chart", id: "throughput-chart" });
  const metrics = h("div");
  const lanes = h("div");
  const note = h("p", { class: "muted" });
  const root = h(
    "section",
    { class: "overview" },
    h("h1", {}, "Overview"),
    h("h2", {}, "Jobs by type"),
    counts,
    h("h2", {}, "Completed and failed attempts per minute, last hour"),
    chartBox,
    h("h2", {}, "Throughput, failure rate, wait and run times (last hour)"),
    metrics,
    h("h2", {}, "Lanes"),
    lanes,
    note,
  );
  let chart;

  async function refresh() {
    const data = await get("/api/overview");
    replace(counts, countsTable(data));
    replace(metrics, metricsTable(data.byType, "type"), metricsTable(data.byLane, "lane"));
    replace(lanes, lanesTable(data.lanes));
    note.textContent = `Open counts are exact (the open index); statuses of the newest ${200} open jobs of a type, and jobs created in the last ${data.windowMinutes} minutes, are read from their records: ${data.read} index entries and records read.`;
    const series = [data.series.minutes, data.series.completed, data.series.failed];
    if (!chart) {
      chart = new uPlot(
        {
          width: Math.max(400, chartBox.clientWidth || 800),
          height: 220,
          series: [
            {},
            { label: "completed", stroke: "#2e7d32", width: 2 },
            { label: "failed", stroke: "#c62828", width: 2 },
          ],
          axes: [{}, { label: "per minute" }],
        },
        series,
        chartBox,
      );
    } else {
      chart.setData(series);
    }
  }
  return { root, refresh };
}

function link(type, status, n) {
  if (!n) return h("span", { class: "muted" }, "0");
  return h("a", { href: `/jobs?${new URLSearchParams({ type, status })}` }, String(n));
}

function countsTable(data) {
  const rows = data.types.map((t) =>
    h(
      "tr",
      { "data-type": t.type },
      h("td", {}, h("a", { href: `/jobs?${new URLSearchParams({ type: t.type })}` }, t.type)),
      h("td", { class: "num" }, String(t.open)),
      OPEN.map((s) =>
        h(
          "td",
          { class: "num" },
          link(t.type, s, t.openByStatus[s]),
          t.open > t.openSampled && t.openByStatus[s] ? "+" : "",
        ),
      ),
      ENDED.map((s) =>
        h(
          "td",
          { class: "num" },
          link(t.type, s, t.recentByStatus[s]),
          t.recentCapped && t.recentByStatus[s] ? "+" : "",
        ),
      ),
    ),
  );
  return table(["type", "open", ...OPEN, ...ENDED.map((s) => `${s} (1 h)`)], rows, {
    class: "counts",
  });
}

function metricsTable(rows, what) {
  return table(
    [
      what,
      "completed",
      "failed",
      "failure rate",
      "per minute",
      "wait p50",
      "wait p95",
      "run p50",
      "run p95",
    ],
    rows.map((r) =>
      h(
        "tr",
        {},
        h("td", {}, r.key),
        h("td", { class: "num" }, String(r.completed)),
        h("td", { class: "num" }, String(r.failed)),
        h("td", { class: "num" }, `${Math.round(r.failureRate * 100)}%`),
        h("td", { class: "num" }, r.throughputPerMinute.toFixed(2)),
        [r.waitP50, r.waitP95, r.runP50, r.runP95].map((v) => h("td", { class: "num" }, human(v))),
      ),
    ),
    { class: `metrics by-${what}` },
  );
}

export function lanesTable(lanes) {
  return table(
    ["lane", "visible", "in flight", "delayed", "DLQ", "longest wait", "workers"],
    lanes.map((l) =>
      h(
        "tr",
        { "data-lane": l.lane },
        h("td", {}, l.lane),
        h("td", { class: "num" }, String(l.visible)),
        h("td", { class: "num" }, String(l.inFlight)),
        h("td", { class: "num" }, String(l.delayed)),
        h("td", { class: `num${l.deadLetters ? " warn" : ""}` }, String(l.deadLetters)),
        h("td", { class: "num" }, human(l.oldestWaitingMs)),
        h("td", {}, l.noWorkers ? h("span", { class: "badge status-failed" }, "no workers") : "ok"),
      ),
    ),
    { class: "lanes" },
  );
}
