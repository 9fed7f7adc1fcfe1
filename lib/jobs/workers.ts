import type { WorkerFunction, WorkerSlotsRegistry, WorkerSlotsView } from "./deps.ts";

/** A registered worker type in this process: its function and its concurrency slots. */
export class WorkerSlots implements WorkerSlotsView {
  active = 0;
  paused = false;
  private readonly waiting: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    readonly type: string,
    readonly worker: WorkerFunction,
    readonly workTimeout: number,
    readonly concurrency: number,
    private readonly changed: () => void,
  ) {}

  /** Slots a poller may still fill: free slots less jobs already waiting for one. */
  get free(): number {
    if (this.paused) return 0;
    return Math.max(0, this.concurrency - this.active - this.waiting.length);
  }

  tryAcquire(): boolean {
    if (this.active >= this.concurrency || this.waiting.length > 0) return false;
    this.active += 1;
    return true;
  }

  /** Resolves once a slot is held; the caller must `release()` it. Counted synchronously. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.active += 1;
        resolve();
      });
    });
  }

  release(): void {
    this.active -= 1;
    const next = this.waiting.shift();
    if (next) next();
    if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.changed();
  }

  /** Resolves when no job of this type is running in this process. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** Every worker type registered in this process (this app). */
export class WorkerRegistry implements WorkerSlotsRegistry {
  private readonly slots = new Map<string, WorkerSlots>();
  private readonly listeners = new Set<() => void>();

  add(type: string, worker: WorkerFunction, workTimeout: number, concurrency: number): WorkerSlots {
    const slots = new WorkerSlots(type, worker, workTimeout, concurrency, () => this.notify());
    this.slots.set(type, slots);
    this.notify();
    return slots;
  }

  get(type: string): WorkerSlots | undefined {
    return this.slots.get(type);
  }

  has(type: string): boolean {
    return this.slots.has(type);
  }

  /**
   * How many more messages of `type` a poller may hand over now: its free slots; unbounded
   * for a type that takes no slot (paused: its job stays ready for `resume()`; no worker:
   * it fails, naming the type).
   */
  freeFor(type: string): number {
    const slots = this.slots.get(type);
    if (!slots || slots.paused) return Number.POSITIVE_INFINITY;
    return slots.free;
  }

  /** Resolves on the next change of capacity (a slot freed, a worker added or resumed). */
  nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.listeners.add(done);
    });
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
