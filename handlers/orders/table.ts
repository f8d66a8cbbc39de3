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
    { name: "status", type: "S" },
    { name: "pendingSince", type: "S" },
  ],
  globalSecondaryIndexes: [
    {
      name: "byCustomer",
      hashKey: "customerId",
      rangeKey: "createdAt",
      projectionType: "ALL",
    },
    // The orders still waiting for fulfilment, oldest first, for the sweeper: a sparse index.
    // An item is in a GSI only while it has both key attributes, and `pendingSince` lives
    // exactly as long as the order is PENDING (create-order writes it with the order, the
    // fulfilling update removes it), so FULFILLED orders cost nothing here. The hash key is
    // `status`, whose value is the constant "PENDING" for every item in the index: one
    // partition, so a single Query ranges over time (`pendingSince < cutoff`). One index
    // partition takes 1000 writes a second, two per order (in and out): past ~400 orders a
    // second, shard the hash key (e.g. `PENDING#<n>`) and query each shard.
    {
      name: "pending",
      hashKey: "status",
      rangeKey: "pendingSince",
      // The sweeper needs only the order's key.
      projectionType: "KEYS_ONLY",
    },
  ],
} as const;

/** The GSI that lists a customer's orders, newest last by `createdAt` (ISO 8601). */
export const CUSTOMER_INDEX = ordersTable.globalSecondaryIndexes[0].name;
/** The sparse GSI of PENDING orders, oldest first by `pendingSince` (ISO 8601). */
export const PENDING_INDEX = ordersTable.globalSecondaryIndexes[1].name;
/** The attribute that puts an order in the pending index, removed when it is fulfilled. */
export const PENDING_SINCE = ordersTable.globalSecondaryIndexes[1].rangeKey;
