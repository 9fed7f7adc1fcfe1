/** Aliased DynamoDB expressions: the update builder and the status condition the records use. */
import type { JobStatus } from "../../jobs/types.ts";

/** A condition's own names and values, merged into the update's. */
export interface ExpressionParams {
  names: Record<string, string>;
  values: Record<string, unknown>;
}

type Action =
  | { kind: "set"; value: unknown }
  | { kind: "setFrom"; source: string }
  | { kind: "add"; delta: number }
  | { kind: "remove" };

/**
 * A small builder for aliased update expressions (`status`, `data`, `type`... are reserved
 * words). One action per attribute, the last call winning: DynamoDB refuses an update that
 * names an attribute twice ("two document paths overlap"), so a change the index maintenance
 * overrides (say `leaseUntil` on a job that stops running) is dropped here, as the in-memory
 * store drops it.
 *
 * @example new Update().set("status", "running").add("retried", 1).expression("#s = :s", p)
 */
export class Update {
  private readonly actions = new Map<string, Action>();

  set(attribute: string, value: unknown): this {
    return this.put(attribute, { kind: "set", value });
  }

  /** `SET target = source`: copy another attribute's value (as it was before the update). */
  setFrom(target: string, source: string): this {
    return this.put(target, { kind: "setFrom", source });
  }

  add(attribute: string, delta: number): this {
    return this.put(attribute, { kind: "add", delta });
  }

  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.put(attribute, { kind: "remove" });
    return this;
  }

  /** The `UpdateCommand` fields for these actions under `condition`. */
  expression(condition: string, params: ExpressionParams) {
    const sets: string[] = [];
    const adds: string[] = [];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (const [attribute, action] of this.actions) {
      if (action.kind === "remove") {
        const i = removes.length;
        names[`#r${i}`] = attribute;
        removes.push(`#r${i}`);
        continue;
      }
      const i = sets.length + adds.length;
      names[`#u${i}`] = attribute;
      if (action.kind === "setFrom") {
        names[`#s${i}`] = action.source;
        sets.push(`#u${i} = #s${i}`);
      } else if (action.kind === "set") {
        values[`:u${i}`] = action.value;
        sets.push(`#u${i} = :u${i}`);
      } else {
        values[`:u${i}`] = action.delta;
        adds.push(`#u${i} :u${i}`);
      }
    }
    const clauses = [
      sets.length ? `SET ${sets.join(", ")}` : "",
      adds.length ? `ADD ${adds.join(", ")}` : "",
      removes.length ? `REMOVE ${removes.join(", ")}` : "",
    ];
    return {
      UpdateExpression: clauses.filter(Boolean).join(" "),
      ConditionExpression: condition,
      ExpressionAttributeNames: { ...names, ...params.names },
      ExpressionAttributeValues: { ...values, ...params.values },
    };
  }

  private put(attribute: string, action: Action): this {
    // Re-inserted at the end: the expression lists attributes in the order last touched.
    this.actions.delete(attribute);
    this.actions.set(attribute, action);
    return this;
  }
}

/**
 * `#status IN (:from0, ...)` for a non-empty list of statuses.
 *
 * @example statusIn(["ready"]) // { clause: "#status IN (:from0)", values: { ":from0": "ready" } }
 */
export function statusIn(from: readonly JobStatus[]): {
  clause: string;
  values: Record<string, unknown>;
} {
  const values: Record<string, unknown> = {};
  const placeholders = from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  return { clause: `#status IN (${placeholders.join(", ")})`, values };
}
