import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCAL_ONLY_MODULES } from "../../lib/backend/local-only.ts";

const LIB = join(import.meta.dirname, "../../lib");

/** Every TypeScript file under lib/, by its path from lib/. */
function libFiles(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return libFiles(path);
    return entry.name.endsWith(".ts") ? [relative(LIB, path)] : [];
  });
}

/** `LOCAL_ONLY_MODULES` as paths from lib/ (`backend/local.ts`). */
const localOnlyFiles = LOCAL_ONLY_MODULES.map((module) => module.replace(/^\.\//, ""));

/** The files of lib/ outside `folder` and the local-only modules that import from `folder` (not only types). */
function reachersOf(folder: "local" | "memory"): string[] {
  const reach = new RegExp(
    `^(import|export) (?!type )[^;]*from "(\\.\\.?\\/)+${folder}\\/|import\\("(\\.\\.?\\/)+${folder}\\/`,
    "m",
  );
  return libFiles()
    .filter((file) => !file.startsWith("local/") && !file.startsWith("memory/"))
    .filter((file) => !localOnlyFiles.includes(file))
    .filter((file) => reach.test(readFileSync(join(LIB, file), "utf8")));
}

/**
 * The Lambda bundles leave out exactly `LOCAL_ONLY_MODULES` (the construct marks them
 * external), so those paths must be how the host loads the local and memory backends, and
 * nothing else in the runtime may reach lib/local/ or lib/memory/ another way
 * (test/infra/bundle.test.ts checks the bundles).
 */
describe("the library's local-only modules", () => {
  it("are the paths lib/backend.ts imports the local backend by", () => {
    const host = readFileSync(join(LIB, "backend.ts"), "utf8");
    expect(LOCAL_ONLY_MODULES.length).toBeGreaterThan(0);
    for (const module of LOCAL_ONLY_MODULES) expect(host).toContain(`import("${module}")`);
  });

  it("are the only way into lib/local/ and lib/memory/ from the rest of lib/ (type imports aside)", () => {
    expect(reachersOf("local")).toEqual([]);
    expect(reachersOf("memory")).toEqual([]);
  });
});
