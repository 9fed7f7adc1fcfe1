import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Group, Schedule } from "./records.ts";

/** A schedule as kept in the state file: with the last instant it fired for (epoch ms). */
export type KeptSchedule = Schedule & { lastFired?: number };

/** What the local scheduler keeps across restarts, under the data folder. */
export interface SchedulerState {
  groups: Group[];
  schedules: KeptSchedule[];
}

/** The state kept in `file`, or `undefined` when there is none yet. */
export function readSchedulerState(file: string): SchedulerState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as SchedulerState;
}

/** Writes the state whole (to a temporary file, then renamed: a crash leaves the old one). */
export function writeSchedulerState(file: string, state: SchedulerState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}
