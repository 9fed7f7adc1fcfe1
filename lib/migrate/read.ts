/**
 * Reading Reaction's `Jobs` collection, read only: pages in `_id` order (`find`, `sort`,
 * `limit`), each page starting after the last id read, so a page costs the same however far
 * in. Takes the MongoDB driver's `Db` (or anything with its `collection().find()` shape, as
 * mongo-mock has).
 */
import type { JobCollectionDocument } from "./job-document.ts";

/** The collection job-collection (and Reaction's job-queue plugin) keeps jobs in. */
export const JOBS_COLLECTION = "Jobs";

/** As much of a MongoDB `Db` as the move reads. */
export interface MongoDatabase {
  collection(name: string): MongoJobsCollection;
}

export interface MongoJobsCollection {
  find(filter: Record<string, unknown>): {
    sort(spec: Record<string, 1 | -1>): {
      limit(count: number): { toArray(): Promise<JobCollectionDocument[]> };
    };
  };
  countDocuments(filter: Record<string, unknown>): Promise<number>;
}

/**
 * The collection's documents, a page at a time, in `_id` order. Only string ids are read
 * (job-collection's are strings); `countDocuments` tells the caller whether any others exist.
 *
 * @example for await (const page of pagesOfJobs(db.collection("Jobs"), 500)) ...
 */
export async function* pagesOfJobs(
  jobs: MongoJobsCollection,
  pageSize: number,
): AsyncGenerator<JobCollectionDocument[]> {
  let after = "";
  for (;;) {
    const page = await jobs
      .find({ _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(pageSize)
      .toArray();
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    after = String(page[page.length - 1]?._id);
  }
}

/** How many documents the collection holds, and how many of them have a string `_id`. */
export async function countJobs(
  jobs: MongoJobsCollection,
): Promise<{ total: number; withStringIds: number }> {
  const [total, withStringIds] = await Promise.all([
    jobs.countDocuments({}),
    jobs.countDocuments({ _id: { $gt: "" } }),
  ]);
  return { total, withStringIds };
}
