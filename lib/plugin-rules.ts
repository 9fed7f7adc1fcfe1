import { JobValidationError } from "./errors.ts";
import { validateTenants } from "./jobs/tenant.ts";
import { validateCleanup } from "./jobs/validate.ts";

const REGISTRATION_KEYS = ["cleanup", "tenants"];

/**
 * The plugins' `registerPlugin({ backgroundJobs: { cleanup, tenants } })` rules, collected for
 * the job system: purge-after days and tenant key paths by job type. Both hosts (the own
 * `App` and the Reaction plugin's `registerPluginHandler`) read registrations through it.
 *
 * @example
 * const rules = new PluginRules();
 * rules.add("sitemap-generator", { cleanup: [{ type: "sitemaps/generate", purgeAfterDays: 3 }] });
 * rules.cleanup.get("sitemaps/generate"); // 3
 */
export class PluginRules {
  readonly cleanup = new Map<string, number>();
  readonly tenants = new Map<string, string>();

  /**
   * Validates one plugin's `backgroundJobs` and adds its rules. Throws a `JobValidationError`
   * naming `<plugin>.backgroundJobs.<field>` (nothing is added then); a type given a tenant key
   * other than the one another plugin gave it is refused.
   */
  add(pluginName: string, registration: unknown): void {
    if (registration === undefined) return;
    const field = `${pluginName}.backgroundJobs`;
    if (typeof registration !== "object" || registration === null || Array.isArray(registration))
      throw new JobValidationError(field, "must be an object such as { cleanup: [...] }");
    for (const key of Object.keys(registration)) {
      if (!REGISTRATION_KEYS.includes(key))
        throw new JobValidationError(
          `${field}.${key}`,
          `is not supported; expected ${REGISTRATION_KEYS.join(" or ")}`,
        );
    }
    const { cleanup, tenants } = registration as { cleanup?: unknown; tenants?: unknown };
    const rules = validateCleanup(cleanup, `${field}.cleanup`);
    const keys = validateTenants(tenants, `${field}.tenants`);
    for (const [i, { type, key }] of keys.entries()) {
      const known = this.tenants.get(type);
      if (known !== undefined && known !== key)
        throw new JobValidationError(
          `${field}.tenants[${i}]`,
          `"${type}" already has tenant key "${known}"`,
        );
    }
    for (const rule of rules) this.cleanup.set(rule.type, rule.purgeAfterDays);
    for (const { type, key } of keys) this.tenants.set(type, key);
  }
}
