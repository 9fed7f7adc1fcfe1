/**
 * Module hooks for Reaction's packages on Node 20+ (registered by `node-compat.ts`).
 * `@reactioncommerce/api-utils` maps its subpaths with the folder `exports` syntax
 * (`"./": "./lib/"`) that Node 17 removed, so `@reactioncommerce/api-utils/x.js` resolves to
 * the installed package's `lib/x.js` here; and Reaction's plugins import JSON (`package.json`,
 * i18n, policies) without `with { type: "json" }`, which is given here.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const API_UTILS = "@reactioncommerce/api-utils";

interface ResolveContext {
  parentURL?: string;
  importAttributes?: Record<string, string>;
}
interface Resolved {
  url: string;
  format?: string | null;
  importAttributes?: Record<string, string>;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<Resolved>;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<Resolved> {
  if (specifier.startsWith(`${API_UTILS}/`) && context.parentURL?.startsWith("file:")) {
    const lib = apiUtilsLib(fileURLToPath(context.parentURL));
    if (lib) {
      const url = pathToFileURL(join(lib, specifier.slice(API_UTILS.length + 1))).href;
      return { url, shortCircuit: true };
    }
  }
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.endsWith(".json") && context.importAttributes?.type === undefined) {
    return { ...resolved, importAttributes: { ...context.importAttributes, type: "json" } };
  }
  return resolved;
}

/** The `lib/` folder of the api-utils package the importing file would find. */
function apiUtilsLib(from: string): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const lib = join(dir, "node_modules", API_UTILS, "lib");
    if (existsSync(lib)) return lib;
    if (dirname(dir) === dir) return undefined;
  }
}
