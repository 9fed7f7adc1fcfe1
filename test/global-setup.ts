import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../lib/local/dynamodb-local.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The suite's DynamoDB Locals, one per worker; each test app keeps its own table on one. */
    dynamodbEndpoints: string[];
  }
}

/**
 * Starts one DynamoDB Local JVM per worker for the whole run (about 3 s and 150 MB each, where
 * a JVM per file cost most of the suite's time) and gives their endpoints to the test files;
 * the local apps they start make a table of their own on their worker's one
 * (`local: { dynamodbEndpoint }`, see test/support/local-app.ts). One per worker, not one for
 * all: DynamoDB Local does its work on one SQLite thread, which two workers saturated (a
 * file took 3 to 10 times as long in the suite as alone). Files that test DynamoDB Local's own
 * lifecycle (data folder, watchdog, startup failure) still start their own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workers = Math.max(1, Number(project.config.maxWorkers) || 1);
  const servers = await Promise.all(Array.from({ length: workers }, () => startDynamoDbLocal()));
  project.provide(
    "dynamodbEndpoints",
    servers.map((server) => server.endpoint),
  );
  return async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
}
