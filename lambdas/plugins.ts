import { emailPlugin } from "../examples/plugins/email.ts";
import { filesPlugin } from "../examples/plugins/files.ts";
import { sitemapPlugin } from "../examples/plugins/sitemap.ts";
import type { Plugin } from "../lib/index.ts";

/**
 * The plugins whose workers the Lambda functions run. Deployments point this module at their
 * own plugins; the same `startup` functions register the same workers as on a laptop.
 */
export const plugins: Plugin[] = [filesPlugin, emailPlugin, sitemapPlugin];
