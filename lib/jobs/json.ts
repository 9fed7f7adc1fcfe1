import { JobValidationError } from "../errors.ts";
import type { JsonObject, JsonValue } from "./types.ts";

/** A plain JSON object as stored, or a `JobValidationError` naming `field` and the path at fault. */
export function jsonObject(value: unknown, field: string): JsonObject {
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Date
  ) {
    throw new JobValidationError(field, "must be a plain object");
  }
  return jsonValue(value, field, new Set()) as JsonObject;
}

/**
 * `value` as a stored JSON value, or a `JobValidationError` naming `field` and the path at fault.
 *
 * @example toJsonValue({ at: new Date(0), gone: undefined }, "result") // { at: "1970-01-01T00:00:00.000Z", gone: null }
 */
export function toJsonValue(value: unknown, field: string): JsonValue {
  return jsonValue(value, field, new Set());
}

/**
 * JSON text with object keys sorted, so `{ a, b }` and `{ b, a }` give the same text.
 *
 * @example canonicalJson({ b: 1, a: [2] }) // '{"a":[2],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * A copy of `value` as MongoDB stored it for Reaction, in JSON: Dates become ISO strings (as
 * `JSON.stringify` does), and so does anything else with a `toJSON()` (a BSON `ObjectId`
 * becomes its hex string); `undefined` becomes `null` at any depth, in arrays and objects
 * alike, as the MongoDB driver's BSON serializer stores it with `ignoreUndefined: false`, its
 * default (js-bson 1.1.6, `lib/bson/parser/serializer.js`: `serializeInto` writes an array's
 * `undefined` as BSON null always, an object's unless `ignoreUndefined`). So a `cancelJobs`
 * filter `{ data: { notifyUserId: undefined, shopId } }` matches `{ notifyUserId: null, shopId }`
 * only, as it did on MongoDB. Functions, symbols, BigInt, NaN, Infinity, other class instances
 * and cycles are refused with the path at fault.
 */
function jsonValue(value: unknown, field: string, ancestors: Set<object>): JsonValue {
  switch (typeof value) {
    case "undefined":
      return null;
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value))
        throw new JobValidationError(field, `must be a finite number, got ${value}`);
      return value;
    case "object": {
      if (value === null) return null;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime()))
          throw new JobValidationError(field, "is an invalid Date");
        return value.toISOString();
      }
      if (ancestors.has(value))
        throw new JobValidationError(field, "contains a cycle; data must be JSON");
      ancestors.add(value);
      try {
        if (Array.isArray(value))
          return value.map((item, i) => jsonValue(item, `${field}[${i}]`, ancestors));
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const toJSON = (value as { toJSON?: unknown }).toJSON;
          if (typeof toJSON === "function")
            return jsonValue(toJSON.call(value, lastKey(field)), field, ancestors);
          throw new JobValidationError(
            field,
            `must be a plain object, got ${proto?.constructor?.name ?? "an object"}`,
          );
        }
        const copy: JsonObject = {};
        for (const [key, item] of Object.entries(value)) {
          // An own "__proto__" key (JSON.parse makes one) must stay a key, not set the prototype.
          Object.defineProperty(copy, key, {
            value: jsonValue(item, `${field}.${key}`, ancestors),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return copy;
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      throw new JobValidationError(field, `cannot be stored as JSON (${typeof value})`);
  }
}

/** The key `JSON.stringify` would hand `toJSON`: the last segment of the path. */
function lastKey(field: string): string {
  return /(?:\.|\[)([^.[\]]*)\]?$/.exec(field)?.[1] ?? "";
}
