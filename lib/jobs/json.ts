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
 * @example toJsonValue({ at: new Date(0) }, "result") // { at: "1970-01-01T00:00:00.000Z" }
 */
export function toJsonValue(value: unknown, field: string): JsonValue {
  return jsonValue(value, field, new Set());
}

/**
 * A copy of `value` as JSON would keep it: Dates become ISO strings (as `JSON.stringify` does),
 * `undefined` properties are dropped; functions, symbols, BigInt, NaN, Infinity, class
 * instances and cycles are refused with the path at fault.
 */
function jsonValue(value: unknown, field: string, ancestors: Set<object>): JsonValue {
  switch (typeof value) {
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
          return value.map((item, i) => jsonValue(item ?? null, `${field}[${i}]`, ancestors));
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new JobValidationError(
            field,
            `must be a plain object, got ${proto?.constructor?.name ?? "an object"}`,
          );
        }
        const copy: JsonObject = {};
        for (const [key, item] of Object.entries(value)) {
          if (item === undefined) continue;
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
