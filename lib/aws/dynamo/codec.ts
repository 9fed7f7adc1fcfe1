/**
 * How a job record is stored. Attributes in `JSON_ATTRIBUTES` are JSON text: as DynamoDB maps
 * they would not round-trip (its numbers stop at 38 digits between 1e-130 and 1e126, the SDK
 * refuses unsafe integers, and unmarshall turns an own `__proto__` key into a prototype).
 * JSON text keeps any JSON value exactly.
 */
import type { JobRecord } from "../../jobs/types.ts";

const JSON_ATTRIBUTES: readonly string[] = ["data", "result", "failures", "log"];

/** An attribute's value as stored: JSON text for `JSON_ATTRIBUTES`, itself otherwise. */
export function encodeValue(key: string, value: unknown): unknown {
  return JSON_ATTRIBUTES.includes(key) ? JSON.stringify(value) : value;
}

/** A record (or part of one) as an item. */
export function encodeItem(record: Record<string, unknown>): Record<string, unknown> {
  const item: Record<string, unknown> = { ...record };
  for (const key of JSON_ATTRIBUTES) {
    if (item[key] !== undefined) item[key] = JSON.stringify(item[key]);
  }
  return item;
}

/**
 * A stored item as a record. An attribute that is not a string was written before the JSON
 * text encoding (a map or list) and is taken as it is.
 */
export function decodeItem(item: Record<string, unknown> | undefined): JobRecord | null {
  if (!item) return null;
  const record: Record<string, unknown> = { ...item };
  for (const key of JSON_ATTRIBUTES) {
    const value = record[key];
    if (typeof value === "string") record[key] = JSON.parse(value);
  }
  return record as unknown as JobRecord;
}
