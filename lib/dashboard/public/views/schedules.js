/**
 * Schedules: every template's text, EventBridge form, warnings, next fire times and last
 * outcome; then the refused ones (later.js found no occurrence in them: never saved).
 */
import { get, post } from "../api.js";
import { badge, flash, h, replace, table, time } from "../dom.js";

export function schedulesView({ config }) {
  const list = h("div");
  const refusedBox = h("div", { class: "refused" });
  const notes = h("div", { class: "muted" });
  const preview = h("div", { class: "preview" });
  const input = h("input", {
    name: "text",
    placeholder: "later.js text, e.g. every 90 minutes",
    "aria-label": "schedule text",
  });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const next = await get(
            `/api/schedules/next?${new URLSearchParams({ text: input.value })}`,
          );
          replace(
            preview,
            h(
              "p",
              {},
              `EventBridge: ${next.eventBridge}${next.chainedBecause ? ` (${next.chainedBecause})` : ""}`,
            ),
            h(
              "ol",
              {},
              next.next.map((t) => h("li", {}, time(t))),
            ),
            next.warnings.map((w) => h("p", { class: "warn" }, w)),
          );
        } catch (error) {
          replace(preview, h("p", { class: "error" }, error.message));
        }
      },
    },
    input,
    h("button", { type: "submit" }, "preview"),
  );
  const root = h(
    "section",
    { class: "schedules" },
    h("h1", {}, "Schedules"),
    list,
    refusedBox,
    notes,
    h("h2", {}, "Preview a schedule"),
    form,
    preview,
  );

  async function act(id, action) {
    const outcome = await post(`/api/schedules/${encodeURIComponent(id)}/${action}`);
    flash(
      outcome.outcome === "changed"
        ? `${action}: ${outcome.from} → ${outcome.to}${action === "trigger" ? ` (${outcome.id})` : ""}`
        : `${action}: ${outcome.reason}`,
      outcome.outcome === "changed" ? "info" : "warn",
    );
    await refresh();
  }

  async function refresh() {
    const data = await get("/api/schedules");
    replace(
      list,
      data.schedules.length === 0
        ? h("p", { class: "empty" }, "No repeating jobs.")
        : table(
            [
              "template",
              "type",
              "status",
              "schedule",
              "EventBridge",
              "next 5 (UTC)",
              "last occurrence",
              "warnings",
              "",
            ],
            data.schedules.map((s) =>
              h(
                "tr",
                { "data-schedule-id": s.id },
                h(
                  "td",
                  {},
                  h("a", { href: `/jobs/${encodeURIComponent(s.id)}`, class: "mono" }, s.id),
                ),
                h(
                  "td",
                  {},
                  s.type,
                  s.tenant ? h("div", { class: "muted" }, `shop ${s.tenant}`) : "",
                ),
                h("td", {}, badge(s.status)),
                h("td", {}, `"${s.text}"`),
                h(
                  "td",
                  {},
                  s.eventBridge,
                  s.scheduler
                    ? h("div", { class: "muted" }, `${s.scheduler.name}: ${s.scheduler.state}`)
                    : "",
                  s.chainedBecause ? h("div", { class: "muted" }, s.chainedBecause) : "",
                ),
                h(
                  "td",
                  {},
                  h(
                    "ol",
                    { class: "next" },
                    s.next.map((t) => h("li", {}, time(t))),
                  ),
                ),
                h(
                  "td",
                  {},
                  s.lastOccurrence
                    ? h(
                        "a",
                        { href: `/jobs/${encodeURIComponent(s.lastOccurrence.id)}` },
                        badge(s.lastOccurrence.status),
                      )
                    : h("span", { class: "muted" }, "none yet"),
                  s.lastOccurrence?.error
                    ? h("div", { class: "error-text" }, s.lastOccurrence.error)
                    : "",
                ),
                h(
                  "td",
                  {},
                  s.warnings.map((w) => h("div", { class: "warn" }, w)),
                ),
                h(
                  "td",
                  { class: "writes" },
                  config.readOnly
                    ? ""
                    : [
                        s.status === "paused"
                          ? h(
                              "button",
                              {
                                type: "button",
                                "data-action": "resume",
                                onclick: () => act(s.id, "resume"),
                              },
                              "resume",
                            )
                          : h(
                              "button",
                              {
                                type: "button",
                                "data-action": "pause",
                                onclick: () => act(s.id, "pause"),
                              },
                              "pause",
                            ),
                        h(
                          "button",
                          {
                            type: "button",
                            "data-action": "trigger",
                            onclick: () => act(s.id, "trigger"),
                          },
                          "run now",
                        ),
                        h(
                          "button",
                          {
                            type: "button",
                            class: "danger",
                            "data-action": "cancel",
                            onclick: () => act(s.id, "cancel"),
                          },
                          "cancel",
                        ),
                      ],
                ),
              ),
            ),
          ),
    );
    replace(refusedBox, refusedView(data.refused ?? []));
    replace(
      notes,
      data.orphans.map((o) => h("p", {}, `Schedule ${o} has no live template.`)),
      data.skippedTypes.map((t) =>
        h("p", {}, `Type ${t} has too many open jobs to look through for chained templates.`),
      ),
    );
  }
  return { root, refresh, busy: () => form.contains(document.activeElement) };
}

/** The schedules scheduleJob refused: what was asked, why later.js gave no occurrence, how often. */
function refusedView(refused) {
  if (refused.length === 0) return [];
  return [
    h("h2", {}, `Refused (${refused.length})`),
    h(
      "p",
      { class: "muted" },
      "later.js found no occurrence in these schedules, so scheduleJob saved nothing (as Reaction's original did). Fix the text where it comes from, such as a shop's sitemapRefreshPeriod setting; a valid schedule for the same type and data clears the entry.",
    ),
    table(
      ["type", "status", "schedule", "why", "times", "first", "last", "data"],
      refused.map((r) =>
        h(
          "tr",
          { "data-refused-key": r.key },
          h("td", {}, r.type, r.tenant ? h("div", { class: "muted" }, `shop ${r.tenant}`) : ""),
          h("td", {}, badge(r.status)),
          h("td", {}, `"${r.text}"`),
          h("td", {}, h("div", { class: "warn" }, r.error)),
          h("td", {}, String(r.count)),
          h("td", {}, time(r.firstAt)),
          h("td", {}, time(r.lastAt)),
          h("td", {}, r.data ? h("code", {}, JSON.stringify(r.data)) : ""),
        ),
      ),
    ),
  ];
}
