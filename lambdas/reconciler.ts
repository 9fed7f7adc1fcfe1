import { reconcilerHandler } from "./handlers.ts";
import { plugins } from "./plugins.ts";

/** The reconciler for this repository's example plugins (the CDK construct builds one per plugins module). */
export const handler = reconcilerHandler(plugins);
