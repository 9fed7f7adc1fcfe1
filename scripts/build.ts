/**
 * `npm run build` (and `npm pack`, through `prepack`): `lib/` as JavaScript with type
 * declarations in `dist/`, which `package.json` exports (`.` the own host, `./reaction` the
 * Reaction plugin). Starts from an empty `dist/` so nothing stale is packed.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, "-p", "tsconfig.build.json"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
// Not TypeScript: the DynamoDB Local watchdog runs as its own process.
copyFileSync(`${root}lib/local/watchdog.mjs`, `${root}dist/local/watchdog.mjs`);
// Not TypeScript: the dashboard's page, scripts and styles, served as they are.
cpSync(`${root}lib/dashboard/public`, `${root}dist/dashboard/public`, { recursive: true });
