/**
 * Moving Reaction's original job queue over: every job-collection document of MongoDB's
 * `Jobs` collection becomes a job here under its own `_id`. Read only on the MongoDB side;
 * idempotent on this side (conditional puts: a second run imports nothing).
 */
import { JobValidationError } from "../errors.ts";
import type { JobDeps } from "../jobs/deps.ts";
import { jobQueueHostOf } from "../reaction/plugin.ts";
import { importPlans, type TemplatesByType } from "./import.ts";
import { type ImportPlan, type JobPlan, planDocument, type RepeatPlan } from "./plan.ts";
import { countJobs, JOBS_COLLECTION, type MongoDatabase, pagesOfJobs } from "./read.ts";
import { addWarning, countOutcome, emptyReport, type MigrationReport } from "./report.ts";

export interface MigrateOptions {
  /** Write nothing; the report says what a real run would do now. Default false. */
  dryRun?: boolean;
  /** Documents read and written per page. Default 500. */
  pageSize?: number;
  /** Called after each page: documents handled so far, of `total`. */
  onProgress?(done: number, total: number): void;
  /** Stops after the page being written (Ctrl-C); the report says `interrupted`. */
  signal?: AbortSignal;
}

/** `migrateJobsFromMongo`'s options: the MongoDB database (default the app's own) and a dry run. */
export interface MigrateFromMongoOptions extends MigrateOptions {
  /** The database holding `Jobs` (a MongoDB driver `Db`). Default: the Reaction API's `app.db`. */
  db?: MongoDatabase;
}

/** The Reaction API given cannot be migrated into (no database, swap-in not started). */
export class MigrationSetupError extends Error {
  override name = "MigrationSetupError";
}

/**
 * Moves the jobs of Reaction's original queue (MongoDB's `Jobs`, job-collection documents)
 * into this one, on a Reaction API running the swap-in. Resolves the report; MongoDB is only
 * read. Stop the old queue's workers first (see docs/reaction.md, "Switching a live shop").
 *
 * @example
 * import { migrateJobsFromMongo } from "reaction-background-jobs-aws/reaction";
 * const report = await migrateJobsFromMongo(api, { dryRun: true }); // api: a started ReactionAPICore
 */
export async function migrateJobsFromMongo(
  app: unknown,
  options: MigrateFromMongoOptions = {},
): Promise<MigrationReport> {
  const host = jobQueueHostOf(app);
  const db = options.db ?? (app as { db?: MongoDatabase }).db;
  if (!db || typeof db.collection !== "function")
    throw new MigrationSetupError(
      "this Reaction API has no MongoDB database (app.db): start it first, or pass { db }",
    );
  const collections = (app as { context?: { collections?: Record<string, unknown> } }).context
    ?.collections;
  if (collections?.[JOBS_COLLECTION] === undefined)
    throw new MigrationSetupError(
      "the job-queue swap-in has not started on this Reaction API: run api.start() (or runServiceStartup()) first",
    );
  const { deps } = (await host.started()).system;
  return migrateJobs(deps, db, options);
}

/**
 * The move itself, on a job system's dependencies (what `bgjobs migrate-from-mongo` runs on a
 * stack it connects to).
 */
export async function migrateJobs(
  deps: JobDeps,
  db: MongoDatabase,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const started = Date.now();
  const dryRun = options.dryRun ?? false;
  const report = emptyReport(dryRun);
  const jobs = db.collection(JOBS_COLLECTION);
  const { total, withStringIds } = await countJobs(jobs);
  if (total > withStringIds)
    report.notes.push(
      `${total - withStringIds} documents have an _id that is not a non-empty string (job-collection's ids are strings): not read`,
    );
  const templates: TemplatesByType = new Map();
  const pages = pagesOfJobs(jobs, options.pageSize ?? 500);
  // The next page is read from MongoDB while this one is written.
  let next = pages.next();
  for (;;) {
    const { value: page, done } = await next;
    if (done) break;
    // Checked with no read in flight, so the caller may close MongoDB at once.
    if (options.signal?.aborted) {
      report.interrupted = true;
      break;
    }
    next = pages.next();
    // Awaited on the next turn; a failure while this page is written must not go unhandled.
    next.catch(() => undefined);
    report.read += page.length;
    const context = { now: deps.clock.now(), tenants: deps.tenants, cleanup: deps.cleanup };
    const plans: Array<JobPlan | RepeatPlan> = [];
    for (const doc of page) {
      const plan = planOrWarn(doc, context, report);
      if (!plan) continue;
      if (plan.kind === "expired") report.expired += 1;
      else plans.push(plan);
    }
    const outcomes = await importPlans(deps, plans, { dryRun, templates }).catch(async (error) => {
      // Let the read in flight settle before the caller closes MongoDB under it.
      await next.catch(() => undefined);
      throw error;
    });
    plans.forEach((plan, i) => {
      countOutcome(report, plan, outcomes[i] as (typeof outcomes)[number]);
    });
    options.onProgress?.(report.read, withStringIds);
  }
  report.durationMs = Date.now() - started;
  deps.logger.info(dryRun ? "migrate dry run" : "migrated", {
    read: report.read,
    imported: report.imported,
    skipped: report.skipped,
    invalid: report.invalid,
  });
  return report;
}

function planOrWarn(
  doc: Record<string, unknown>,
  context: Parameters<typeof planDocument>[1],
  report: MigrationReport,
): ImportPlan | undefined {
  try {
    return planDocument(doc, context);
  } catch (error) {
    if (!(error instanceof JobValidationError)) throw error;
    const prefix = `${error.field}: `;
    addWarning(report, {
      id: typeof doc._id === "string" ? doc._id : String(doc._id),
      field: error.field,
      message: error.message.startsWith(prefix)
        ? error.message.slice(prefix.length)
        : error.message,
    });
    return undefined;
  }
}
