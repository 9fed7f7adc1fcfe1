import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { bundleReactionApp, REACTION_HANDLERS, type ReactionAppProps } from "../reaction-bundle.ts";

/** The checkout's root: the generated entries and the functions' project root. */
export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** The entry file of each function the construct creates. */
export interface FunctionEntries {
  dispatcher: string;
  reconciler: string;
  /** None for a Reaction app, whose API server schedules. */
  startup?: string;
}

/** What the functions' generated entries import: a handlers module and its two factories. */
interface EntryHandlers {
  /** The handlers module under `lambdas/`. */
  file: string;
  dispatcher: string;
  reconciler: string;
  /** The deploy-time startup's factory; none for a Reaction app, whose API server schedules. */
  startup?: string;
  /** The name the entries import from the user's module and hand the factories. */
  imported: string;
}

const PLUGIN_HANDLERS: EntryHandlers = {
  file: "handlers.ts",
  dispatcher: "dispatcherHandler",
  reconciler: "reconcilerHandler",
  startup: "startupHandler",
  imported: "plugins",
};

/**
 * The functions' entries for the user's code: generated entries around a plugins module, or,
 * for a Reaction app, those entries bundled with the app (see infra/reaction-bundle.ts).
 *
 * @example functionEntries({ pluginsEntry: "lambdas/plugins.ts" }).dispatcher
 */
export function functionEntries(code: {
  pluginsEntry?: string;
  reactionApp?: ReactionAppProps;
}): FunctionEntries {
  return code.reactionApp
    ? bundleReactionApp(writeEntries(code.reactionApp.entry, REACTION_HANDLERS, "reaction-"))
    : writeEntries(code.pluginsEntry as string);
}

/**
 * The Lambda entry files for a user's module (a plugins module, or a Reaction app module):
 * each imports what the module exports and wraps it in the shared handler. Written under this
 * checkout's own `.cache/` (generated, never committed), not under node_modules: a
 * node_modules shared by several checkouts (a symlink) would make esbuild resolve the entries'
 * relative imports, and so bundle the handlers, from whichever checkout owns it.
 */
function writeEntries(
  userModule: string,
  handlers: EntryHandlers = PLUGIN_HANDLERS,
  prefix = "",
): FunctionEntries {
  const dir = join(REPO_ROOT, ".cache", "background-jobs-entries");
  mkdirSync(dir, { recursive: true });
  const importPath = (target: string) => {
    const path = relative(dir, target).split("\\").join("/");
    return path.startsWith(".") ? path : `./${path}`;
  };
  const write = (name: string, factory: string) => {
    const file = join(dir, `${prefix}${name}.ts`);
    writeFileSync(
      file,
      [
        `import { ${factory} } from "${importPath(join(REPO_ROOT, "lambdas", handlers.file))}";`,
        `import { ${handlers.imported} } from "${importPath(resolve(userModule))}";`,
        `export const handler = ${factory}(${handlers.imported});`,
        "",
      ].join("\n"),
    );
    return file;
  };
  return {
    dispatcher: write("dispatcher", handlers.dispatcher),
    reconciler: write("reconciler", handlers.reconciler),
    ...(handlers.startup ? { startup: write("startup", handlers.startup) } : {}),
  };
}
