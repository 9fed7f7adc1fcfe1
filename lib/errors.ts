/**
 * A call was given something it cannot accept. `field` names the argument at fault
 * (`"data"`, `"retry.wait"`, `"cleanup[1].purgeAfterDays"`), and nothing was stored.
 *
 * @example
 * try { await scheduleJob({ type: "" , data: {} }); }
 * catch (e) { if (e instanceof JobValidationError) console.log(e.field); } // "type"
 */
export class JobValidationError extends Error {
  override name = "JobValidationError";
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A job method was called on a job in a state where it means nothing (e.g. `done` outside a run). */
export class JobStateError extends Error {
  override name = "JobStateError";
}

/** The embedded local stack could not start (Java missing, a server that did not come up). */
export class LocalStackError extends Error {
  override name = "LocalStackError";
}
