// Runs a server process for the local stack and makes it die with its parent.
// Usage: node watchdog.mjs <parentPid> <command> [args...]
// The parent holds this process's stdin open; when the parent dies (even by SIGKILL) the pipe
// closes and the server is killed. A liveness check of the parent pid backs that up.
import { spawn } from "node:child_process";

const [parentPid, command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] });

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  child.kill(signal);
  // A server that ignores SIGTERM is killed outright.
  setTimeout(() => child.kill("SIGKILL"), 3000).unref();
}

child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
child.on("error", (error) => {
  process.stderr.write(`watchdog: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
process.stdin.on("end", () => stop("SIGKILL"));
process.stdin.on("error", () => stop("SIGKILL"));
process.stdin.resume();
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGTERM"));
setInterval(() => {
  try {
    process.kill(Number(parentPid), 0);
  } catch {
    stop("SIGKILL");
  }
}, 1000).unref();
