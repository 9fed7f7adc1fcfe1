/**
 * Small DOM helpers: build elements without HTML strings (so nothing a job holds is ever
 * parsed as markup), and format times and durations the way the CLI does.
 */

/** An element with attributes (`on*` are listeners, `class` the class) and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "value") {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** `2026-01-05 10:00:00` (UTC), as the CLI prints times. */
export function time(iso) {
  return iso ? `${iso.slice(0, 19).replace("T", " ")}` : "";
}

/** `850 ms`, `12.4 s`, `3 min`, `1.5 h`. */
export function human(ms) {
  if (ms === undefined || ms === null) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A status as a coloured badge. */
export function badge(status, extra = {}) {
  return h("span", { class: `badge status-${status}`, ...extra }, status);
}

/** A table from a header and rows of cells (strings or nodes). */
export function table(header, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        header.map((label) => h("th", {}, label)),
      ),
    ),
    h("tbody", {}, rows),
  );
}

/** A short message at the top of the page. */
export function flash(message, kind = "info") {
  const box = document.getElementById("flash");
  replace(box, h("div", { class: `flash ${kind}` }, message));
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => box.replaceChildren(), 6000);
}
