import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { awsClientConfig } from "../lib/aws-clients";
import { PENDING_SINCE } from "./table";

/**
 * The order as stored in the table and returned by the API.
 * `itemCount` is the number of lines in `items` (not the sum of quantities).
 */
export interface Order {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  status: OrderStatus;
  /** ISO 8601, UTC; the sort key of the customer index. */
  createdAt: string;
  itemCount: number;
  /** ISO 8601, UTC; set when the worker fulfils the order. */
  fulfilledAt?: string;
}

export interface OrderItem {
  sku: string;
  quantity: number;
}

export type OrderStatus = "PENDING" | "FULFILLED";

/**
 * An order as the table holds it: while PENDING it also carries `pendingSince` (ISO 8601,
 * UTC), its key in the pending index (table.ts), which the API never shows.
 */
export type StoredOrder = Order & { [PENDING_SINCE]?: string };

/** The order the API answers with: the stored item without the pending index's key. */
export function publicOrder(item: Record<string, unknown>): Order {
  const { [PENDING_SINCE]: _pendingSince, ...order } = item;
  return order as unknown as Order;
}

/**
 * Order ids: the 64 hex digits of a SHA-256 of the customer and the idempotency key
 * (create-order's `orderIdFor`), or a lower-case UUID for orders stored before keys were required.
 */
export const ORDER_ID_PATTERN =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64})$/;

/** Customer ids: 1-128 characters of letters, digits and `._:@+-`. */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9._:@+-]{1,128}$/;
/** The validation message for a customer id that does not match CUSTOMER_ID_PATTERN. */
export const CUSTOMER_ID_RULE = "must be 1-128 characters of letters, digits and ._:@+-";

/** A DynamoDB condition failed (the SDK's error name; robust across SDK copies in a bundle). */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/** The document client every order handler shares, created once per cold start. */
export const db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig()), {
  marshallOptions: { removeUndefinedValues: true },
});
