/**
 * Every key and name the system builds: schedule names, occurrence ids, index shard keys, and
 * the job table's reserved ids and prefixes. One file, so a name is never built two ways
 * (EventBridge schedule names: `[0-9a-zA-Z-_.]`, 64 at most). Both job stores import it.
 */
import { createHash } from "node:crypto";
import { jobTable } from "../resources.ts";
import { canonicalJson } from "./json.ts";

// ---- the job table's own items: ids starting with `#` (job ids never do) -----------------------

/** Every reserved id starts with this; a job id never does (ids are alphanumeric). */
const RESERVED_ID_START = "#";
/** A type's cancel log is the item `CANCEL_LOG_PREFIX + type`. */
export const CANCEL_LOG_PREFIX = "#cancels#";
/** The `open` index partition (`openKey`) every cancel log sits in, due at its oldest request. */
export const CANCEL_LOGS_KEY = "#cancels";
/**
 * The types registry: one item whose string set `types` holds every job type ever inserted,
 * so a listing by tenant knows which types to read.
 */
export const TYPES_REGISTRY_ID = "#types";
/** Where processes report their delivery fronts: `PROGRESS_SHARDS` items, an attribute each. */
export const PROGRESS_PREFIX = "#progress#";
/** How many progress items the fronts spread over (one hot item would throttle). */
export const PROGRESS_SHARDS = 8;
/** A front's attribute on its progress item: this prefix, then the process id. */
export const FRONT_ATTRIBUTE_PREFIX = "f_";
/** Where the reconciler keeps the position a pass cut short stopped at. */
export const RECONCILER_ID = "#reconciler";
/**
 * The schedule refusals: one item, three attributes a refusal (its note, its count, when it
 * was first refused), each named by a prefix and the refusal's key. One item, so the schedules
 * page and `bgjobs doctor` read every refusal with one `GetItem`.
 */
export const SCHEDULE_REFUSALS_ID = "#refusals";
export const REFUSAL_NOTE_PREFIX = "r_";
export const REFUSAL_COUNT_PREFIX = "n_";
export const REFUSAL_FIRST_PREFIX = "f_";
/** `dueAt` of a paused job: in the `open` index (cancellable), never due. */
export const NEVER_DUE = Number.MAX_SAFE_INTEGER;

/** Is this one of the table's own items (a cancel log, the registry...), never a job? */
export function isReservedId(id: string): boolean {
  return id.startsWith(RESERVED_ID_START);
}

/** The id of a type's cancel log. */
export function cancelLogIdFor(type: string): string {
  return CANCEL_LOG_PREFIX + type;
}

/** The type whose cancel log this id is, or `undefined` for any other id. */
export function typeOfCancelLog(id: string): string | undefined {
  return id.startsWith(CANCEL_LOG_PREFIX) ? id.slice(CANCEL_LOG_PREFIX.length) : undefined;
}

/**
 * The progress item a process reports its front to.
 *
 * @example progressIdFor("lambda-1") // "#progress#4"
 */
export function progressIdFor(processId: string): string {
  return PROGRESS_PREFIX + (stableHash(processId) % PROGRESS_SHARDS);
}

/** Every progress item's id. */
export function progressIds(): string[] {
  return Array.from({ length: PROGRESS_SHARDS }, (_, i) => PROGRESS_PREFIX + i);
}

/**
 * A schedule refusal's key: the job's type and a hash of its data (key order aside), so a
 * later valid schedule of the same type and data finds and clears it, whatever text it had.
 *
 * @example refusalKeyFor("sitemaps/generate", { shopId: "s1" }) // "sitemaps/generate#3f0c..."
 */
export function refusalKeyFor(type: string, data: unknown): string {
  const hash = createHash("sha256").update(canonicalJson(data)).digest("hex").slice(0, 16);
  return `${type}#${hash}`;
}

// ---- schedule names and occurrence ids ----------------------------------------------------------

/** A template's recurring schedule. */
export function recurringName(templateId: string): string {
  return `job-${templateId}`;
}

/** A one-time schedule for a job at an instant (a long wait, or a chain's next link). */
export function onceName(jobId: string, at: number): string {
  return `at-${jobId}-${Math.floor(at / 1000)}`;
}

/**
 * An occurrence's id: its template's and the instant it fired for, so a duplicate firing
 * makes nothing new.
 *
 * @example occurrenceIdFor("T", Date.UTC(2026, 0, 1)) // "T-20260101T000000Z"
 */
export function occurrenceIdFor(templateId: string, firedAt: number): string {
  return `${templateId}-${new Date(firedAt).toISOString().replace(/[-:]|\.\d{3}/g, "")}`;
}

// ---- index shard keys ---------------------------------------------------------------------------

/**
 * A string's 32-bit FNV-1a hash (over UTF-16 code units): the same in every process and
 * language runtime that follows it, so index shards never depend on a seed.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A job's shard among `shards`, for good: a job with a tenant in one of its tenant's
 * `tenantShards` consecutive shards (by its id), one without a tenant in any (by its id).
 */
function shardOf(id: string, tenant: string | undefined, shards: number, tenantShards: number) {
  if (tenant === undefined) return stableHash(id) % shards;
  return (stableHash(tenant) + (stableHash(id) % tenantShards)) % shards;
}

/** A tenant's shards among `shards` (all of them without a tenant). */
function shardsOf(tenant: string | undefined, shards: number, tenantShards: number): number[] {
  if (tenant === undefined) return Array.from({ length: shards }, (_, i) => i);
  const first = stableHash(tenant);
  return Array.from({ length: tenantShards }, (_, i) => (first + i) % shards);
}

/**
 * The `byType` partition key of a job: one of 16 shards of its type, one of its tenant's 4
 * when it has a tenant.
 *
 * @example typeKeyFor("sendEmail", "a1b2", "shop1") // "sendEmail#13"
 */
export function typeKeyFor(type: string, id: string, tenant: string | undefined): string {
  return `${type}#${shardOf(id, tenant, jobTable.typeShards, jobTable.tenantShards)}`;
}

/** The `byType` partition keys to read for a type: all 16, or a tenant's 4. */
export function typeKeysToRead(type: string, tenant: string | undefined): string[] {
  return shardsOf(tenant, jobTable.typeShards, jobTable.tenantShards).map((i) => `${type}#${i}`);
}

/** The `open` partition key of a job: one of 32 shards of its type, one of its tenant's 8. */
export function openKeyFor(type: string, id: string, tenant: string | undefined): string {
  return `${type}#${shardOf(id, tenant, jobTable.openShards, jobTable.openTenantShards)}`;
}

/** The `open` partition keys to read for a type: all 32, or a tenant's 8. */
export function openKeysToRead(type: string, tenant?: string): string[] {
  return shardsOf(tenant, jobTable.openShards, jobTable.openTenantShards).map(
    (i) => `${type}#${i}`,
  );
}
