/**
 * The local stack's stand-in for the DynamoDB event source that feeds the payload purger
 * Lambda: it reads the job table's stream from DynamoDB Local (which serves the Streams API)
 * and hands each batch of records to the same function the Lambda runs.
 */
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import type { JobLogger } from "../log.ts";
import { LOCAL_CREDENTIALS } from "../stack.ts";

/**
 * How often the stream is read when the last read found nothing: every app of the test suite
 * reads its own table's stream from the one shared DynamoDB Local, so idle reads stay rare.
 */
const IDLE_POLL_MS = 1000;
/** How often the shard list is read again (DynamoDB rolls shards over every few hours). */
const SHARD_LIST_MS = 30_000;

export interface TableStreamReader {
  /** Reads until nothing new is on the stream, handing each batch on. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads `tableName`'s stream from the start (TRIM_HORIZON, as the construct's event source)
 * and calls `onRecords` with each non-empty batch, in order per shard. A failed batch is
 * logged and read again on the next poll, as Lambda retries a failed batch.
 *
 * @example const reader = await readTableStream({ dynamodb, endpoint, region, tableName, logger, onRecords });
 */
export async function readTableStream(options: {
  dynamodb: DynamoDBClient;
  endpoint: string;
  region: string;
  tableName: string;
  logger: JobLogger;
  onRecords(records: StreamRecord[]): Promise<unknown>;
  /**
   * Whether the stream is worth reading now (default: always). The timer asks before each
   * pass; `drain()` reads regardless. Records stay on the stream until read.
   */
  worthReading?(): Promise<boolean>;
}): Promise<TableStreamReader> {
  const { Table } = await options.dynamodb.send(
    new DescribeTableCommand({ TableName: options.tableName }),
  );
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const streams = new DynamoDBStreamsClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  /** Open shards' next iterators; shards read to their end are remembered as done. */
  const iterators = new Map<string, string>();
  /** Each shard's last record handed on: where a fresh iterator starts after it. */
  const handled = new Map<string, string>();
  const finished = new Set<string>();
  let stopped = false;
  let shardsReadAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<boolean> | undefined;

  /** An iterator on `shard` just past what was handed on (from its start before that). */
  const iteratorFor = async (shard: string): Promise<string | undefined> => {
    const after = handled.get(shard);
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard,
        ...(after
          ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after }
          : { ShardIteratorType: "TRIM_HORIZON" }),
      }),
    );
    return ShardIterator;
  };

  const discoverShards = async () => {
    shardsReadAt = Date.now();
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      const id = shard.ShardId;
      if (!id || iterators.has(id) || finished.has(id)) continue;
      const iterator = await iteratorFor(id);
      if (iterator) iterators.set(id, iterator);
      else finished.add(id);
    }
  };

  /** A shard's next batch; an iterator DynamoDB Local no longer takes is made again. */
  const readShard = async (shard: string, iterator: string) => {
    try {
      return await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
    } catch (error) {
      // DynamoDB Local (one sequence across its tables) refuses a TRIM_HORIZON iterator taken
      // while the shard was empty once records arrive: "read past the oldest stream record".
      const name = (error as Error).name;
      if (name !== "TrimmedDataAccessException" && name !== "ExpiredIteratorException") throw error;
      const fresh = await iteratorFor(shard);
      if (!fresh) return { Records: [], NextShardIterator: undefined };
      return streams.send(new GetRecordsCommand({ ShardIterator: fresh }));
    }
  };

  /** One pass over every shard; true when it found records. */
  const readOnce = async (): Promise<boolean> => {
    if (iterators.size === 0 || Date.now() - shardsReadAt > SHARD_LIST_MS) await discoverShards();
    let found = false;
    for (const [shard, iterator] of iterators) {
      const { Records, NextShardIterator } = await readShard(shard, iterator);
      if (Records && Records.length > 0) {
        found = true;
        // Not past this batch until it was handled: a failure reads it again.
        await options.onRecords(Records);
        const last = Records.at(-1)?.dynamodb?.SequenceNumber;
        if (last) handled.set(shard, last);
      }
      if (NextShardIterator) iterators.set(shard, NextShardIterator);
      else {
        // The shard ended: its successor is in the shard list.
        iterators.delete(shard);
        finished.add(shard);
        shardsReadAt = Number.NEGATIVE_INFINITY;
      }
    }
    return found;
  };

  const pass = (): Promise<boolean> => {
    reading ??= readOnce()
      .catch((error: unknown) => {
        options.logger.warn("payload purge: table stream read failed", {
          error: (error as Error).message,
        });
        return false;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(async () => {
      const worth = options.worthReading ? await options.worthReading().catch(() => true) : true;
      const found = worth && (await pass());
      schedule(found ? 0 : IDLE_POLL_MS);
    }, ms);
  };
  schedule(0);

  return {
    async drain() {
      await reading;
      while (await pass()) {}
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await reading;
      streams.destroy();
    },
  };
}
