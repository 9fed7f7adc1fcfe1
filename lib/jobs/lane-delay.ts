import { lanes } from "../resources.ts";

/**
 * A lane's delay as SQS takes it: whole seconds from 0 to 900, rounded up, so a job is never
 * early. Both lane adapters (SQS and the in-memory one) apply it.
 *
 * @example clampDelay(1.2) // 2
 */
export function clampDelay(delaySeconds: number): number {
  return Math.min(lanes.maxDelaySeconds, Math.max(0, Math.ceil(delaySeconds)));
}
