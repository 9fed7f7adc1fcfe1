/**
 * GridFS for the files plugin's image stores on mongo-mock. The plugin's `GridFSStore`
 * (`@reactioncommerce/file-collections-sa-gridfs`, through `gridfs-stream`) writes and reads
 * files with the MongoDB driver's legacy `mongodb.GridStore`, which drives a real server's
 * protocol and cannot run on mongo-mock's database. This is that class's surface as
 * `gridfs-stream` calls it (open, write, close, seek, tell, read, eof, unlink, exist), keeping
 * the files in GridFS's own layout: `<root>.files` documents (`length`, `chunkSize`,
 * `contentType`, `uploadDate`) and their bytes in `<root>.chunks` (`files_id`, `n`, `data`),
 * so a test reads stored images back the way an operator would in MongoDB.
 */
type Callback<T = unknown> = (error: Error | null, result?: T) => void;

interface MockCollection {
  find(filter: object): { toArray(): Promise<Array<Record<string, unknown>>> };
  findOne(filter: object): Promise<Record<string, unknown> | null>;
  insertOne(doc: object): Promise<unknown>;
  insertMany(docs: object[]): Promise<unknown>;
  deleteMany(filter: object): Promise<unknown>;
}
interface MockDb {
  collection(name: string): MockCollection;
}

/** A GridFS file's document in `<root>.files`. */
export interface GridFile {
  _id: string;
  filename: string;
  contentType: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  metadata?: unknown;
}

const DEFAULT_CHUNK_SIZE = 255 * 1024;

export class LocalGridStore {
  static readonly DEFAULT_ROOT_COLLECTION = "fs";
  static readonly IO_SEEK_SET = 0;
  static readonly IO_SEEK_CUR = 1;
  static readonly IO_SEEK_END = 2;

  /** gridfs-stream sets 0 (by filename) when it reads a file it has no id for. */
  referenceBy = 1;
  private readonly id: string;
  private readonly root: string;
  private readonly chunkSize: number;
  private readonly contentType: string;
  private readonly metadata: unknown;
  private written: Buffer[] = [];
  private content: Buffer = Buffer.alloc(0);
  private position = 0;

  constructor(
    private readonly db: MockDb,
    id: unknown,
    private readonly filename: string | undefined,
    private readonly mode: "r" | "w",
    options: Record<string, unknown> = {},
  ) {
    this.id = String(id);
    this.root = (options.root as string | undefined) ?? LocalGridStore.DEFAULT_ROOT_COLLECTION;
    this.chunkSize = Number(options.chunk_size ?? options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    this.contentType = (options.content_type as string | undefined) ?? "binary/octet-stream";
    this.metadata = options.metadata;
  }

  open(callback: Callback<LocalGridStore>): void {
    settle(this.opened(), callback);
  }

  write(chunk: Buffer | string, callback: Callback<LocalGridStore>): void {
    const bytes = Buffer.from(chunk);
    this.written.push(bytes);
    this.position += bytes.length;
    callback(null, this);
  }

  close(callback: Callback<GridFile | null>): void {
    settle(this.mode === "w" ? this.store() : Promise.resolve(null), callback);
  }

  seek(offset: number, whence: number, callback: Callback<LocalGridStore>): void {
    const base = whence === LocalGridStore.IO_SEEK_END ? this.content.length : 0;
    const current = whence === LocalGridStore.IO_SEEK_CUR ? this.position : base;
    this.position = current + offset;
    callback(null, this);
  }

  tell(callback: Callback<number>): void {
    callback(null, this.position);
  }

  read(length: number, callback: Callback<Buffer>): void {
    const bytes = this.content.subarray(this.position, this.position + length);
    this.position += bytes.length;
    callback(null, Buffer.from(bytes));
  }

  eof(): boolean {
    return this.position >= this.content.length;
  }

  /** Deletes a file and its chunks, by id or (when no file has that id) by filename. */
  static unlink(db: MockDb, id: unknown, options: { root?: string }, callback: Callback<boolean>) {
    const root = options.root ?? LocalGridStore.DEFAULT_ROOT_COLLECTION;
    const remove = async () => {
      const files = db.collection(`${root}.files`);
      const file =
        (await files.findOne({ _id: String(id) })) ?? (await files.findOne({ filename: id }));
      if (!file) return true;
      await db.collection(`${root}.chunks`).deleteMany({ files_id: file._id });
      await files.deleteMany({ _id: file._id });
      return true;
    };
    settle(remove(), callback);
  }

  static exist(db: MockDb, id: unknown, root: string | undefined, callback: Callback<boolean>) {
    const files = db.collection(`${root ?? LocalGridStore.DEFAULT_ROOT_COLLECTION}.files`);
    settle(
      files.findOne({ _id: String(id) }).then((file) => file !== null),
      callback,
    );
  }

  private async opened(): Promise<LocalGridStore> {
    if (this.mode === "w") return this;
    const files = this.db.collection(`${this.root}.files`);
    const file = await files.findOne(
      this.referenceBy === 0 ? { filename: this.filename } : { _id: this.id },
    );
    if (!file)
      throw new GridFileNotFoundError(this.root, this.referenceBy ? this.id : this.filename);
    this.content = await readChunks(this.db, this.root, file._id as string);
    return this;
  }

  /** Replaces the file's chunks and document with what was written, as mode "w" does. */
  private async store(): Promise<GridFile> {
    const content = Buffer.concat(this.written);
    const chunks = this.db.collection(`${this.root}.chunks`);
    const files = this.db.collection(`${this.root}.files`);
    await chunks.deleteMany({ files_id: this.id });
    await files.deleteMany({ _id: this.id });
    const docs = [];
    for (let n = 0; n * this.chunkSize < content.length; n += 1) {
      const data = content.subarray(n * this.chunkSize, (n + 1) * this.chunkSize);
      docs.push({ files_id: this.id, n, data: Buffer.from(data) });
    }
    if (docs.length) await chunks.insertMany(docs);
    const file: GridFile = {
      _id: this.id,
      filename: this.filename ?? "",
      contentType: this.contentType,
      length: content.length,
      chunkSize: this.chunkSize,
      uploadDate: new Date(),
      ...(this.metadata === undefined ? {} : { metadata: this.metadata }),
    };
    await files.insertOne(file);
    return file;
  }
}

/** A GridFS file's bytes, its chunks in order. */
export async function readChunks(db: MockDb, root: string, fileId: string): Promise<Buffer> {
  const chunks = await db.collection(`${root}.chunks`).find({ files_id: fileId }).toArray();
  chunks.sort((a, b) => (a.n as number) - (b.n as number));
  return Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data as Uint8Array)));
}

/** A read of a GridFS file that is not there. */
export class GridFileNotFoundError extends Error {
  constructor(root: string, key: unknown) {
    super(`GridFS ${root}: no file ${String(key)}`);
    this.name = "GridFileNotFoundError";
  }
}

function settle<T>(promise: Promise<T>, callback: Callback<T>): void {
  promise.then(
    (result) => callback(null, result),
    (error: Error) => callback(error),
  );
}
