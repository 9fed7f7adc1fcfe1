/**
 * Lets Reaction's packages (written for Node 12–14) load on Node 20 and later: import it
 * before them, `node --import reaction-background-jobs-aws/reaction/node-compat server.js`.
 * It registers module hooks (see `node-compat-hooks.ts`) that resolve
 * `@reactioncommerce/api-utils/<x>.js` to its `lib/<x>.js`, as the folder `exports` mapping
 * Node 17 removed did, and load JSON imported without an import attribute. Nothing else
 * changes; this project's own code needs neither.
 */
import { register } from "node:module";

const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
register(new URL(`./node-compat-hooks${extension}`, import.meta.url));
