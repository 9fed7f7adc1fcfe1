import type { DoctorCheckSpec } from "./doctor.ts";

/** How many refusals the check names; the schedules page lists them all. */
const NAMED = 3;

/**
 * `bgjobs doctor`'s check of refused schedules: a warning while any repeating job was never
 * saved because later.js found no occurrence in its schedule (a shop setting's typo: the
 * API resolved, as Reaction's original did, and the job silently never runs). Reads one item.
 */
export const refusedSchedulesCheck: DoctorCheckSpec = {
  name: "refused schedules",
  needs: ["table"],
  onError: "warn",
  run: async ({ deps }) => {
    const refusals = await deps.jobs.store.scheduleRefusals();
    if (refusals.length === 0) return "none: every schedule given had an occurrence";
    const named = refusals
      .slice(0, NAMED)
      .map(
        (r) =>
          `${r.type}${r.tenant === undefined ? "" : ` (shop ${r.tenant})`}: ${JSON.stringify(r.text)} x${r.count}, last ${new Date(r.at).toISOString()}`,
      );
    const more = refusals.length > NAMED ? `; ${refusals.length - NAMED} more` : "";
    return {
      level: "warn",
      detail: `${refusals.length} repeating job(s) never saved, later.js found no occurrence: ${named.join("; ")}${more} (bgjobs schedules list)`,
    };
  },
};
