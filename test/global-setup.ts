import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../lib/local/dynamodb-local.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The suite's one DynamoDB Local; each test app keeps its own table on it. */
    dynamodbEndpoint: string;
  }
}

/**
 * Starts one DynamoDB Local JVM for the whole run (about 3 s and 150 MB each, where a JVM per
 * file cost most of the suite's time) and gives its endpoint to the test files; the local apps
 * they start make a table of their own on it (`local: { dynamodbEndpoint }`). Files that test
 * DynamoDB Local's own lifecycle (data folder, watchdog, startup failure) still start their own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamodb = await startDynamoDbLocal();
  project.provide("dynamodbEndpoint", dynamodb.endpoint);
  return () => dynamodb.stop();
}
