/**
 * Actions from the page: a count shown before confirming, then the action run on the
 * server (in batches, for "all matching") with a progress bar, then its exact report.
 */
import { follow, post } from "./api.js";
import { flash, h, replace } from "./dom.js";

const dialog = () => document.getElementById("dialog");

/** Counts what `request` would touch, asks, runs it with progress, shows the report. */
export function confirmAndRun(request, label, onDone) {
  const box = dialog();
  replace(box, h("p", {}, `Counting ${label}…`));
  box.showModal();
  post("/api/jobs/count", request).then(
    (count) => {
      const skipped = Object.entries(count.skippedBecause);
      replace(
        box,
        h("h2", {}, `${request.action} ${label}`),
        h(
          "p",
          { class: "count" },
          `${count.capped ? "At least " : ""}${count.matched} jobs match; ${request.action} would change `,
          h("strong", { "data-would-change": count.wouldChange }, String(count.wouldChange)),
          ".",
        ),
        skipped.length > 0 &&
          h(
            "ul",
            {},
            skipped.map(([reason, n]) => h("li", {}, `${n} skipped: ${reason}`)),
          ),
        h("p", { class: "muted" }, `Read ${count.read} index entries and records.`),
        h(
          "div",
          { class: "buttons" },
          h("button", { type: "button", onclick: () => box.close() }, "Cancel"),
          count.wouldChange > 0 &&
            h(
              "button",
              {
                type: "button",
                class: "primary",
                "data-confirm": "",
                onclick: () => run({ ...request, expected: count.matched }, label, onDone),
              },
              `${request.action} ${count.wouldChange}`,
            ),
        ),
      );
    },
    (error) => {
      replace(box, h("p", { class: "error" }, error.message), closeButton());
    },
  );
}

async function run(request, label, onDone) {
  const box = dialog();
  const bar = h("progress", { max: 1, value: 0 });
  const status = h("p", {}, "Starting…");
  let operationId;
  const stop = h(
    "button",
    { type: "button", onclick: () => post(`/api/operations/${operationId}/stop`) },
    "Stop",
  );
  replace(
    box,
    h("h2", {}, `${request.action} ${label}`),
    bar,
    status,
    h("div", { class: "buttons" }, stop),
  );
  try {
    ({ operationId } = await post("/api/jobs/action", request));
    const operation = await follow(operationId, (so) => {
      const report = so.report;
      if (!report) return;
      bar.max = so.total || 1;
      bar.value = report.matched;
      status.textContent = `${report.matched}/${so.total ?? "?"}: changed ${report.changed}, skipped ${report.skipped}, failed ${report.failed}`;
    });
    if (operation.state === "failed") throw new Error(operation.error);
    replace(box, h("h2", {}, "Done"), reportView(operation.report), closeButton());
  } catch (error) {
    replace(box, h("p", { class: "error" }, error.message), closeButton());
  }
  onDone?.();
}

/** Runs one action on one job at once (the job page's buttons); says what happened. */
export async function actOnOne(id, action, params, onDone) {
  try {
    const { operationId } = await post("/api/jobs/action", {
      action,
      target: { ids: [id] },
      ...(params ? { params } : {}),
    });
    const { report, state, error } = await follow(operationId);
    if (state === "failed") throw new Error(error);
    const skipped = Object.keys(report.skippedBecause)[0];
    if (report.changed === 1) flash(`${action}: done`);
    else
      flash(`${action}: nothing changed (${skipped ?? report.failures[0]?.error ?? "?"})`, "warn");
  } catch (error) {
    flash(`${action}: ${error.message}`, "error");
  }
  onDone?.();
}

/** An action's report: the counts, the skip reasons, the failures. */
export function reportView(report) {
  return h(
    "div",
    { class: "report", "data-report": "" },
    h(
      "p",
      {},
      `${report.action}: ${report.matched} matched, `,
      h("strong", { "data-changed": report.changed }, `${report.changed} changed`),
      `, ${report.skipped} skipped, ${report.failed} failed${report.interrupted ? ", stopped" : ""} (${report.ms} ms).`,
    ),
    h(
      "ul",
      {},
      Object.entries(report.skippedBecause).map(([reason, n]) =>
        h("li", {}, `${n} skipped: ${reason}`),
      ),
      report.failures.map((f) => h("li", { class: "error" }, `${f.id}: ${f.error}`)),
    ),
  );
}

function closeButton() {
  return h(
    "div",
    { class: "buttons" },
    h("button", { type: "button", onclick: () => dialog().close() }, "Close"),
  );
}
