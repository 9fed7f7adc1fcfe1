import type { ScheduleRefusal, ScheduleRefusalNote } from "../jobs/ports.ts";

/**
 * The in-memory job table's refused schedules (the DynamoDB adapter's `#refusals` item), by
 * key: a note counts one more refusal of its key, `null` clears the key.
 */
export class MemoryScheduleRefusals {
  private readonly byKey = new Map<string, ScheduleRefusal>();

  note(key: string, note: ScheduleRefusalNote | null): void {
    if (note === null) {
      this.byKey.delete(key);
      return;
    }
    const before = this.byKey.get(key);
    const copy = JSON.parse(JSON.stringify(note)) as ScheduleRefusalNote;
    this.byKey.set(key, {
      ...copy,
      key,
      count: (before?.count ?? 0) + 1,
      firstAt: before?.firstAt ?? note.at,
    });
  }

  /** Newest first, then by key. */
  all(): ScheduleRefusal[] {
    return [...this.byKey.values()]
      .map((refusal) => structuredClone(refusal))
      .sort((a, b) => b.at - a.at || a.key.localeCompare(b.key));
  }
}
