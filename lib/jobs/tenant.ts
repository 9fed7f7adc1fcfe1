import type { JsonObject } from "./types.ts";
import { DEFAULT_TENANT_KEY } from "./validate.ts";

/**
 * A job's tenant: the value at its type's tenant key (`data.shopId` unless a plugin named
 * another) when that is a non-empty string; otherwise it has none.
 *
 * @example tenantOf(new Map(), "sendEmail", { shopId: "s1" }) // "s1"
 */
export function tenantOf(
  tenants: ReadonlyMap<string, string>,
  type: string,
  data: JsonObject,
): string | undefined {
  const path = (tenants.get(type) ?? DEFAULT_TENANT_KEY).split(".").slice(1);
  let value: unknown = data;
  for (const part of path) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = Object.hasOwn(value, part) ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === "string" && value !== "" ? value : undefined;
}
