/**
 * A stand-in for what a real Reaction API gets from its shop, settings and authorization
 * plugins, trimmed to what the email and sitemap plugins read: the Shops collection (and the
 * Accounts, Groups, Products and Tags ones they look at), the `appSettings` query with the
 * sitemap refresh period, the settings types the sitemap schema extends, and a signed-in
 * developer allowed everything. For this example only: never use it in a real API.
 */
export default async function register(app) {
  await app.registerPlugin({
    label: "Example shop",
    name: "example-shop",
    collections: {
      Shops: { name: "Shops" },
      Accounts: { name: "Accounts" },
      Groups: { name: "Groups" },
      Products: { name: "Products" },
      Tags: { name: "Tags" },
    },
    queries: {
      appSettings: async () => ({ sitemapRefreshPeriod: "every 24 hours" }),
    },
    mutations: {
      createNotification: async () => null,
    },
    graphQL: {
      schemas: [
        '"Shop settings" type ShopSettings { "Unused" placeholder: String }\n"Setting updates" input ShopSettingsUpdates { "Unused" placeholder: String }',
      ],
    },
    expressMiddleware: [
      {
        route: "graphql",
        stage: "authenticate",
        fn: () => (req, _res, next) => {
          req.user = { _id: "example-developer" };
          next();
        },
      },
    ],
    functionsByType: {
      getHasPermissionFunctionForUser: [() => async () => true],
    },
  });
}
