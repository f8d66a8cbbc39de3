/**
 * The orders table's key schema and indexes: the single source of truth shared by the
 * Pulumi program (index.ts deploys it) and the handler tests (which create it in dynalite).
 * Plain data with no Pulumi import, so handler bundles can use the index name.
 */
export const ordersTable = {
  hashKey: "orderId",
  attributes: [
    { name: "orderId", type: "S" },
    { name: "customerId", type: "S" },
    { name: "createdAt", type: "S" },
  ],
  globalSecondaryIndexes: [
    {
      name: "byCustomer",
      hashKey: "customerId",
      rangeKey: "createdAt",
      projectionType: "ALL",
    },
  ],
} as const;

/** The GSI that lists a customer's orders, newest last by `createdAt` (ISO 8601). */
export const CUSTOMER_INDEX = ordersTable.globalSecondaryIndexes[0].name;
