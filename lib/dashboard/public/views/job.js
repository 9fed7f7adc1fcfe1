/** One job: its actions, attempt timeline, log, data, result, failures and audit trail. */
import { actOnOne, confirmAndRun } from "../actions.js";
import { ApiError, get } from "../api.js";
import { badge, h, human, replace, table, time } from "../dom.js";

/** Which buttons a job in a status gets (the server decides again, on the record as it is then). */
const AVAILABLE = {
  failed: ["retry", "delete"],
  cancelled: ["retry", "delete"],
  completed: ["delete"],
  waiting: ["promote", "pause", "cancel"],
  ready: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  running: ["cancel"],
};

export function jobView({ config, params }) {
  const [id] = params;
  const head = h("div", { class: "job-head" });
  const buttons = h("div", { class: "actions writes" });
  const reschedule = rescheduleForm(id, () => refresh());
  const timeline = h("div", { class: "timeline" });
  const body = h("div", { class: "job-body" });
  const root = h(
    "section",
    { class: "job" },
    head,
    buttons,
    reschedule,
    h("h2", {}, "Attempts"),
    timeline,
    body,
  );

  async function refresh() {
    let job;
    try {
      job = await get(`/api/jobs/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        replace(
          head,
          h("h1", {}, `No job ${id}`),
          h("p", {}, "It was deleted, or purged by its cleanup rule."),
        );
        replace(buttons);
        replace(timeline);
        replace(body);
        return;
      }
      throw error;
    }
    replace(
      head,
      h(
        "h1",
        {},
        h("span", { class: "mono" }, job.id),
        " ",
        badge(job.status, { id: "job-status" }),
      ),
      h(
        "p",
        { class: "facts" },
        `${job.type} · lane ${job.lane} (priority ${job.priority})${job.tenant ? ` · shop ${job.tenant}` : ""} · created ${time(job.created)} · due ${time(job.after)} · attempts ${job.attempts}, left ${job.attemptsLeft}`,
        job.templateId &&
          h(
            "span",
            {},
            " · occurrence of ",
            h("a", { href: `/jobs/${job.templateId}` }, job.templateId),
          ),
        job.repeat && ` · repeats "${job.repeat.schedule}"`,
      ),
    );
    if (!config.readOnly) {
      replace(
        buttons,
        (AVAILABLE[job.status] ?? []).map((action) =>
          h(
            "button",
            {
              type: "button",
              "data-action": action,
              class: action === "delete" || action === "cancel" ? "danger" : "",
              onclick: () =>
                action === "delete"
                  ? confirmAndRun({ action, target: { ids: [id] } }, `job ${id}`, refresh)
                  : actOnOne(id, action, undefined, refresh),
            },
            action === "promote" ? "run now" : action,
          ),
        ),
      );
      reschedule.hidden =
        !["waiting", "ready", "paused"].includes(job.status) || Boolean(job.repeat);
    }
    replace(timeline, timelineOf(job.attemptHistory));
    replace(
      body,
      section("Data", h("pre", { class: "json" }, JSON.stringify(job.data, null, 2))),
      job.result &&
        section("Result", h("pre", { class: "json" }, JSON.stringify(job.result, null, 2))),
      section(
        `Log (${job.log.length})`,
        job.log.length
          ? table(
              ["time (UTC)", "level", "run", "message"],
              job.log.map((e) =>
                h(
                  "tr",
                  { class: `level-${e.level}` },
                  h("td", {}, time(e.time)),
                  h("td", {}, e.level),
                  h("td", { class: "mono" }, e.runId ?? ""),
                  h("td", {}, e.message),
                ),
              ),
            )
          : h("p", { class: "muted" }, "No log entries."),
      ),
      job.failures.length > 0 &&
        section(
          "Failures",
          h(
            "ol",
            {},
            job.failures.map((f) => h("li", {}, String(f.value ?? JSON.stringify(f)))),
          ),
        ),
      section(
        "Audit trail",
        job.audit.length
          ? table(
              ["when (UTC)", "who", "what", "change", "detail"],
              job.audit.map((a) =>
                h(
                  "tr",
                  {},
                  h("td", {}, time(a.at)),
                  h("td", {}, a.actor),
                  h("td", {}, a.action),
                  h("td", {}, `${a.from} → ${a.to}`),
                  h("td", {}, a.detail ?? ""),
                ),
              ),
              { class: "audit" },
            )
          : h("p", { class: "muted" }, "No operator has acted on this job."),
      ),
    );
  }
  return { root, refresh, busy: () => reschedule.contains(document.activeElement) };
}

function section(title, content) {
  return h("section", {}, h("h2", {}, title), content);
}

/** Each attempt as a bar: its wait (grey) then its run (coloured by how it ended), to scale. */
function timelineOf(attempts) {
  if (attempts.length === 0) return h("p", { class: "muted" }, "No attempt yet.");
  const longest = Math.max(1, ...attempts.map((a) => (a.waitMs ?? 0) + (a.durationMs ?? 0)));
  return h(
    "ol",
    { class: "attempts" },
    attempts.map((a, i) => {
      const wait = h("span", { class: "wait", title: `waited ${human(a.waitMs)}` });
      const run = h("span", {
        class: `run outcome-${a.outcome.replace(" ", "-")}`,
        title: `${a.outcome} after ${human(a.durationMs)}`,
      });
      // Widths through the CSSOM (allowed by the CSP), never a style attribute.
      wait.style.width = `${(100 * (a.waitMs ?? 0)) / longest}%`;
      run.style.width = `${Math.max(0.5, (100 * (a.durationMs ?? 0)) / longest)}%`;
      return h(
        "li",
        { "data-outcome": a.outcome },
        h("div", { class: "bar" }, wait, run),
        h(
          "div",
          { class: "attempt-facts" },
          `#${i + 1} `,
          h("strong", {}, a.outcome),
          ` · started ${time(a.startedAt)} · ran ${human(a.durationMs)}${a.waitMs !== undefined ? ` · waited ${human(a.waitMs)}` : ""} · run `,
          h("span", { class: "mono" }, a.runId),
          a.error && h("div", { class: "error-text" }, a.error),
        ),
      );
    }),
  );
}

function rescheduleForm(id, onDone) {
  const form = h(
    "form",
    {
      class: "reschedule writes",
      hidden: true,
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const params = {};
        if (data.get("after")) params.after = new Date(`${data.get("after")}Z`).toISOString();
        if (data.get("priority")) params.priority = data.get("priority");
        if (data.get("retries")) params.retries = Number(data.get("retries"));
        void actOnOne(id, "reschedule", params, onDone);
      },
    },
    h("span", {}, "Reschedule: "),
    h("label", {}, "due (UTC) ", h("input", { type: "datetime-local", name: "after", step: 1 })),
    h(
      "label",
      {},
      " priority ",
      h(
        "select",
        { name: "priority" },
        h("option", { value: "" }, "unchanged"),
        ["critical", "high", "medium", "normal", "low"].map((p) => h("option", { value: p }, p)),
      ),
    ),
    h(
      "label",
      {},
      " attempts left ",
      h("input", { type: "number", name: "retries", min: 0, step: 1 }),
    ),
    h("button", { type: "submit" }, "apply"),
  );
  return form;
}
