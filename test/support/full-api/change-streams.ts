import { EventEmitter } from "node:events";
import { Query } from "mingo";

/**
 * `collection.watch(pipeline)` for a mongo-mock collection, inserts only: what the files
 * plugin's `TempFileStoreWorker` and `RemoteUrlWorker` watch (`operationType: "insert"` and a
 * `$match` on the new `fullDocument`), which schedule its `saveImage/*` jobs. MongoDB serves
 * change streams only from a replica set, and mongo-mock has none; without `watch` the files
 * plugin's startup throws. Update, replace and delete events are not produced: no plugin of
 * Reaction v4.2.7 watches for them.
 */
export function withChangeStreams(collection: object): void {
  type InsertCallback = (error: Error | null, result?: { ops: Record<string, unknown>[] }) => void;
  const target = collection as {
    insert(docs: unknown, options?: unknown, callback?: InsertCallback): unknown;
    watch?: (pipeline?: Array<Record<string, unknown>>) => EventEmitter & { close(): void };
  };
  const streams = new Set<{ emit(event: Record<string, unknown>): void }>();
  const insert = target.insert.bind(target);
  const publish = (result: { ops: Record<string, unknown>[] }) => {
    for (const fullDocument of result.ops) {
      for (const stream of streams) stream.emit({ operationType: "insert", fullDocument });
    }
  };
  // mongo-mock's insertOne and insertMany both go through insert: with a callback (insertOne
  // passes one) or returning a promise.
  target.insert = (docs: unknown, options?: unknown, callback?: InsertCallback) => {
    const done = typeof options === "function" ? (options as InsertCallback) : callback;
    if (!done) {
      return (insert(docs, options) as Promise<{ ops: Record<string, unknown>[] }>).then(
        (result) => {
          publish(result);
          return result;
        },
      );
    }
    return insert(docs, typeof options === "function" ? {} : options, (error, result) => {
      if (!error && result) publish(result);
      done(error, result);
    });
  };
  target.watch = (pipeline = []) => {
    const emitter = new EventEmitter();
    const matches = pipeline.map((stage) => {
      if (Object.keys(stage).some((key) => key !== "$match")) {
        throw new ChangeStreamPipelineError(Object.keys(stage).join(", "));
      }
      return new Query(stage.$match as Record<string, unknown>);
    });
    const stream = {
      emit(event: Record<string, unknown>) {
        if (!matches.every((query) => query.test(event))) return;
        // A change stream delivers after the write has returned, as MongoDB's does.
        setImmediate(() => emitter.emit("change", structuredClone(event)));
      },
    };
    streams.add(stream);
    return Object.assign(emitter, {
      close() {
        streams.delete(stream);
        emitter.removeAllListeners();
      },
    });
  };
}

/** A `watch` pipeline stage other than `$match`, which this stand-in does not run. */
export class ChangeStreamPipelineError extends Error {
  constructor(stages: string) {
    super(`collection.watch pipeline: only $match stages are supported here, got ${stages}`);
    this.name = "ChangeStreamPipelineError";
  }
}
