/**
 * The reconciler's bookkeeping: the delivery fronts processes report (spread over a few
 * progress items, one attribute a process) and the position a pass cut short stopped at.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  FRONT_ATTRIBUTE_PREFIX,
  progressIdFor,
  progressIds,
  RECONCILER_ID,
} from "../../jobs/keys.ts";
import type { ReconcilerState } from "../../jobs/ports.ts";
import { type JobTable, readItems } from "./table.ts";

/** Saves a process's delivery front, as of `at`, on its progress item. */
export async function reportFront(
  table: JobTable,
  processId: string,
  front: number,
  at: number,
): Promise<void> {
  await table.client.send(
    new UpdateCommand({
      TableName: table.name,
      Key: { _id: progressIdFor(processId) },
      UpdateExpression: "SET #process = :front",
      ExpressionAttributeNames: { "#process": FRONT_ATTRIBUTE_PREFIX + processId },
      ExpressionAttributeValues: { ":front": { front, at } },
    }),
  );
}

/** Every reported front and the saved position, in one `BatchGetItem`. */
export async function reconcilerState(table: JobTable): Promise<ReconcilerState> {
  const items = await readItems(table, [RECONCILER_ID, ...progressIds()]);
  const fronts: ReconcilerState["fronts"] = [];
  let position: string | undefined;
  for (const item of items) {
    if (item._id === RECONCILER_ID && typeof item.position === "string") position = item.position;
    for (const [name, value] of Object.entries(item)) {
      if (!name.startsWith(FRONT_ATTRIBUTE_PREFIX)) continue;
      const { front, at } = value as { front: number; at: number };
      fronts.push({ processId: name.slice(FRONT_ATTRIBUTE_PREFIX.length), front, at });
    }
  }
  return position === undefined ? { fronts } : { fronts, position };
}

/** Where the next pass starts; `null` deletes the item (from the beginning). */
export async function saveReconcilerPosition(
  table: JobTable,
  position: string | null,
): Promise<void> {
  if (position === null) {
    await table.client.send(
      new DeleteCommand({ TableName: table.name, Key: { _id: RECONCILER_ID } }),
    );
  } else {
    await table.client.send(
      new PutCommand({ TableName: table.name, Item: { _id: RECONCILER_ID, position } }),
    );
  }
}

/** Removes these processes' fronts: one update per progress item they sit on. */
export async function forgetFronts(table: JobTable, processIds: readonly string[]): Promise<void> {
  const byItem = new Map<string, string[]>();
  for (const id of processIds) {
    const item = progressIdFor(id);
    byItem.set(item, [...(byItem.get(item) ?? []), id]);
  }
  for (const [item, ids] of byItem) {
    await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { _id: item },
        UpdateExpression: `REMOVE ${ids.map((_, i) => `#p${i}`).join(", ")}`,
        ExpressionAttributeNames: Object.fromEntries(
          ids.map((id, i) => [`#p${i}`, FRONT_ATTRIBUTE_PREFIX + id]),
        ),
      }),
    );
  }
}
