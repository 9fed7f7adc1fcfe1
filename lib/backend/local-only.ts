/**
 * The modules of this library that only a local backend loads, as lib/backend.ts imports
 * them: the embedded stack and the poller are all behind them. Bundlers for Lambda mark these
 * external (the CDK construct does), so no emulator ships in a function; the bundle test
 * checks it.
 */
export const LOCAL_ONLY_MODULES = ["./backend/local.ts"];
