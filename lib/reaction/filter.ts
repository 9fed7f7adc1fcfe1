import { JobValidationError } from "../errors.ts";
import type { ListFilter } from "../jobs/list/index.ts";
import { JOB_STATUSES, type JobStatus } from "../jobs/types.ts";
import { DOCUMENT_FIELDS } from "./documents.ts";

/** The comparison operators the `Jobs` view evaluates. */
export const FIELD_OPERATORS: readonly string[] = [
  "$eq",
  "$ne",
  "$in",
  "$nin",
  "$exists",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
];
/** The logical operators it evaluates (`getPaginatedResponse` builds `$and`/`$or` filters). */
export const LOGICAL_OPERATORS: readonly string[] = ["$and", "$or"];

export type MongoFilter = Record<string, unknown>;

/**
 * Checks a Mongo filter for the `Jobs` view: fields of a job document (`data.*` for anything in
 * the job's data), the operators above, nothing else. Throws a `JobValidationError` naming the
 * operator or field and where it is (`filter.data.to.$regex`).
 *
 * @example checkFilter({ type: "sendEmail", "data.shopId": { $in: ["s1"] } }) // ok
 */
export function checkFilter(filter: unknown, at = "filter"): asserts filter is MongoFilter {
  if (!isPlainObject(filter))
    throw new JobValidationError(at, 'must be an object such as { type: "sendEmail" }');
  for (const [key, value] of Object.entries(filter)) {
    const where = `${at}.${key}`;
    if (key.startsWith("$")) {
      if (!LOGICAL_OPERATORS.includes(key)) throw unsupportedOperator(key, where);
      if (!Array.isArray(value) || value.length === 0)
        throw new JobValidationError(where, "must be a non-empty array of filters");
      value.forEach((member, i) => {
        checkFilter(member, `${where}[${i}]`);
      });
      continue;
    }
    const root = key.split(".")[0] as string;
    if (!DOCUMENT_FIELDS.has(root))
      throw new JobValidationError(
        where,
        `is not a field of a job document; filter on _id, type, status, created, updated, data.<field>... (${[...DOCUMENT_FIELDS].join(", ")})`,
      );
    checkCondition(value, where);
  }
}

function checkCondition(value: unknown, where: string): void {
  if (value instanceof RegExp)
    throw new JobValidationError(where, "regular expressions are not supported by the Jobs view");
  if (!isPlainObject(value)) return; // equality with a literal
  const keys = Object.keys(value);
  const operators = keys.filter((key) => key.startsWith("$"));
  if (operators.length === 0) return; // equality with an embedded document
  if (operators.length !== keys.length)
    throw new JobValidationError(where, "mixes operators and fields; use one or the other");
  for (const operator of operators) {
    if (!FIELD_OPERATORS.includes(operator))
      throw unsupportedOperator(operator, `${where}.${operator}`);
    const operand = value[operator];
    if ((operator === "$in" || operator === "$nin") && !Array.isArray(operand))
      throw new JobValidationError(`${where}.${operator}`, "must be an array");
    if (
      operand instanceof RegExp ||
      (Array.isArray(operand) && operand.some((v) => v instanceof RegExp))
    )
      throw new JobValidationError(
        `${where}.${operator}`,
        "regular expressions are not supported by the Jobs view",
      );
  }
}

function unsupportedOperator(operator: string, where: string): JobValidationError {
  return new JobValidationError(
    where,
    `operator ${operator} is not supported by the Jobs view; it evaluates ${[...FIELD_OPERATORS, ...LOGICAL_OPERATORS].join(", ")}`,
  );
}

/**
 * What a filter says about which jobs can match, for choosing the reads: ids, types, statuses,
 * values of `data.*` fields (a type's tenant key among them) and bounds on `created`. Taken from
 * the filter's top level and its `$and` members; `$or` branches only narrow in memory.
 * `empty` when the filter can match nothing (an `_id` or type in no set, an unknown status).
 */
export interface FilterPlan {
  ids?: string[];
  types?: string[];
  /**
   * The Mongo filter as the listing engine's filter (`lib/jobs/list/filter.ts`): statuses and
   * bounds on `created`. The whole Mongo filter is still applied to what it returns.
   */
  filter: ListFilter;
  /** `"data.shopId"` -> the string values the field must take. */
  dataValues: Map<string, string[]>;
  empty: boolean;
}

/** The plan of a filter already checked by `checkFilter`. */
export function planFilter(filter: MongoFilter): FilterPlan {
  const plan: FilterPlan = { filter: {}, dataValues: new Map(), empty: false };
  let statuses: JobStatus[] | undefined;
  for (const [key, condition] of conjuncts(filter)) {
    if (key === "created") {
      boundCreated(plan.filter, condition);
      continue;
    }
    const values = stringValues(condition);
    if (values === undefined) continue;
    if (key === "_id") plan.ids = intersect(plan.ids, values);
    else if (key === "type") plan.types = intersect(plan.types, values);
    else if (key === "status") {
      const known = values.filter((v): v is JobStatus => JOB_STATUSES.includes(v as JobStatus));
      statuses = intersect(statuses, known);
    } else if (key.startsWith("data."))
      plan.dataValues.set(key, intersect(plan.dataValues.get(key), values));
  }
  if (statuses && statuses.length > 0) plan.filter.statuses = new Set(statuses);
  plan.empty =
    [plan.ids, plan.types, statuses, ...plan.dataValues.values()].some(
      (set) => set !== undefined && set.length === 0,
    ) ||
    (plan.filter.from ?? Number.NEGATIVE_INFINITY) > (plan.filter.to ?? Number.POSITIVE_INFINITY);
  return plan;
}

/** Every `field: condition` that must hold: the top level's and, recursively, `$and`'s. */
function conjuncts(filter: MongoFilter): Array<[string, unknown]> {
  return Object.entries(filter).flatMap(([key, value]) => {
    if (key === "$and") return (value as MongoFilter[]).flatMap(conjuncts);
    if (key.startsWith("$")) return [];
    return [[key, value] as [string, unknown]];
  });
}

/** The strings a condition allows (equality, `$eq`, `$in` of strings); `undefined`: not a set. */
function stringValues(condition: unknown): string[] | undefined {
  if (typeof condition === "string") return [condition];
  if (!isPlainObject(condition)) return undefined;
  const { $eq, $in } = condition;
  let values: string[] | undefined;
  if ($eq !== undefined) {
    if (typeof $eq !== "string") return undefined;
    values = [$eq];
  }
  if ($in !== undefined) {
    if (!Array.isArray($in) || !$in.every((v) => typeof v === "string")) return values;
    values = intersect(values, $in as string[]);
  }
  return values;
}

function boundCreated(plan: ListFilter, condition: unknown): void {
  const bounds = isPlainObject(condition) ? condition : { $eq: condition };
  const at = (op: string): number | undefined => {
    const value = bounds[op];
    const ms = value instanceof Date ? value.getTime() : value;
    return typeof ms === "number" && Number.isFinite(ms) ? ms : undefined;
  };
  const defined = (values: Array<number | undefined>) =>
    values.filter((v): v is number => v !== undefined);
  // `created` is whole epoch milliseconds: strict bounds move to the next whole one.
  const gt = at("$gt");
  const lt = at("$lt");
  const eq = at("$eq");
  const gte = at("$gte");
  const lte = at("$lte");
  const from = defined([
    gte === undefined ? undefined : Math.ceil(gte),
    eq,
    gt === undefined ? undefined : Math.floor(gt) + 1,
  ]);
  const to = defined([
    lte === undefined ? undefined : Math.floor(lte),
    eq,
    lt === undefined ? undefined : Math.ceil(lt) - 1,
  ]);
  if (from.length > 0) plan.from = safe(Math.max(plan.from ?? -Infinity, ...from));
  if (to.length > 0) plan.to = safe(Math.min(plan.to ?? Infinity, ...to));
}

function safe(ms: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(Number.MIN_SAFE_INTEGER, Math.round(ms)));
}

function intersect<T>(current: T[] | undefined, values: T[]): T[] {
  const unique = [...new Set(values)];
  return current === undefined ? unique : unique.filter((v) => current.includes(v));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
