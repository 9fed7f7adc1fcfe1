/** Moving Reaction's original job queue (MongoDB's `Jobs`) over: see `migrate.ts`. */
export {
  type MigrateFromMongoOptions,
  type MigrateOptions,
  MigrationSetupError,
  migrateJobs,
  migrateJobsFromMongo,
} from "./migrate.ts";
export { JOBS_COLLECTION, type MongoDatabase } from "./read.ts";
export { type MigrationReport, type MigrationWarning, reportText } from "./report.ts";
