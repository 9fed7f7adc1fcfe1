import { JobValidationError } from "../errors.ts";
import type { JsonObject } from "./types.ts";
import { jobType, plainOptions } from "./validate.ts";

export interface TenantRule {
  type: string;
  /** Where the tenant is read from: a `data.` path such as `"data.accountId"`. */
  key: string;
}

/** The tenant key of a type without a rule: Reaction's shop. */
export const DEFAULT_TENANT_KEY = "data.shopId";

/** Checks a plugin's `backgroundJobs.tenants` list: `[{ type, key: "data.accountId" }]`. */
export function validateTenants(tenants: unknown, field: string): TenantRule[] {
  if (tenants === undefined) return [];
  if (!Array.isArray(tenants))
    throw new JobValidationError(field, 'must be an array of { type, key: "data.<field>" }');
  return tenants.map((rule, i) => {
    const entry = plainOptions(rule, `${field}[${i}]`, new Set(["type", "key"]));
    const key = entry.key;
    if (typeof key !== "string" || !/^data(\.[^.]+)+$/.test(key)) {
      throw new JobValidationError(
        `${field}[${i}].key`,
        `must be a path into the job's data such as "data.accountId", got ${JSON.stringify(key)}`,
      );
    }
    return { type: jobType(entry.type, `${field}[${i}].type`), key };
  });
}

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
