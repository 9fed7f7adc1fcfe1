import type { PayloadStore } from "../../../lib/jobs/payload.ts";

/**
 * The payload bucket in memory: objects by key, and a log of the calls in order, so a test
 * can tell that a payload was written before its record.
 *
 * @example const payloads = new MemoryPayloads(); new ClaimCheckedStore(store, payloads);
 */
export class MemoryPayloads implements PayloadStore {
  readonly objects = new Map<string, string>();
  readonly calls: string[] = [];

  async put(key: string, body: string): Promise<void> {
    this.calls.push(`put ${key}`);
    this.objects.set(key, body);
  }

  async get(key: string): Promise<string | null> {
    this.calls.push(`get ${key}`);
    return this.objects.get(key) ?? null;
  }

  async delete(key: string): Promise<void> {
    this.calls.push(`delete ${key}`);
    this.objects.delete(key);
  }
}
