import type { JsonValue } from "./types.ts";
import type { CancelFilter } from "./validate.ts";

/**
 * Does a job match a `cancelJobs` filter? `data` is compared by deep equality regardless of
 * key order (Reaction compared Mongo documents key-order-sensitively); `data.x` keys match
 * one field, and `null` there (or `undefined`, which validation made `null`) matches a field
 * that is `null` or missing, as MongoDB's `{ "data.x": null }` does. Inside a whole `data`,
 * `null` matches only `null` (embedded-document equality).
 */
export function matchesFilter(
  job: { _id: string; type: string; data: JsonValue },
  filter: CancelFilter,
): boolean {
  if (filter.type !== undefined && job.type !== filter.type) return false;
  if (filter._id !== undefined && job._id !== filter._id) return false;
  if (filter.data !== undefined && !deepEqual(job.data, filter.data)) return false;
  return filter.fields.every(({ path, value }) => {
    const found = valueAt(job.data, path);
    return value === null ? found === null || found === undefined : deepEqual(found, value);
  });
}

function valueAt(value: JsonValue | undefined, path: string[]): JsonValue | undefined {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Structural equality of JSON values; object key order does not matter. */
export function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
}
