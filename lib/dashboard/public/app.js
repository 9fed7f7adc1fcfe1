/**
 * The dashboard's page: one document, a view per path (filters live in the URL), each view
 * refreshed every few seconds while the tab is visible and no dialog is open.
 */
import { ApiError, get } from "./api.js";
import { flash, h, replace } from "./dom.js";
import { jobView } from "./views/job.js";
import { jobsView } from "./views/jobs.js";
import { lanesView } from "./views/lanes.js";
import { overviewView } from "./views/overview.js";
import { schedulesView } from "./views/schedules.js";

const routes = [
  // The server shares one overview between tabs for 8 s: it reads each type's open index.
  { pattern: /^\/$/, nav: "overview", view: overviewView, every: 10_000 },
  { pattern: /^\/jobs$/, nav: "jobs", view: jobsView, every: 3000 },
  { pattern: /^\/jobs\/([^/]+)$/, nav: "jobs", view: jobView, every: 1500 },
  { pattern: /^\/schedules$/, nav: "schedules", view: schedulesView, every: 5000 },
  { pattern: /^\/lanes$/, nav: "lanes", view: lanesView, every: 4000 },
];

const main = document.getElementById("view");
const dialog = document.getElementById("dialog");
let current;
let timer;
let config;

/** Goes to a path of this dashboard without reloading the page. */
export function navigate(path) {
  history.pushState(null, "", path);
  void render();
}

async function render() {
  clearTimeout(timer);
  const path = location.pathname;
  const route = routes.find((r) => r.pattern.test(path));
  for (const link of document.querySelectorAll("[data-nav]"))
    link.classList.toggle("active", link.dataset.nav === route?.nav);
  if (!route) {
    replace(main, h("p", {}, "No such page."));
    return;
  }
  const params = path.match(route.pattern).slice(1).map(decodeURIComponent);
  const view = route.view({
    config,
    navigate,
    params,
    query: new URLSearchParams(location.search),
  });
  current = view;
  replace(main, view.root);
  await refresh(view, route.every);
}

async function refresh(view, every) {
  if (view !== current) return;
  const busy = dialog.open || document.visibilityState !== "visible" || view.busy?.();
  if (!busy) {
    try {
      await view.refresh();
      document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        flash("The session ended: open the URL bgjobs printed again.", "error");
        return;
      }
      flash(error.message, "error");
    }
  }
  if (view === current) timer = setTimeout(() => refresh(view, every), every);
}

function onClick(event) {
  const link = event.target.closest("a[href]");
  if (!link || link.target || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/assets/")) return;
  event.preventDefault();
  navigate(`${url.pathname}${url.search}`);
}

async function onSearch(event) {
  event.preventDefault();
  const q = new FormData(event.target).get("q").trim();
  if (!q) return;
  if (q.includes("=")) {
    const type = new URLSearchParams(location.search).get("type") ?? "";
    if (!type) flash("A data search is within one type: choose a type in the filters first.");
    navigate(`/jobs?${new URLSearchParams({ type, data: q })}`);
    return;
  }
  try {
    await get(`/api/jobs/${encodeURIComponent(q)}`);
    navigate(`/jobs/${encodeURIComponent(q)}`);
  } catch {
    navigate(`/jobs?${new URLSearchParams({ tenant: q })}`);
  }
}

async function start() {
  config = await get("/api/config");
  document.getElementById("title").textContent = config.title;
  const mode = document.getElementById("mode");
  mode.textContent = config.readOnly ? "read-only" : `as ${config.actor}`;
  mode.classList.toggle("read-only", config.readOnly);
  document.body.classList.toggle("read-only", config.readOnly);
  document.addEventListener("click", onClick);
  document.getElementById("search").addEventListener("submit", onSearch);
  window.addEventListener("popstate", () => void render());
  await render();
}

start().catch((error) => flash(`The dashboard could not start: ${error.message}`, "error"));
