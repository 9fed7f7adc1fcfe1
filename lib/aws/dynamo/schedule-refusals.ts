/**
 * Refused schedules (later.js found no occurrence in them): one item, `#refusals`, three
 * attributes a refusal (its latest note, a count, when it was first refused), so one `GetItem`
 * lists them all and recording or clearing one is one `UpdateItem`.
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  REFUSAL_COUNT_PREFIX,
  REFUSAL_FIRST_PREFIX,
  REFUSAL_NOTE_PREFIX,
  SCHEDULE_REFUSALS_ID,
} from "../../jobs/keys.ts";
import type { ScheduleRefusal, ScheduleRefusalNote } from "../../jobs/ports.ts";
import { isConditionFailure, type JobTable } from "./table.ts";

/**
 * Records a refusal under `key` (its note replaced, its count up by one, its first time kept),
 * or with `null` removes it; removing one that is not there writes nothing (a condition).
 */
export async function noteScheduleRefusal(
  table: JobTable,
  key: string,
  note: ScheduleRefusalNote | null,
): Promise<void> {
  const names = {
    "#note": REFUSAL_NOTE_PREFIX + key,
    "#count": REFUSAL_COUNT_PREFIX + key,
    "#first": REFUSAL_FIRST_PREFIX + key,
  };
  if (note === null) {
    try {
      await table.client.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { _id: SCHEDULE_REFUSALS_ID },
          UpdateExpression: "REMOVE #note, #count, #first",
          ConditionExpression: "attribute_exists(#note)",
          ExpressionAttributeNames: names,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return;
  }
  await table.client.send(
    new UpdateCommand({
      TableName: table.name,
      Key: { _id: SCHEDULE_REFUSALS_ID },
      UpdateExpression: "SET #note = :note, #first = if_not_exists(#first, :at) ADD #count :one",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ":note": stored(note), ":at": note.at, ":one": 1 },
    }),
  );
}

/** Every recorded refusal (strongly consistent). */
export async function scheduleRefusals(table: JobTable): Promise<ScheduleRefusal[]> {
  const { Item } = await table.client.send(
    new GetCommand({
      TableName: table.name,
      Key: { _id: SCHEDULE_REFUSALS_ID },
      ConsistentRead: true,
    }),
  );
  const refusals: ScheduleRefusal[] = [];
  for (const [name, value] of Object.entries(Item ?? {})) {
    if (!name.startsWith(REFUSAL_NOTE_PREFIX)) continue;
    const key = name.slice(REFUSAL_NOTE_PREFIX.length);
    const note = read(value as StoredNote);
    refusals.push({
      ...note,
      key,
      count: Number(Item?.[REFUSAL_COUNT_PREFIX + key] ?? 1),
      firstAt: Number(Item?.[REFUSAL_FIRST_PREFIX + key] ?? note.at),
    });
  }
  return refusals.sort((a, b) => b.at - a.at || a.key.localeCompare(b.key));
}

/** A note as the item keeps it: `data` as JSON text, as job records keep theirs (a DynamoDB map cannot carry every JSON number). */
type StoredNote = Omit<ScheduleRefusalNote, "data"> & { data?: string };

function stored(note: ScheduleRefusalNote): StoredNote {
  const { data, ...rest } = note;
  return data === undefined ? rest : { ...rest, data: JSON.stringify(data) };
}

function read(note: StoredNote): ScheduleRefusalNote {
  const { data, ...rest } = note;
  return data === undefined ? rest : { ...rest, data: JSON.parse(data) };
}
