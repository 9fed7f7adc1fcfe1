/**
 * The modules of this library that only a local or memory backend loads, as lib/backend.ts
 * imports them: the embedded stack, the poller and the in-memory test backend are all behind
 * them. Bundlers for Lambda mark these external (the CDK construct does), so no emulator and
 * no test backend ships in a function; the bundle test checks it.
 */
export const LOCAL_ONLY_MODULES = ["./backend/local.ts", "./backend/memory.ts"];
