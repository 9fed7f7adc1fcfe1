import type { Command } from "./command.ts";
import { jobCommands } from "./jobs.ts";
import { migrateCommands } from "./migrate.ts";
import { stackCommands } from "./stack-commands.ts";

/** Every `bgjobs` command, by its words (`jobs list`, `doctor`). */
export const commands: Record<string, Command> = {
  ...jobCommands,
  ...stackCommands,
  ...migrateCommands,
};
