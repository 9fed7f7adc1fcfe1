/**
 * The cost model `npm run bench` prints: AWS requests per job, from the requests counted on
 * the local stack, at us-east-1 list prices. Items under 1 KB (1 write unit a write, 1 read
 * unit a strongly consistent read), messages under 64 KB (1 SQS request a call).
 */
export const PRICES = {
  writeUnit: 0.625, // $ per million DynamoDB on-demand write units
  readUnit: 0.125, // $ per million read units
  sqsRequest: 0.4, // $ per million SQS requests
  lambdaRequest: 0.2, // $ per million Lambda invocations
  lambdaGbSecond: 0.0000133334, // arm64
};

/** The event source mapping's batch: 10 messages a receive, a delete and an invocation. */
const BATCH = 10;
/** A 512 MB dispatcher running about 100 ms a batch. */
const LAMBDA_GB_SECONDS_PER_BATCH = 0.5 * 0.1;

/**
 * Index writes a job costs, from the table's definition (lib/resources.ts): `open` gets an
 * entry at insert and loses it at the end (2), `byType` gets one at insert (1); a retry moves
 * the job's `dueAt` (a delete and a put: 2).
 */
export const INDEX_WRITES = { perJob: 3, perRetry: 2 };

export interface CostLine {
  what: string;
  perJob: number;
  usdPerMillion: number;
}

/**
 * Cost per million jobs from requests counted per job. On AWS the event source mapping
 * receives and deletes in batches of 10, so the local poller's receives and deletes are
 * replaced by 0.1 + 0.1 a message.
 */
export function costPerMillion(perJob: Record<string, number>, retriesPerJob = 0): CostLine[] {
  const n = (operation: string) => perJob[operation] ?? 0;
  const messages =
    n("SQS.SendMessage") > 0 || n("SQS.SendMessageBatch") > 0 ? 1 + retriesPerJob : 0;
  const itemWrites = n("DynamoDB.PutItem") + n("DynamoDB.UpdateItem") + n("DynamoDB.DeleteItem");
  const indexWrites = INDEX_WRITES.perJob + INDEX_WRITES.perRetry * retriesPerJob;
  const reads = n("DynamoDB.GetItem") + n("DynamoDB.BatchGetItem") + n("DynamoDB.Query");
  const sends = n("SQS.SendMessage") + n("SQS.SendMessageBatch");
  const consume = (2 * messages) / BATCH;
  const lines: Array<[string, number, number]> = [
    ["item writes (put, claim, settle)", itemWrites, PRICES.writeUnit],
    ["index writes (open +1 -1, byType +1)", indexWrites, PRICES.writeUnit],
    ["reads (cancel log, amortized)", reads, PRICES.readUnit],
    ["SQS sends (SendMessageBatch)", sends, PRICES.sqsRequest],
    ["SQS receive + delete (batches of 10)", consume, PRICES.sqsRequest],
    ["Lambda invocations (batches of 10)", messages / BATCH, PRICES.lambdaRequest],
    [
      "Lambda duration (512 MB, 100 ms a batch)",
      (messages / BATCH) * LAMBDA_GB_SECONDS_PER_BATCH,
      PRICES.lambdaGbSecond * 1e6,
    ],
  ];
  return lines.map(([what, count, price]) => ({
    what,
    perJob: round(count, 3),
    usdPerMillion: round(count * price, 3),
  }));
}

export function total(lines: CostLine[]): number {
  return round(
    lines.reduce((sum, line) => sum + line.usdPerMillion, 0),
    2,
  );
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
