import { JobValidationError } from "../errors.ts";
import { DOCUMENT_FIELDS } from "./documents.ts";
import { isPlainObject } from "./filter.ts";

/** A sort: field -> 1 (ascending) or -1 (descending), in order of precedence. */
export type SortSpec = Record<string, 1 | -1>;
/** A projection: field -> 1 (keep) or 0 (drop). */
export type Projection = Record<string, 0 | 1 | boolean>;

export interface FindOptions {
  projection?: Projection;
  sort?: SortSpec;
  skip?: number;
  limit?: number;
}

const DIRECTIONS: Record<string, 1 | -1> = {
  "1": 1,
  "-1": -1,
  asc: 1,
  desc: -1,
  ascending: 1,
  descending: -1,
};
/** Driver options that change nothing in a read of the view. */
const IGNORED_OPTIONS = new Set([
  "batchSize",
  "comment",
  "hint",
  "maxTimeMS",
  "readConcern",
  "readPreference",
  "session",
]);

/**
 * Checks `find`/`findOne` options: `projection` (or the 3.x driver's `fields`), `sort`,
 * `skip`, `limit`; options that change nothing in a read are ignored; any other is refused,
 * naming it.
 */
export function checkFindOptions(options: unknown): FindOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options))
    throw new JobValidationError("options", "must be an object such as { sort, limit }");
  const valid: FindOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || IGNORED_OPTIONS.has(key)) continue;
    if (key === "projection" || key === "fields") valid.projection = checkProjection(value);
    else if (key === "sort") valid.sort = checkSort(value);
    else if (key === "skip" || key === "limit") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
        throw new JobValidationError(`options.${key}`, "must be a non-negative whole number");
      valid[key] = value;
    } else
      throw new JobValidationError(
        `options.${key}`,
        "is not supported by the Jobs view; it takes projection, sort, skip and limit",
      );
  }
  return valid;
}

/** `{ field: 1 | -1 }`, `[[field, 1]]` or `[field, 1]` -> `{ field: 1 | -1 }`. */
export function checkSort(sort: unknown): SortSpec {
  const pairs: unknown[] = isPlainObject(sort)
    ? Object.entries(sort)
    : Array.isArray(sort) && typeof sort[0] === "string"
      ? [sort]
      : Array.isArray(sort)
        ? sort
        : [null];
  const spec: SortSpec = {};
  for (const pair of pairs) {
    if (!Array.isArray(pair) || typeof pair[0] !== "string")
      throw new JobValidationError("sort", "must be { field: 1 | -1 } or [[field, 1 | -1]]");
    const [field, direction] = pair as [string, unknown];
    checkField(field, `sort.${field}`);
    const value = DIRECTIONS[String(direction).toLowerCase()];
    if (value === undefined)
      throw new JobValidationError(`sort.${field}`, 'must be 1, -1, "asc" or "desc"');
    spec[field] = value;
  }
  return spec;
}

/**
 * `{ field: 1 }` (keep) or `{ field: 0 }` (drop); projection operators are refused. A field
 * jobs do not have is kept as Mongo keeps it: `getPaginatedResponse` projects `{ undefined: 1 }`
 * when no `sortBy` is given.
 */
export function checkProjection(projection: unknown): Projection {
  if (!isPlainObject(projection))
    throw new JobValidationError("projection", "must be an object such as { status: 1 }");
  for (const [field, value] of Object.entries(projection)) {
    if (field.startsWith("$") || field.includes(".$"))
      throw new JobValidationError(
        `projection.${field}`,
        "projection operators are not supported by the Jobs view",
      );
    if (![0, 1, true, false].includes(value as number | boolean))
      throw new JobValidationError(`projection.${field}`, "must be 1 (keep) or 0 (drop)");
  }
  return projection as Projection;
}

function checkField(field: string, where: string): void {
  if (field.startsWith("$") || !DOCUMENT_FIELDS.has(field.split(".")[0] as string))
    throw new JobValidationError(where, "is not a field of a job document");
}
