import type { ReactionAPICore } from "@reactioncommerce/api-core";
import { gql } from "apollo-server";
import { createTestClient } from "apollo-server-testing";

export type GraphQL = <T = Record<string, unknown>>(
  operation: string,
  variables?: Record<string, unknown>,
) => Promise<T>;

const ADMIN_USER_ID = "full-api-admin";

/**
 * Signs an operator in as Reaction's own integration tests do (`ReactionTestAPICore`
 * `setLoggedInUser`): an account whose global group holds every permission the authorization
 * plugin knows (its `roles` collection, filled at startup), set as the context's user, and a
 * GraphQL client on the API's Apollo server. Permission checks run for real: the
 * authorization-simple plugin reads the account's groups.
 */
export async function signInAdmin(api: ReactionAPICore): Promise<GraphQL> {
  const { Accounts, Groups, roles, users } = api.collections as unknown as Record<
    "Accounts" | "Groups" | "roles" | "users",
    Collection
  >;
  const permissions = (await roles.find({}).toArray()).map((role) => role.name);
  const now = new Date();
  await Groups.insertOne({
    _id: "full-api-admins",
    name: "full-api admins",
    slug: "full-api-admins",
    permissions,
    createdAt: now,
    updatedAt: now,
  });
  const emails = [{ address: "admin@example.test", verified: true, provides: "default" }];
  await users.insertOne({ _id: ADMIN_USER_ID, emails, services: {} });
  await Accounts.insertOne({
    _id: "full-api-admin-account",
    userId: ADMIN_USER_ID,
    groups: ["full-api-admins"],
    emails,
    profile: {},
    shopId: null,
    state: "new",
    createdAt: now,
    updatedAt: now,
  });
  api.context.user = { _id: ADMIN_USER_ID };
  const client = createTestClient(api.apolloServer);
  return async <T>(operation: string, variables: Record<string, unknown> = {}) => {
    const result = await client.query({ query: gql(operation), variables });
    if (result.errors?.length) throw new GraphQLOperationError(operation, result.errors);
    return result.data as T;
  };
}

interface Collection {
  find(filter: object): { toArray(): Promise<Array<Record<string, unknown>>> };
  insertOne(doc: object): Promise<unknown>;
}

/** A GraphQL operation answered with errors: the operation's first line and the errors. */
export class GraphQLOperationError extends Error {
  constructor(operation: string, errors: unknown[]) {
    super(`${operation.trim().split("\n")[0]}: ${JSON.stringify(errors)}`);
    this.name = "GraphQLOperationError";
  }
}
