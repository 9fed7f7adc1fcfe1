import type { Clock } from "../../jobs/deps.ts";
import type { ScheduleBook } from "./book.ts";
import { ACCOUNT, bookEntry, type Group, type Schedule, scheduleKey } from "./records.ts";
import type { KeptSchedule, SchedulerState } from "./state-file.ts";

/**
 * The local scheduler's schedule groups and schedules: the groups here, the schedules in the
 * book (which arms them). Every change is handed to `save`.
 */
export class ScheduleRegistry {
  private readonly groupsByName = new Map<string, Group>();

  constructor(
    private readonly book: ScheduleBook<Schedule>,
    private readonly clock: Clock,
    private readonly region: string,
    private readonly save: () => void,
  ) {}

  /** Takes in what was kept across a restart, then makes sure the default group exists. */
  restore(state: SchedulerState | undefined): void {
    for (const group of state?.groups ?? []) this.groupsByName.set(group.Name, group);
    for (const { lastFired, ...schedule } of state?.schedules ?? [])
      this.book.restore(bookEntry(schedule), lastFired);
    if (!this.groupsByName.has("default")) this.addGroup("default");
  }

  /** The state to keep: groups, and schedules with the instant each last fired for. */
  state(): SchedulerState {
    return {
      groups: this.groups(),
      schedules: this.book.entries().map((entry): KeptSchedule => {
        const lastFired = this.book.firedUpTo(entry.key);
        return lastFired === undefined ? entry.target : { ...entry.target, lastFired };
      }),
    };
  }

  schedule(group: string, name: string): Schedule | undefined {
    return this.book.get(scheduleKey(group, name))?.target;
  }

  schedules(): Schedule[] {
    return this.book.entries().map((entry) => entry.target);
  }

  /** Creates or replaces a schedule and arms it (an update never fires an instant again). */
  putSchedule(schedule: Schedule): void {
    this.book.set(bookEntry(schedule));
    this.save();
  }

  deleteSchedule(schedule: Schedule): void {
    this.book.delete(scheduleKey(schedule.GroupName, schedule.Name));
    this.save();
  }

  group(name: string): Group | undefined {
    return this.groupsByName.get(name);
  }

  groups(): Group[] {
    return [...this.groupsByName.values()];
  }

  addGroup(name: string): Group {
    const now = this.clock.now();
    const group: Group = {
      Name: name,
      Arn: `arn:aws:scheduler:${this.region}:${ACCOUNT}:schedule-group/${name}`,
      State: "ACTIVE",
      CreationDate: now,
      LastModificationDate: now,
    };
    this.groupsByName.set(name, group);
    this.save();
    return group;
  }

  /** Deletes a group and every schedule in it. */
  deleteGroup(name: string): void {
    for (const schedule of this.schedules())
      if (schedule.GroupName === name)
        this.book.delete(scheduleKey(schedule.GroupName, schedule.Name));
    this.groupsByName.delete(name);
    this.save();
  }
}
