import { readFileSync } from "node:fs";
import { ReactionAPICore } from "@reactioncommerce/api-core";
import { describe, expect, it } from "vitest";
import { registerWith } from "../../lib/reaction/index.ts";

/**
 * Reaction's system-information query lists the registered plugins that carry a version
 * (`api-plugin-system-information`, `queries/systemInformation.js`:
 * `Object.values(context.app.registeredPlugins).filter((plugin) => plugin.version)`, then
 * `{ name, version }` of each). The swap-in registered nothing there, so it was left out.
 */
describe("the job-queue registration", () => {
  it("carries the package's version, so system-information lists it", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const api = new ReactionAPICore({});
    // Registered only: nothing is started, so there is nothing to stop.
    await api.registerPlugins({
      jobQueue: registerWith({ backgroundJobs: { local: { quiet: true } } }),
    });
    const registered = (api as unknown as { registeredPlugins: Record<string, Plugin> })
      .registeredPlugins;
    const listed = Object.values(registered)
      .filter((plugin) => plugin.version)
      .map(({ name, version }) => ({ name, version }));
    expect(listed).toContainEqual({ name: "job-queue", version });
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

interface Plugin {
  name: string;
  version?: string;
}
