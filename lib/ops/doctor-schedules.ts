import type { JobStore } from "../jobs/deps.ts";
import type { DoctorCheck } from "./types.ts";

/** How many refusals the check names; the schedules page lists them all. */
const NAMED = 3;

/**
 * `bgjobs doctor`'s check of refused schedules: a warning while any repeating job was never
 * saved because later.js found no occurrence in its schedule (a shop setting's typo: the
 * API resolved, as Reaction's original did, and the job silently never runs). Reads one item.
 *
 * @example (await refusedSchedulesCheck(store)).level // "warn" while a refusal stands
 */
export async function refusedSchedulesCheck(store: JobStore): Promise<DoctorCheck> {
  const name = "refused schedules";
  try {
    const refusals = await store.scheduleRefusals();
    if (refusals.length === 0)
      return { name, level: "ok", detail: "none: every schedule given had an occurrence" };
    const named = refusals
      .slice(0, NAMED)
      .map(
        (r) =>
          `${r.type}${r.tenant === undefined ? "" : ` (shop ${r.tenant})`}: ${JSON.stringify(r.text)} x${r.count}, last ${new Date(r.at).toISOString()}`,
      );
    const more = refusals.length > NAMED ? `; ${refusals.length - NAMED} more` : "";
    return {
      name,
      level: "warn",
      detail: `${refusals.length} repeating job(s) never saved, later.js found no occurrence: ${named.join("; ")}${more} (bgjobs schedules list)`,
    };
  } catch (error) {
    return { name, level: "warn", detail: `could not read: ${(error as Error).message}` };
  }
}
