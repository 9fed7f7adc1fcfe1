/** Lanes and dead letters: depths, longest wait, "no workers", the DLQ's messages and a redrive. */
import { follow, get, post } from "../api.js";
import { h, replace, table, time } from "../dom.js";
import { lanesTable } from "./overview.js";

export function lanesView({ config }) {
  const lanes = h("div");
  const letters = h("div");
  const redrive = h(
    "button",
    { type: "button", class: "writes", "data-action": "redrive", onclick: () => runRedrive() },
    "Redrive all dead letters…",
  );
  const root = h(
    "section",
    { class: "lanes" },
    h("h1", {}, "Lanes"),
    lanes,
    h("h2", {}, "Dead letters"),
    redrive,
    letters,
  );

  async function runRedrive() {
    const dialog = document.getElementById("dialog");
    const count = letters.querySelectorAll("tr[data-message-id]").length;
    replace(
      dialog,
      h("h2", {}, "Redrive"),
      h(
        "p",
        {},
        `${count} messages: jobs that can still run go back to their lanes, the rest are dropped.`,
      ),
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h(
          "button",
          {
            type: "button",
            class: "primary",
            "data-confirm": "",
            onclick: async () => {
              const bar = h("progress", { max: Math.max(1, count), value: 0 });
              replace(dialog, h("h2", {}, "Redriving"), bar);
              const { operationId } = await post("/api/dlq/redrive", {});
              const operation = await follow(operationId, (so) => {
                if (so.report?.done !== undefined) bar.value = so.report.done;
              });
              const report = operation.report ?? { redriven: [], dropped: [] };
              replace(
                dialog,
                h("h2", {}, "Done"),
                h(
                  "p",
                  { "data-report": "" },
                  `${report.redriven.length} redriven, ${report.dropped.length} dropped.`,
                ),
                h(
                  "ul",
                  {},
                  report.dropped.map((d) => h("li", {}, `${d.messageId}: ${d.reason}`)),
                ),
                h(
                  "div",
                  { class: "buttons" },
                  h("button", { type: "button", onclick: () => dialog.close() }, "Close"),
                ),
              );
              await refresh();
            },
          },
          "Redrive",
        ),
      ),
    );
    dialog.showModal();
  }

  async function refresh() {
    const [stats, dlq] = await Promise.all([get("/api/lanes"), get("/api/dlq")]);
    replace(lanes, lanesTable(stats));
    redrive.hidden = config.readOnly || dlq.length === 0;
    replace(
      letters,
      dlq.length === 0
        ? h("p", { class: "empty" }, "The dead-letter queues are empty.")
        : table(
            [
              "lane",
              "message",
              "job",
              "type",
              "job status",
              "receives",
              "sent (UTC)",
              "a redrive would",
            ],
            dlq.map((l) =>
              h(
                "tr",
                { "data-message-id": l.messageId },
                h("td", {}, l.lane),
                h("td", { class: "mono" }, l.messageId),
                h(
                  "td",
                  {},
                  l.jobId
                    ? h(
                        "a",
                        { href: `/jobs/${encodeURIComponent(l.jobId)}`, class: "mono" },
                        l.jobId,
                      )
                    : h("code", {}, l.body),
                ),
                h("td", {}, l.type ?? ""),
                h("td", {}, l.jobStatus ?? ""),
                h("td", { class: "num" }, String(l.receiveCount)),
                h("td", {}, time(l.sentAt)),
                h("td", {}, l.redrive === "redrive" ? "send it back" : `drop it: ${l.reason}`),
              ),
            ),
          ),
    );
  }
  return { root, refresh };
}
