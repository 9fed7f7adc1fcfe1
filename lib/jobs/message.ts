import type { JobMessage } from "./deps.ts";
import type { JobRecord } from "./types.ts";

/** The message that delivers a job: its id and type, never its data. */
export function messageFor(record: Pick<JobRecord, "_id" | "type">): JobMessage {
  return { id: record._id, type: record.type };
}

/**
 * Parses a lane message body; `null` when it is not one of ours (poison). A message is not
 * trusted beyond this: the job record, not the message, decides what runs.
 *
 * @example parseJobMessage('{"id":"a","type":"t"}') // { id: "a", type: "t" }
 */
export function parseJobMessage(body: string): JobMessage | null {
  try {
    const value = JSON.parse(body) as Partial<JobMessage> | null;
    if (
      value &&
      typeof value.id === "string" &&
      value.id !== "" &&
      typeof value.type === "string" &&
      value.type !== ""
    ) {
      return typeof value.firedAt === "string"
        ? { id: value.id, type: value.type, firedAt: value.firedAt }
        : { id: value.id, type: value.type };
    }
  } catch {
    // not JSON: poison
  }
  return null;
}
