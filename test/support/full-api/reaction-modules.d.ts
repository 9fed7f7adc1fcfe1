// What the full-API boot uses of Reaction's packages beyond test/support/reaction-modules.d.ts.

declare module "@reactioncommerce/api-core/src/util/appEvents.js" {
  /** api-core's process-wide AppEvents instance; its constructor makes a fresh one. */
  const appEvents: object;
  export default appEvents;
}
