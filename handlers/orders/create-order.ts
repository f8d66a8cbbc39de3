import { createHmac, randomUUID } from "node:crypto";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { readParameters, requiredPositiveInteger, requiredString } from "../lib/config";
import { requireEnv } from "../lib/env";
import { HttpError, httpHandler, json, readJsonBody, requireOwnCustomer, unknownFieldsProblem, validationError, type ProblemDetail } from "../lib/http";
import { logger, metrics } from "../lib/observability";
import { CUSTOMER_ID_PATTERN, CUSTOMER_ID_RULE, db, isConditionFailure, whilePending, type FulfilmentMessage, type Order, type OrderItem } from "./model";

const TABLE_NAME = requireEnv("TABLE_NAME");
const QUEUE_URL = requireEnv("QUEUE_URL");
const PARAMETERS_PATH = requireEnv("PARAMETERS_PATH");

const sqs = new SQSClient({});

/** Largest quantity of one line. */
export const MAX_QUANTITY = 1000;
const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Client tokens: 1-128 visible ASCII characters (a UUID fits). */
const CLIENT_TOKEN_PATTERN = /^[\x21-\x7e]{1,128}$/;
const REQUEST_FIELDS = ["customerId", "items", "clientToken"];
const ITEM_FIELDS = ["sku", "quantity"];

interface CreateOrderRequest {
  customerId: string;
  items: OrderItem[];
  clientToken?: string;
}

interface OrderConfig {
  maxItemsPerOrder: number;
  orderTokenSecret: string;
}

/** This function's Parameter Store values (cached; see lib/config). */
async function loadConfig(): Promise<OrderConfig> {
  const values = await readParameters(PARAMETERS_PATH);
  return {
    maxItemsPerOrder: requiredPositiveInteger(values, PARAMETERS_PATH, "maxItemsPerOrder"),
    orderTokenSecret: requiredString(values, PARAMETERS_PATH, "orderTokenSecret"),
  };
}

/**
 * The order id for a request carrying a client token: HMAC-SHA256 keyed by the secret, so a
 * retry maps to the same order and nobody without the secret can predict an id. The two
 * values are encoded as a JSON array so that ("ab", "c") and ("a", "bc") never collide.
 */
export function orderIdForToken(secret: string, customerId: string, clientToken: string): string {
  return createHmac("sha256", secret).update(JSON.stringify([customerId, clientToken])).digest("hex");
}

export const handler = httpHandler(async (event) => {
  const body = readJsonBody(event);
  const config = await loadConfig();
  const request = parseCreateOrder(body, config.maxItemsPerOrder);
  requireOwnCustomer(event, request.customerId);

  const token = request.clientToken;
  const byToken = token !== undefined;
  const order: Order = {
    orderId: byToken ? orderIdForToken(config.orderTokenSecret, request.customerId, token) : randomUUID(),
    customerId: request.customerId,
    items: request.items,
    status: "PENDING",
    createdAt: new Date().toISOString(),
    itemCount: request.items.length,
  };

  try {
    await db.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: order,
        ConditionExpression: "attribute_not_exists(orderId)",
      }),
    );
  } catch (error) {
    if (!byToken || !isConditionFailure(error)) throw error;
    return replay(order);
  }

  // Without a client token the client cannot safely retry into this order, so an order whose
  // message could not be queued is taken back; with a token, a retry re-queues it (replay).
  await enqueue(order.orderId, { removeOnFailure: !byToken });
  metrics.addMetric("OrderCreated", MetricUnit.Count, 1);
  logger.info("Order created", { orderId: order.orderId, itemCount: order.itemCount });
  return json(201, order, { location: `/orders/${order.orderId}` });
});

/**
 * A create repeated with the same client token: answer with the stored order (200). While it
 * is still PENDING, queue it again: the first attempt may have stored it and then failed to
 * queue it, and fulfilment is idempotent, so a second message costs nothing.
 */
async function replay(attempt: Order): Promise<ReturnType<typeof json>> {
  const { Item } = await db.send(
    new GetCommand({ TableName: TABLE_NAME, Key: { orderId: attempt.orderId }, ConsistentRead: true }),
  );
  const existing = Item as Order | undefined;
  if (existing === undefined) {
    throw new Error(`Order ${attempt.orderId} failed its create condition but cannot be read`);
  }
  if (existing.customerId !== attempt.customerId || !sameItems(existing.items, attempt.items)) {
    throw new HttpError(
      409,
      "IdempotencyConflict",
      "clientToken was already used for an order with different contents; use a new clientToken for a new order",
    );
  }
  if (existing.status === "PENDING") {
    await enqueue(existing.orderId, { removeOnFailure: false });
    logger.info("Repeated create: order re-queued", { orderId: existing.orderId });
  } else {
    logger.info("Repeated create: order already processed", { orderId: existing.orderId, status: existing.status });
  }
  return json(200, existing, { location: `/orders/${existing.orderId}` });
}

function sameItems(a: OrderItem[], b: OrderItem[]): boolean {
  return a.length === b.length && a.every((item, i) => item.sku === b[i].sku && item.quantity === b[i].quantity);
}

async function enqueue(orderId: string, { removeOnFailure }: { removeOnFailure: boolean }): Promise<void> {
  const message: FulfilmentMessage = { orderId };
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: JSON.stringify(message) }));
    return;
  } catch (error) {
    logger.error("Could not queue the order for fulfilment", { orderId, error: error as Error });
  }
  if (!removeOnFailure) {
    throw new HttpError(
      503,
      "ServiceUnavailable",
      "The order was saved but not yet queued for fulfilment; repeat the request with the same clientToken",
    );
  }
  try {
    await db.send(
      new DeleteCommand({ TableName: TABLE_NAME, Key: { orderId }, ...whilePending() }),
    );
  } catch (error) {
    logger.error("Order is stored but neither queued nor removed", { orderId, error: error as Error });
  }
  throw new HttpError(503, "ServiceUnavailable", "The order could not be queued for fulfilment and was not created; retry");
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownFields(value: Record<string, unknown>, allowed: string[], prefix: string): ProblemDetail[] {
  return unknownFieldsProblem(Object.keys(value), allowed, prefix === "" ? "(body)" : prefix.slice(0, -1));
}

/** Check the whole body and report every problem at once (400), or return the request. */
function parseCreateOrder(body: unknown, maxItemsPerOrder: number): CreateOrderRequest {
  if (!isObject(body)) {
    throw validationError([{ field: "(body)", message: `must be a JSON object, got ${kindOf(body)}` }]);
  }
  const problems = unknownFields(body, REQUEST_FIELDS, "");

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
      problems.push(...unknownFields(item, ITEM_FIELDS, `${at}.`));
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

  if (clientToken !== undefined) {
    if (typeof clientToken !== "string") {
      problems.push({ field: "clientToken", message: `must be a string, got ${kindOf(clientToken)}` });
    } else if (!CLIENT_TOKEN_PATTERN.test(clientToken)) {
      problems.push({ field: "clientToken", message: "must be 1-128 visible ASCII characters" });
    }
  }

  if (problems.length > 0) throw validationError(problems);
  return {
    customerId: customerId as string,
    items: (items as OrderItem[]).map(({ sku, quantity }) => ({ sku, quantity })),
    ...(clientToken === undefined ? {} : { clientToken: clientToken as string }),
  };
}
