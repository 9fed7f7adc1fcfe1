import { JobValidationError } from "../errors.ts";
import type { JobRecord } from "../jobs/types.ts";
import type { ReactionJobDocument } from "./documents.ts";
import { checkFilter, type MongoFilter } from "./filter.ts";
import { checkProjection, checkSort, type Projection, type SortSpec } from "./options.ts";

/** The MongoDB 3.6 driver's `cursor.cmd` for a find: what `getPaginatedResponse` reads. */
export interface FindCommand {
  find: string;
  query: MongoFilter;
  sort?: SortSpec;
  skip?: number;
  limit?: number;
  fields?: Projection;
}

/**
 * Reads of the job table shared by the cursors of one `find` and their clones: one GraphQL page
 * through `getPaginatedResponse` counts, counts again and reads, all over the same jobs.
 */
export type SharedReads = Map<string, Promise<JobRecord[]>>;

/** What a cursor asks of its collection: the documents of a find (skip and limit applied or not). */
export interface CursorSource {
  readonly namespace: string;
  readonly db: { databaseName: string; collection(name: string): unknown };
  run(
    cmd: FindCommand,
    applySkipLimit: boolean,
    reads: SharedReads,
  ): Promise<ReactionJobDocument[]>;
}

/**
 * A cursor over the `Jobs` view, shaped as the MongoDB 3.6 driver's `Cursor` as far as
 * Reaction's code uses it: `cmd.query`, `ns`, `options.db`, `filter`, `sort`, `skip`, `limit`,
 * `project`, `clone`, `rewind`, `count` (skip and limit ignored unless asked, as the driver
 * does), `toArray`, `hasNext`, `next`, `forEach`, `map`, and `for await`.
 *
 * @example const page = await Jobs.find({ type: "sendEmail" }).sort({ updated: -1 }).limit(20).toArray();
 */
export class JobsCursor implements AsyncIterable<unknown> {
  readonly cmd: FindCommand;
  private results?: Promise<ReactionJobDocument[]>;
  private position = 0;
  private transform?: (doc: ReactionJobDocument) => unknown;
  private closed = false;

  constructor(
    private readonly source: CursorSource,
    cmd: FindCommand,
    private readonly reads: SharedReads = new Map(),
  ) {
    this.cmd = { ...cmd };
  }

  get ns(): string {
    return this.source.namespace;
  }

  get options(): { db: CursorSource["db"] } {
    return { db: this.source.db };
  }

  /** Replaces the cursor's filter (the driver's `filter`). */
  filter(filter: MongoFilter): this {
    checkFilter(filter);
    this.cmd.query = filter;
    return this.changed();
  }

  sort(keyOrSpec: string | SortSpec | Array<[string, number]>, direction?: number): this {
    this.cmd.sort = checkSort(
      typeof keyOrSpec === "string" ? { [keyOrSpec]: direction ?? 1 } : keyOrSpec,
    );
    return this.changed();
  }

  skip(count: number): this {
    this.cmd.skip = wholeNumber(count, "skip");
    return this.changed();
  }

  /** `0` means no limit, as in the driver; a negative limit counts as its absolute value. */
  limit(count: number): this {
    this.cmd.limit = Math.abs(wholeNumber(count, "limit", true));
    return this.changed();
  }

  project(projection: Projection): this {
    this.cmd.fields = checkProjection(projection);
    return this.changed();
  }

  /** Applies `fn` to each document this cursor returns. */
  map<T>(fn: (doc: ReactionJobDocument) => T): this {
    const previous = this.transform;
    this.transform = previous ? (doc) => fn(previous(doc) as ReactionJobDocument) : fn;
    return this;
  }

  /** A new cursor with the same command, not yet read. */
  clone(): JobsCursor {
    const copy = new JobsCursor(this.source, this.cmd, this.reads);
    if (this.transform) copy.transform = this.transform;
    return copy;
  }

  /** Forgets what was read: the next read starts over. */
  rewind(): this {
    return this.changed();
  }

  /**
   * How many documents match the filter; with `applySkipLimit`, after the cursor's skip and
   * limit (the MongoDB 3.6 driver ignores them unless asked). `options.skip`/`limit` apply too.
   */
  async count(
    applySkipLimit = false,
    options: { skip?: number; limit?: number } = {},
  ): Promise<number> {
    let count = (await this.source.run(this.cmd, false, this.reads)).length;
    const skip = options.skip ?? (applySkipLimit ? this.cmd.skip : undefined) ?? 0;
    const limit = options.limit ?? (applySkipLimit ? this.cmd.limit : undefined) ?? 0;
    count = Math.max(0, count - skip);
    return limit > 0 ? Math.min(count, limit) : count;
  }

  /** The documents not read yet. */
  async toArray(): Promise<unknown[]> {
    const all = await this.read();
    const rest = all.slice(this.position);
    this.position = all.length;
    return rest.map((doc) => this.output(doc));
  }

  async hasNext(): Promise<boolean> {
    return this.position < (await this.read()).length;
  }

  /** The next document, or `null` when there is none. */
  async next(): Promise<unknown> {
    const all = await this.read();
    const doc = all[this.position];
    if (doc === undefined) return null;
    this.position += 1;
    return this.output(doc);
  }

  /** Calls `iterator` with each document not read yet. */
  async forEach(iterator: (doc: unknown) => unknown): Promise<void> {
    for (const doc of await this.toArray()) await iterator(doc);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    while (await this.hasNext()) yield await this.next();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  isClosed(): boolean {
    return this.closed;
  }

  private read(): Promise<ReactionJobDocument[]> {
    if (this.closed) return Promise.reject(new Error("the Jobs cursor is closed"));
    this.results ??= this.source.run(this.cmd, true, this.reads);
    return this.results;
  }

  private output(doc: ReactionJobDocument): unknown {
    return this.transform ? this.transform(doc) : doc;
  }

  private changed(): this {
    this.results = undefined;
    this.position = 0;
    return this;
  }
}

function wholeNumber(value: unknown, field: string, signed = false): number {
  if (typeof value !== "number" || !Number.isInteger(value) || (!signed && value < 0))
    throw new JobValidationError(
      field,
      `must be a ${signed ? "" : "non-negative "}whole number, got ${String(value)}`,
    );
  return value;
}
