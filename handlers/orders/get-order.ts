import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { requireEnv } from "../lib/env";
import { HttpError, httpHandler, json, mayActFor, validationError } from "../lib/http";
import { db, ORDER_ID_PATTERN, publicOrder, type Order } from "./model";

const TABLE_NAME = requireEnv("TABLE_NAME");

/**
 * GET /orders/{orderId}: the order (200), 404 when there is none or it is another
 * customer's (a caller cannot learn which), 400 for a malformed id.
 */
export const handler = httpHandler(async (event) => {
  const orderId = event.pathParameters?.orderId ?? "";
  if (!ORDER_ID_PATTERN.test(orderId)) {
    throw validationError([
      { field: "orderId", message: "must be a lower-case UUID or 64 lower-case hex digits" },
    ]);
  }
  const { Item } = await db.send(
    new GetCommand({ TableName: TABLE_NAME, Key: { orderId }, ConsistentRead: true }),
  );
  if (Item === undefined || !mayActFor(event, (Item as Order).customerId)) {
    throw new HttpError(404, "OrderNotFound", "The order does not exist");
  }
  return json(200, publicOrder(Item));
});
