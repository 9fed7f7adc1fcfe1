/**
 * The types registry: one item whose string set holds every job type ever inserted, so a
 * listing by tenant (and the reconciler) knows which types' shards to read.
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { TYPES_REGISTRY_ID } from "../../jobs/keys.ts";
import type { JobTable } from "./table.ts";

/**
 * The registry as one process writes it: each type once per process (`ADD` to a string set is
 * idempotent), so a job costs about no registry write.
 *
 * @example await new TypeRegistry(table).register("sendEmail");
 */
export class TypeRegistry {
  /** Types this process has written to the registry, or is writing. */
  private readonly registered = new Map<string, Promise<void>>();

  constructor(private readonly table: JobTable) {}

  /** Adds a type, once per process; a failed write is tried again by the next call. */
  register(type: string): Promise<void> {
    let registering = this.registered.get(type);
    if (!registering) {
      registering = this.table.client
        .send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: { _id: TYPES_REGISTRY_ID },
            UpdateExpression: "ADD #types :type",
            ExpressionAttributeNames: { "#types": "types" },
            ExpressionAttributeValues: { ":type": new Set([type]) },
          }),
        )
        .then(() => undefined);
      registering.catch(() => this.registered.delete(type));
      this.registered.set(type, registering);
    }
    return registering;
  }

  /** Every type ever registered, sorted (strongly consistent). */
  async knownTypes(): Promise<string[]> {
    const { Item } = await this.table.client.send(
      new GetCommand({
        TableName: this.table.name,
        Key: { _id: TYPES_REGISTRY_ID },
        ConsistentRead: true,
      }),
    );
    const types = Item?.types as Set<string> | undefined;
    return [...(types ?? [])].sort();
  }
}
