import { randomInt } from "node:crypto";

// Meteor's Random.id alphabet: Reaction's job ids look like this, 17 characters long.
const UNMISTAKABLE = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/** A 17-character random id in Meteor's alphabet, like Reaction's job `_id` and `runId`. */
export function randomId(length = 17): string {
  let id = "";
  for (let i = 0; i < length; i += 1) id += UNMISTAKABLE[randomInt(UNMISTAKABLE.length)];
  return id;
}
