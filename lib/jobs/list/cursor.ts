import { JobValidationError } from "../../errors.ts";

/**
 * A place in the listing order (`created` descending, then `_id` descending): every job at or
 * before it in that order has been considered, and a page from it starts strictly after it.
 */
export interface Position {
  created: number;
  id: string;
}

/** Newest first: `created` descending, then `_id` descending (the listing index's order). */
export function newestFirst(
  a: { created: number; _id: string },
  b: { created: number; _id: string },
): number {
  return b.created - a.created || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
}

/** Is this entry strictly after `after` in the listing order (not yet considered)? */
export function startsAfter(
  entry: { created: number; _id: string },
  after: Position | undefined,
): boolean {
  if (!after) return true;
  return entry.created < after.created || (entry.created === after.created && entry._id < after.id);
}

/** The opaque cursor of a position: every listing's pages, whoever asks, use this one form. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.created, position.id]), "utf8").toString("base64url");
}

/** The position a cursor names; throws a `JobValidationError` on `cursor` for anything else. */
export function decodeCursor(cursor: unknown): Position {
  const refused = () =>
    new JobValidationError("cursor", "is not a cursor returned by a previous page");
  if (typeof cursor !== "string" || cursor === "") throw refused();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw refused();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== "string"
  )
    throw refused();
  return { created: value[0] as number, id: value[1] as string };
}
