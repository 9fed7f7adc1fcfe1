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

/**
 * The Lambda bundles leave out exactly `LOCAL_ONLY_MODULES` (the construct marks them
 * external), so those paths must be how the host loads the local backend, and nothing else in
 * the runtime may reach lib/local/ another way (test/infra/bundle.test.ts checks the bundles).
 */
describe("the library's local-only modules", () => {
  it("are the paths lib/backend.ts imports the local backend by", () => {
    const host = readFileSync(join(LIB, "backend.ts"), "utf8");
    expect(LOCAL_ONLY_MODULES.length).toBeGreaterThan(0);
    for (const module of LOCAL_ONLY_MODULES) expect(host).toContain(`import("${module}")`);
  });

  it("are the only way into lib/local/ from the rest of lib/ (type imports aside)", () => {
    const reachers = libFiles()
      .filter((file) => !file.startsWith("local/") && file !== "backend/local.ts")
      .filter((file) =>
        /^(import|export) (?!type )[^;]*from "(\.\.?\/)+local\/|import\("(\.\.?\/)+local\//m.test(
          readFileSync(join(LIB, file), "utf8"),
        ),
      );
    expect(reachers).toEqual([]);
  });
});
