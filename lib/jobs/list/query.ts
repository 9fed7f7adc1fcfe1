import { JobValidationError } from "../../errors.ts";
import type { JobRecord, JobStatus } from "../types.ts";
import { decodeCursor, type Position } from "./cursor.ts";
import { type ListFilter, validateFilter } from "./filter.ts";

/** The largest page a listing returns (a page's records are one `BatchGetItem`). */
export const MAX_LIST_LIMIT = 100;

/** What `listJobs` lists: a type, a tenant, or a tenant's jobs of a type. */
export interface JobListQuery {
  /** At least one of `type` and `tenant`. */
  type?: string;
  tenant?: string;
  /** Inclusive, epoch ms (or ISO 8601). */
  createdFrom?: number;
  /** Inclusive, epoch ms (or ISO 8601). */
  createdTo?: number;
  /** Keeps only records in these statuses (a page may then be shorter than `limit`). */
  statuses?: readonly JobStatus[];
  /** Page size, 1..100. */
  limit: number;
  /** Opaque, from the previous page: continues exactly where it stopped. */
  cursor?: string;
}

export interface JobListPage {
  jobs: JobRecord[];
  /** Present while more may follow. */
  cursor?: string;
  /** What the page cost: index entries evaluated plus records read. */
  read: number;
}

/** A `listJobs` query as checked: the filter (through the one filter parser) and the page. */
export interface ValidListQuery {
  filter: ListFilter;
  limit: number;
  after?: Position;
}

const PAGE_KEYS = ["limit", "cursor"];
const QUERY_KEYS = ["type", "tenant", "createdFrom", "createdTo", "statuses", ...PAGE_KEYS];

/**
 * Checks a `listJobs` query; throws a `JobValidationError` naming the field at fault. Its
 * filter fields go through `validateFilter`, the parser every surface shares.
 *
 * @example validateListQuery({ type: "sendEmail", statuses: ["failed"], limit: 20 })
 */
export function validateListQuery(query: unknown): ValidListQuery {
  if (typeof query !== "object" || query === null || Array.isArray(query))
    throw new JobValidationError("query", "must be an object such as { type, limit }");
  const { limit, cursor, ...fields } = query as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!QUERY_KEYS.includes(key))
      throw new JobValidationError(
        key,
        `is not a listJobs option; expected one of ${QUERY_KEYS.join(", ")}`,
      );
  }
  const filter = validateFilter(fields, undefined, { indexed: true });
  if (filter.type === undefined && filter.tenant === undefined)
    throw new JobValidationError("type, tenant", "at least one of type and tenant is required");
  return {
    filter,
    limit: pageLimit(limit, undefined),
    ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
  };
}

/**
 * A page size from 1 to `MAX_LIST_LIMIT`; `fallback` when none is given (none: required).
 * Throws a `JobValidationError` on `limit`.
 */
export function pageLimit(value: unknown, fallback: number | undefined): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_LIST_LIMIT)
    throw new JobValidationError(
      "limit",
      `must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(value)}`,
    );
  return value;
}
