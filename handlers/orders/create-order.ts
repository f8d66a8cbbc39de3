import { createHash } from "node:crypto";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { readParameters, requiredPositiveInteger } from "../lib/config";
import { requireEnv } from "../lib/env";
import { HttpError, httpHandler, json, readJsonBody, requireOwnCustomer, unknownFieldsProblem, validationError } from "../lib/http";
import { logger, metrics } from "../lib/observability";
import { CUSTOMER_ID_PATTERN, CUSTOMER_ID_RULE, db, isConditionFailure, publicOrder, type Order, type OrderItem, type StoredOrder } from "./model";
import { CUSTOMER_INDEX } from "./table";

const TABLE_NAME = requireEnv("TABLE_NAME");
const PARAMETERS_PATH = requireEnv("PARAMETERS_PATH");

/** Largest quantity of one line. */
export const MAX_QUANTITY = 1000;
const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Idempotency keys: 1-128 visible ASCII characters (a UUID fits). */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;
const IDEMPOTENCY_HEADER = "idempotency-key";
const REQUEST_FIELDS = ["customerId", "items", "clientToken"];
const ITEM_FIELDS = ["sku", "quantity"];
/** The window of the per-customer order limit. */
const LIMIT_WINDOW_MS = 24 * 60 * 60 * 1000;

interface CreateOrderRequest {
  customerId: string;
  items: OrderItem[];
  idempotencyKey: string;
}

interface OrderConfig {
  maxItemsPerOrder: number;
  maxOrdersPerCustomerPerDay: number;
}

/** This function's Parameter Store values (cached; see lib/config). */
async function loadConfig(): Promise<OrderConfig> {
  const values = await readParameters(PARAMETERS_PATH);
  return {
    maxItemsPerOrder: requiredPositiveInteger(values, PARAMETERS_PATH, "maxItemsPerOrder"),
    maxOrdersPerCustomerPerDay: requiredPositiveInteger(values, PARAMETERS_PATH, "maxOrdersPerCustomerPerDay"),
  };
}

/**
 * The order id of a request: SHA-256 of the customer and the idempotency key, so every retry
 * of a request maps to the same item and the table's key makes a second one impossible. It
 * depends on no secret, so rotating one cannot give a retry a new id; the id is not a
 * capability (reads check the caller owns the order), and the key is the client's own random
 * value. The two values are encoded as a JSON array so ("ab", "c") and ("a", "bc") never collide.
 */
export function orderIdFor(customerId: string, idempotencyKey: string): string {
  return createHash("sha256").update(JSON.stringify(["order", customerId, idempotencyKey])).digest("hex");
}

/**
 * One write per request: the conditional PutItem of a PENDING order. Fulfilment follows from
 * that write through the table's stream (fulfil-orders), so there is no second write that
 * could fail on its own. A repeated request (same customer and key) meets the write's
 * condition, or the limit, then finds its order and answers with it; whatever step of an
 * earlier attempt failed, the order exists once or not at all. The write's condition is the
 * idempotency check, so a new order costs the limit's count and the write, and no read before it.
 */
export const handler = httpHandler(async (event) => {
  const body = readJsonBody(event);
  const config = await loadConfig();
  const request = parseCreateOrder(body, config.maxItemsPerOrder, event);
  requireOwnCustomer(event, request.customerId);

  const orderId = orderIdFor(request.customerId, request.idempotencyKey);
  if (await reachedLimit(request.customerId, config.maxOrdersPerCustomerPerDay)) {
    // A retry of an order accepted before the customer reached the limit still replays.
    const earlier = await readOrder(orderId);
    if (earlier !== undefined) return replay(earlier, request);
    metrics.addMetric("OrderLimitReached", MetricUnit.Count, 1);
    throw new HttpError(
      429,
      "OrderLimitExceeded",
      `A customer may create at most ${config.maxOrdersPerCustomerPerDay} orders in 24 hours; try again later`,
    );
  }

  const order: Order = {
    orderId,
    customerId: request.customerId,
    items: request.items,
    status: "PENDING",
    createdAt: new Date().toISOString(),
    itemCount: request.items.length,
  };
  // In the pending index from its first write, so the sweeper finds it if the stream path never fulfils it.
  const item: StoredOrder = { ...order, pendingSince: order.createdAt };
  try {
    await db.send(
      new PutCommand({ TableName: TABLE_NAME, Item: item, ConditionExpression: "attribute_not_exists(orderId)" }),
    );
  } catch (error) {
    // A repeated request, the SDK's retry of a write whose first response was lost, or a concurrent retry.
    if (!isConditionFailure(error)) throw error;
    const stored = await readOrder(orderId);
    if (stored === undefined) throw new Error(`Order ${orderId} failed its create condition but cannot be read`);
    return replay(stored, request);
  }
  metrics.addMetric("OrderCreated", MetricUnit.Count, 1);
  logger.info("Order created", { orderId, itemCount: order.itemCount });
  return json(201, order, { location: `/orders/${orderId}` });
});

async function readOrder(orderId: string): Promise<Order | undefined> {
  const { Item } = await db.send(new GetCommand({ TableName: TABLE_NAME, Key: { orderId }, ConsistentRead: true }));
  return Item === undefined ? undefined : publicOrder(Item);
}

/** A create repeated with the same idempotency key: the stored order (200), if it is the same order. */
function replay(existing: Order, request: CreateOrderRequest): ReturnType<typeof json> {
  if (!sameItems(existing.items, request.items)) {
    throw new HttpError(
      409,
      "IdempotencyConflict",
      "The idempotency key was already used for an order with different contents; use a new key for a new order",
    );
  }
  logger.info("Repeated create: answered with the stored order", { orderId: existing.orderId, status: existing.status });
  return json(200, existing, { location: `/orders/${existing.orderId}` });
}

function sameItems(a: OrderItem[], b: OrderItem[]): boolean {
  return a.length === b.length && a.every((item, i) => item.sku === b[i].sku && item.quantity === b[i].quantity);
}

/**
 * The per-customer limit: whether the customer created `limit` orders in the last 24 hours.
 * Counted on the customer index, which is eventually consistent: a burst of concurrent
 * requests can pass it by the few that race, which bounds abuse without a second write.
 */
async function reachedLimit(customerId: string, limit: number): Promise<boolean> {
  const since = new Date(Date.now() - LIMIT_WINDOW_MS).toISOString();
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: TABLE_NAME,
        IndexName: CUSTOMER_INDEX,
        KeyConditionExpression: "customerId = :customerId AND createdAt >= :since",
        ExpressionAttributeValues: { ":customerId": customerId, ":since": since },
        Select: "COUNT",
        // Reads (and pays for) no more of the customer's orders than the limit needs.
        Limit: limit - count,
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined && count < limit);
  return count >= limit;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Check the whole body and report every problem at once (400), or return the request. */
function parseCreateOrder(body: unknown, maxItemsPerOrder: number, event: APIGatewayProxyEventV2): CreateOrderRequest {
  if (!isObject(body)) {
    throw validationError([{ field: "(body)", message: `must be a JSON object, got ${kindOf(body)}` }]);
  }
  const problems = unknownFieldsProblem(Object.keys(body), REQUEST_FIELDS, "(body)");

  const { customerId, items, clientToken } = body;
  if (customerId === undefined) {
    problems.push({ field: "customerId", message: "is required" });
  } else if (typeof customerId !== "string") {
    problems.push({ field: "customerId", message: `must be a string, got ${kindOf(customerId)}` });
  } else if (!CUSTOMER_ID_PATTERN.test(customerId)) {
    problems.push({ field: "customerId", message: CUSTOMER_ID_RULE });
  }

  if (items === undefined) {
    problems.push({ field: "items", message: "is required" });
  } else if (!Array.isArray(items)) {
    problems.push({ field: "items", message: `must be an array, got ${kindOf(items)}` });
  } else if (items.length === 0) {
    problems.push({ field: "items", message: "must contain at least one item" });
  } else if (items.length > maxItemsPerOrder) {
    problems.push({ field: "items", message: `must contain at most ${maxItemsPerOrder} items, got ${items.length}` });
  } else {
    const firstLineOfSku = new Map<string, number>();
    items.forEach((item: unknown, i) => {
      const at = `items[${i}]`;
      if (!isObject(item)) {
        problems.push({ field: at, message: `must be an object, got ${kindOf(item)}` });
        return;
      }
      problems.push(...unknownFieldsProblem(Object.keys(item), ITEM_FIELDS, at));
      const { sku, quantity } = item;
      if (sku === undefined) {
        problems.push({ field: `${at}.sku`, message: "is required" });
      } else if (typeof sku !== "string") {
        problems.push({ field: `${at}.sku`, message: `must be a string, got ${kindOf(sku)}` });
      } else if (!SKU_PATTERN.test(sku)) {
        problems.push({ field: `${at}.sku`, message: "must be 1-64 characters of letters, digits and ._-" });
      } else if (firstLineOfSku.has(sku)) {
        problems.push({
          field: `${at}.sku`,
          message: `repeats items[${firstLineOfSku.get(sku)}].sku "${sku}"; put the total quantity on one line`,
        });
      } else {
        firstLineOfSku.set(sku, i);
      }
      if (quantity === undefined) {
        problems.push({ field: `${at}.quantity`, message: "is required" });
      } else if (typeof quantity !== "number") {
        problems.push({ field: `${at}.quantity`, message: `must be a number, got ${kindOf(quantity)}` });
      } else if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
        problems.push({ field: `${at}.quantity`, message: `must be an integer from 1 to ${MAX_QUANTITY}, got ${quantity}` });
      }
    });
  }

  const headerKey = event.headers?.[IDEMPOTENCY_HEADER];
  const keys: Array<[string, unknown]> = [];
  if (headerKey !== undefined) keys.push(["Idempotency-Key (header)", headerKey]);
  if (clientToken !== undefined) keys.push(["clientToken", clientToken]);
  if (keys.length === 0) {
    problems.push({ field: "Idempotency-Key", message: "is required: send an Idempotency-Key header (or clientToken), a new random value per order, the same on every retry" });
  }
  let keysValid = true;
  for (const [field, key] of keys) {
    if (typeof key !== "string") {
      problems.push({ field, message: `must be a string, got ${kindOf(key)}` });
      keysValid = false;
    } else if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      problems.push({ field, message: "must be 1-128 visible ASCII characters" });
      keysValid = false;
    }
  }
  if (keysValid && headerKey !== undefined && clientToken !== undefined && headerKey !== clientToken) {
    problems.push({ field: "clientToken", message: "differs from the Idempotency-Key header; send one of them" });
  }

  if (problems.length > 0) throw validationError(problems);
  return {
    customerId: customerId as string,
    items: (items as OrderItem[]).map(({ sku, quantity }) => ({ sku, quantity })),
    idempotencyKey: (headerKey ?? clientToken) as string,
  };
}
