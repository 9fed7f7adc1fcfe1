/** Jobs: filters in the URL, cursor pages, selection and "all matching" actions. */
import { confirmAndRun } from "../actions.js";
import { get } from "../api.js";
import { badge, h, replace, table, time } from "../dom.js";

const STATUSES = ["waiting", "paused", "ready", "running", "failed", "cancelled", "completed"];
const BULK = ["retry", "cancel", "pause", "resume", "promote", "delete"];
const SINCE = [
  ["", "any time"],
  ["15m", "last 15 min"],
  ["1h", "last hour"],
  ["24h", "last day"],
  ["7d", "last week"],
];
const FILTERS = ["type", "tenant", "status", "lane", "since", "data"];

export function jobsView({ config, navigate, query }) {
  const selected = new Set();
  const filter = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) ?? ""]));
  const list = h("div", { class: "list" });
  const pager = h("div", { class: "pager" });
  const typeSelect = h(
    "select",
    { name: "type", "aria-label": "type" },
    h("option", { value: "" }, "all types"),
  );
  const form = h(
    "form",
    {
      class: "filters",
      onchange: apply,
      onsubmit: (event) => {
        event.preventDefault();
        apply();
      },
    },
    typeSelect,
    h(
      "select",
      { name: "status", "aria-label": "status" },
      h("option", { value: "" }, "any status"),
      STATUSES.map((s) => h("option", { value: s, selected: filter.status === s }, s)),
    ),
    h(
      "select",
      { name: "lane", "aria-label": "lane" },
      h("option", { value: "" }, "any lane"),
      config.lanes.map((l) => h("option", { value: l, selected: filter.lane === l }, l)),
    ),
    h("input", {
      name: "tenant",
      placeholder: "shop (tenant)",
      value: filter.tenant,
      "aria-label": "tenant",
    }),
    h(
      "select",
      { name: "since", "aria-label": "created" },
      SINCE.map(([v, label]) => h("option", { value: v, selected: filter.since === v }, label)),
    ),
    h("input", {
      name: "data",
      placeholder: "data key=value (one type)",
      value: filter.data,
      "aria-label": "data",
    }),
  );
  const includeRunning = h("input", { type: "checkbox", name: "includeRunning" });
  const actionSelect = h(
    "select",
    { name: "action", "aria-label": "action" },
    BULK.map((a) => h("option", { value: a }, a)),
  );
  const bulk = h(
    "div",
    { class: "bulk writes" },
    actionSelect,
    h(
      "button",
      {
        type: "button",
        "data-bulk": "selected",
        onclick: () => act({ ids: [...selected] }, `${selected.size} selected jobs`),
      },
      "on selected",
    ),
    h(
      "button",
      {
        type: "button",
        "data-bulk": "all",
        onclick: () => act({ filter: filterOf() }, "all matching jobs"),
      },
      "on all matching…",
    ),
    h("label", {}, includeRunning, " include running jobs"),
  );
  const root = h("section", { class: "jobs" }, h("h1", {}, "Jobs"), form, bulk, list, pager);

  get("/api/types").then((types) => {
    for (const type of types)
      typeSelect.append(h("option", { value: type, selected: filter.type === type }, type));
  });

  function filterOf() {
    const f = {};
    if (filter.type) f.type = filter.type;
    if (filter.tenant) f.tenant = filter.tenant;
    if (filter.status) f.statuses = filter.status.split(",");
    if (filter.lane) f.lane = filter.lane;
    if (filter.since) f.createdFrom = filter.since;
    if (filter.data) f.data = filter.data;
    return f;
  }

  function apply() {
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const name of FILTERS) if (data.get(name)) params.set(name, data.get(name));
    navigate(`/jobs${params.size ? `?${params}` : ""}`);
  }

  function act(target, label) {
    if ("ids" in target && target.ids.length === 0) return;
    confirmAndRun(
      { action: actionSelect.value, target, includeRunning: includeRunning.checked },
      label,
      () => selected.clear(),
    );
  }

  async function refresh() {
    const params = new URLSearchParams(query);
    params.set("limit", "25");
    const page = await get(`/api/jobs?${params}`);
    const rows = page.jobs.map((job) =>
      h(
        "tr",
        { "data-job-id": job.id },
        h(
          "td",
          { class: "writes" },
          h("input", {
            type: "checkbox",
            "aria-label": `select ${job.id}`,
            checked: selected.has(job.id),
            onchange: (e) => (e.target.checked ? selected.add(job.id) : selected.delete(job.id)),
          }),
        ),
        h("td", {}, h("a", { href: `/jobs/${encodeURIComponent(job.id)}`, class: "mono" }, job.id)),
        h("td", {}, job.type),
        h("td", {}, badge(job.status)),
        h("td", {}, job.lane),
        h("td", {}, job.tenant ?? ""),
        h("td", {}, time(job.created)),
        h("td", { class: "num" }, String(job.attempts)),
        h("td", { class: "error-text" }, job.lastError ?? ""),
      ),
    );
    replace(
      list,
      rows.length
        ? table(
            ["", "id", "type", "status", "lane", "shop", "created (UTC)", "attempts", "last error"],
            rows,
            { class: "jobs-table" },
          )
        : h("p", { class: "empty" }, "No jobs match."),
    );
    const next = new URLSearchParams(query);
    if (page.cursor) next.set("cursor", page.cursor);
    const first = new URLSearchParams(query);
    first.delete("cursor");
    replace(
      pager,
      h(
        "span",
        { class: "muted" },
        `${page.jobs.length} shown, ${page.read} read${page.complete ? "" : " (stopped at the read limit)"}`,
      ),
      query.get("cursor") && h("a", { href: `/jobs?${first}` }, "first page"),
      page.cursor && h("a", { href: `/jobs?${next}`, "data-next": "" }, "next page"),
    );
  }
  return {
    root,
    refresh,
    busy: () =>
      root.contains(document.activeElement) &&
      document.activeElement.matches("input[type=text], input:not([type])"),
  };
}
