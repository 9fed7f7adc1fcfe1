import { JobValidationError } from "../errors.ts";
import type { LaneName } from "../resources.ts";

/** Reaction's named priorities; lower numbers run first. */
export const PRIORITIES = { low: 10, normal: 0, medium: -5, high: -10, critical: -15 } as const;

export type PriorityName = keyof typeof PRIORITIES;

/**
 * A priority string or integer, as `scheduleJob` accepts it, as the stored integer.
 *
 * @example priorityValue("high") // -10
 */
export function priorityValue(priority: unknown, field = "priority"): number {
  if (priority === undefined || priority === null) return PRIORITIES.normal;
  if (typeof priority === "string") {
    if (Object.hasOwn(PRIORITIES, priority)) return PRIORITIES[priority as PriorityName];
    throw new JobValidationError(
      field,
      `unknown priority "${priority}"; use one of ${Object.keys(PRIORITIES).join(", ")} or an integer`,
    );
  }
  if (typeof priority === "number" && Number.isSafeInteger(priority)) return priority;
  throw new JobValidationError(
    field,
    `must be a priority name or an integer, got ${String(priority)}`,
  );
}

/**
 * The SQS lane a priority goes to: `critical` (<= -10), `normal` (-10 < p < 10), `low` (>= 10).
 *
 * @example laneFor(-15) // "critical"
 */
export function laneFor(priority: number): LaneName {
  if (priority <= PRIORITIES.high) return "critical";
  if (priority >= PRIORITIES.low) return "low";
  return "normal";
}
