import { dispatcherHandler } from "./handlers.ts";
import { plugins } from "./plugins.ts";

/** The dispatcher for this repository's example plugins (the CDK construct builds one per plugins module). */
export const handler = dispatcherHandler(plugins);
