/**
 * Failures injected on purpose into the in-memory adapters: `failNext("claimJob")` makes the
 * next call of that operation throw before it applies anything, as a request that failed or
 * timed out on the way to the service would.
 */
export class InjectedFault extends Error {
  override name = "InjectedFault";

  constructor(readonly operation: string) {
    super(`injected failure of ${operation}`);
  }
}

/** Counts of pending injected failures by operation name. */
export class Faults<Operation extends string> {
  private readonly pending = new Map<Operation, number>();

  /** The next `count` calls of `operation` throw an `InjectedFault` (0 cancels what is pending). */
  failNext(operation: Operation, count = 1): void {
    if (count > 0) this.pending.set(operation, count);
    else this.pending.delete(operation);
  }

  /** Throws if a failure of `operation` is pending (and spends it). */
  check(operation: Operation): void {
    const left = this.pending.get(operation) ?? 0;
    if (left <= 0) return;
    if (left === 1) this.pending.delete(operation);
    else this.pending.set(operation, left - 1);
    throw new InjectedFault(operation);
  }
}
