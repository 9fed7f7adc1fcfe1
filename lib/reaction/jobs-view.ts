import { find, Query } from "mingo";
import { JobValidationError } from "../errors.ts";
import type { JobRecord } from "../jobs/types.ts";
import { type ReactionJobDocument, toReactionDocument } from "./documents.ts";
import { checkFilter, type FilterPlan, type MongoFilter, planFilter } from "./filter.ts";
import {
  type CursorSource,
  type FindCommand,
  JobsCursor,
  type SharedReads,
} from "./jobs-cursor.ts";
import type { JobsSource } from "./jobs-source.ts";
import { checkFindOptions } from "./options.ts";
import { candidateRecords, MAX_RECORDS_READ } from "./read-jobs.ts";

/** The collection name Reaction's code uses (`context.collections.Jobs`). */
export const JOBS_COLLECTION_NAME = "Jobs";

/** Writes a Mongo collection offers and the view refuses. */
const WRITE_METHODS = [
  "insert",
  "insertOne",
  "insertMany",
  "update",
  "updateOne",
  "updateMany",
  "replaceOne",
  "save",
  "remove",
  "deleteOne",
  "deleteMany",
  "findOneAndUpdate",
  "findOneAndReplace",
  "findOneAndDelete",
  "findAndModify",
  "bulkWrite",
  "initializeOrderedBulkOp",
  "initializeUnorderedBulkOp",
  "createIndex",
  "createIndexes",
  "ensureIndex",
  "dropIndex",
  "dropIndexes",
  "drop",
  "rename",
] as const;

/** A write (or an unsupported read) was attempted on the read-only `Jobs` view. */
export class ReadOnlyViewError extends Error {
  override name = "ReadOnlyViewError";
  constructor(readonly method: string) {
    super(
      `Jobs.${method}: context.collections.Jobs is a read-only view of the job table; change jobs through context.backgroundJobs (scheduleJob, cancelJobs, getJob and the Job's methods)`,
    );
  }
}

export interface JobsViewOptions {
  /** The source, once the job backend has started (reads wait for it). */
  source: () => Promise<JobsSource>;
  /** `cursor.options.db.databaseName` (the namespace is `<databaseName>.Jobs`). */
  databaseName?: string;
  /** The most records one query may read (see `MAX_RECORDS_READ`). */
  maxRecordsRead?: number;
}

/**
 * `context.collections.Jobs`: a read-only view of the job table, shaped as a MongoDB 3.6 driver
 * collection far enough that Reaction's own code runs unchanged (the email plugin's `emailJobs`
 * paged by `getPaginatedResponse`, the sitemap test's `findOne`). Documents have Reaction's
 * field names. Filters name `_id`, `type`, `status`, `created`, `data.*` (any document field)
 * with `$eq $ne $in $nin $exists $gt $gte $lt $lte $and $or`; any other operator is refused by
 * name. Reads go by id, or through the one listing engine (`lib/jobs/list/`) by type and shop
 * (the open index when only unfinished statuses can match); never a table scan. Writes throw a `ReadOnlyViewError` pointing to `context.backgroundJobs`.
 *
 * @example
 * const cursor = context.collections.Jobs.find({ type: "sendEmail", "data.shopId": { $in: [shopId] } });
 * const { nodes, totalCount } = await getPaginatedResponse(cursor, { first: 20 }, {});
 */
export class JobsView implements CursorSource {
  readonly collectionName = JOBS_COLLECTION_NAME;
  readonly db: CursorSource["db"];
  private readonly maxRecordsRead: number;

  constructor(private readonly options: JobsViewOptions) {
    this.maxRecordsRead = options.maxRecordsRead ?? MAX_RECORDS_READ;
    const databaseName = options.databaseName ?? "background-jobs";
    this.db = {
      databaseName,
      collection: (name: string) => {
        if (name !== JOBS_COLLECTION_NAME)
          throw new JobValidationError("collection", `${name} is not a collection of the job view`);
        return this;
      },
    };
    for (const method of WRITE_METHODS) {
      Object.defineProperty(this, method, {
        value: () => {
          throw new ReadOnlyViewError(method);
        },
      });
    }
  }

  get namespace(): string {
    return `${this.db.databaseName}.${JOBS_COLLECTION_NAME}`;
  }

  /** A cursor over the jobs matching `filter` (checked now: an unsupported filter throws here). */
  find(filter: MongoFilter = {}, options?: unknown): JobsCursor {
    checkFilter(filter);
    const { projection, ...rest } = checkFindOptions(options);
    return new JobsCursor(this, {
      find: this.namespace,
      query: filter,
      ...rest,
      ...(projection ? { fields: projection } : {}),
    });
  }

  /** The first job matching `filter`, or `null`. */
  async findOne(filter: MongoFilter = {}, options?: unknown): Promise<unknown> {
    const [doc] = await this.find(filter, options).limit(1).toArray();
    return doc ?? null;
  }

  /** How many jobs match `filter` (after `options.skip`, up to `options.limit`). */
  countDocuments(filter: MongoFilter = {}, options?: { skip?: number; limit?: number }) {
    return this.find(filter).count(false, options);
  }

  /** The 3.x driver's deprecated `count(filter, options)`: `countDocuments`. */
  count(filter: MongoFilter = {}, options?: { skip?: number; limit?: number }) {
    return this.countDocuments(filter, options);
  }

  /** Every job a filter selects, as Reaction documents (what cursors call). */
  async run(
    cmd: FindCommand,
    applySkipLimit: boolean,
    reads: SharedReads = new Map(),
  ): Promise<ReactionJobDocument[]> {
    const source = await this.options.source();
    const plan = planFilter(cmd.query);
    const skip = applySkipLimit ? (cmd.skip ?? 0) : 0;
    const limit = applySkipLimit ? (cmd.limit ?? 0) : 0;
    const query = new Query(cmd.query);
    let matched: ReactionJobDocument[];
    if (cmd.sort === undefined && limit > 0) {
      // Natural order (the listing's, newest first): stop once the page is full.
      matched = [];
      for await (const record of candidateRecords(source, plan, this.maxRecordsRead)) {
        const doc = toReactionDocument(record);
        if (query.test(doc)) matched.push(doc);
        if (matched.length >= skip + limit) break;
      }
    } else {
      const records = await this.readAll(source, plan, reads);
      matched = records.map(toReactionDocument).filter((doc) => query.test(doc));
    }
    let cursor = find(matched, {}, cmd.fields);
    if (cmd.sort) cursor = cursor.sort(cmd.sort);
    if (skip > 0) cursor = cursor.skip(skip);
    if (limit > 0) cursor = cursor.limit(limit);
    return cursor.all() as ReactionJobDocument[];
  }

  /** Every record the plan can match; read once for the cursors sharing `reads`. */
  private readAll(source: JobsSource, plan: FilterPlan, reads: SharedReads): Promise<JobRecord[]> {
    const { statuses, ...bounds } = plan.filter;
    const key = JSON.stringify({
      ...plan,
      filter: { ...bounds, ...(statuses ? { statuses: [...statuses] } : {}) },
      dataValues: [...plan.dataValues],
    });
    let records = reads.get(key);
    if (!records) {
      records = (async () => {
        const all: JobRecord[] = [];
        for await (const record of candidateRecords(source, plan, this.maxRecordsRead)) {
          all.push(record);
        }
        return all;
      })();
      records.catch(() => reads.delete(key));
      reads.set(key, records);
    }
    return records;
  }
}
