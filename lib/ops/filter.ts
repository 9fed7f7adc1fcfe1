import { FILTER_FIELDS, type JobFilter } from "../jobs/list/index.ts";

export {
  instant,
  type JobFilter,
  type ListFilter as ValidFilter,
  validateFilter,
} from "../jobs/list/index.ts";

/** The names a surface gives the filter's fields (`--status`, `?since=`), where they differ. */
const SURFACE_NAMES: Record<(typeof FILTER_FIELDS)[number], string> = {
  type: "type",
  tenant: "tenant",
  statuses: "status",
  lane: "lane",
  createdFrom: "since",
  createdTo: "until",
  data: "data",
};

/**
 * The raw filter a surface gives by name (the CLI's flags, the dashboard's query string: `type`,
 * `tenant`, `status=a,b`, `lane`, `since`, `until`, `data`). Both surfaces hand it to the one
 * parser, `validateFilter`, so they accept and refuse alike. Empty values are left out.
 *
 * @example filterFromSurface((name) => url.searchParams.get(name))
 */
export function filterFromSurface(given: (name: string) => string | null | undefined): JobFilter {
  const filter: Record<string, string> = {};
  for (const field of FILTER_FIELDS) {
    const value = given(SURFACE_NAMES[field]);
    if (value !== undefined && value !== null && value !== "") filter[field] = value;
  }
  return filter as JobFilter;
}
