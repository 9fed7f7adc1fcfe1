import type { JobMessage } from "./deps.ts";
import { stableHash } from "./keys.ts";
import type { JobRecord } from "./types.ts";

/** What SQS takes as a `MessageGroupId`: 1 to 128 of these characters. */
const MESSAGE_GROUP = /^[\x21-\x7e]{1,128}$/;

/**
 * The message that delivers a job: its id, type and fairness group, never its data.
 * `enqueue` adds `at`, when it becomes receivable.
 */
export function messageFor(record: Pick<JobRecord, "_id" | "type" | "tenant">): JobMessage {
  return { id: record._id, type: record.type, group: messageGroup(record) };
}

/**
 * A job's fairness group (SQS `MessageGroupId`): its tenant, or `type:<type>` for a job
 * without one, so a busy type without tenants is one group, not thousands of quiet ones.
 * A value SQS would refuse (too long, not printable ASCII) becomes `#<hash>` of it.
 *
 * @example messageGroup({ type: "sendEmail", tenant: "shop1" }) // "shop1"
 */
export function messageGroup(record: Pick<JobRecord, "type" | "tenant">): string {
  const group = record.tenant ?? `type:${record.type}`;
  return MESSAGE_GROUP.test(group) ? group : `#${stableHash(group).toString(36)}`;
}

/**
 * A job's message as sent at `now`, with `at` no later than the job's due time in the `open`
 * index (its `dueAt`, else its `after`) nor than the send: the reconciler compares the two,
 * and a message sent late (after a slow insert of many jobs) must not look newer than its
 * job, or the job would look left behind while its message waits its turn.
 */
export function dueMessage(
  record: Pick<JobRecord, "_id" | "type" | "tenant" | "after" | "dueAt">,
  now: number,
): JobMessage {
  const at = Math.min(record.dueAt ?? record.after, Math.max(record.after, now));
  return { ...messageFor(record), at };
}

/**
 * When a message became receivable: a firing's instant, else its `at`; `undefined` for an
 * older message that carries neither.
 */
export function messageAt(message: JobMessage): number | undefined {
  if (message.firedAt !== undefined) {
    const firedAt = Date.parse(message.firedAt);
    if (Number.isFinite(firedAt)) return firedAt;
  }
  return message.at;
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
      const message: JobMessage = { id: value.id, type: value.type };
      if (typeof value.firedAt === "string") message.firedAt = value.firedAt;
      if (typeof value.group === "string" && value.group !== "") message.group = value.group;
      if (typeof value.at === "number" && Number.isFinite(value.at)) message.at = value.at;
      if (value.moved === true) message.moved = true;
      return message;
    }
  } catch {
    // not JSON: poison
  }
  return null;
}
