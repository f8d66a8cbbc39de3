import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { requireEnv } from "../lib/env";
import { db, isConditionFailure, type OrderStatus } from "./model";
import { PENDING_SINCE } from "./table";

const TABLE_NAME = requireEnv("TABLE_NAME");

/** Why an order could not be fulfilled. */
export type FulfilmentFailure = "MalformedRecord" | "OrderNotFound" | "UnexpectedStatus";

export class FulfilmentError extends Error {
  constructor(
    readonly reason: FulfilmentFailure,
    message: string,
  ) {
    super(message);
    this.name = "FulfilmentError";
  }
}

/**
 * Fulfil the order: true if this call moved it to FULFILLED, false if it already was. The one
 * fulfilment of the service, shared by the stream worker (fulfil-orders) and the sweeper
 * (sweep-pending): one conditional update (status PENDING) that sets FULFILLED and removes
 * the order from the pending index, so whichever of them comes second changes nothing.
 */
export async function fulfilOrder(orderId: string): Promise<boolean> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: TABLE_NAME,
        Key: { orderId },
        UpdateExpression: "SET #status = :fulfilled, fulfilledAt = :now REMOVE #pendingSince",
        ConditionExpression: "#status = :pending",
        ExpressionAttributeNames: { "#status": "status", "#pendingSince": PENDING_SINCE },
        ExpressionAttributeValues: {
          ":pending": "PENDING" satisfies OrderStatus,
          ":fulfilled": "FULFILLED" satisfies OrderStatus,
          ":now": new Date().toISOString(),
        },
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  // The condition failed: the order is missing, or not PENDING. Find out which.
  const { Item } = await db.send(
    new GetCommand({
      TableName: TABLE_NAME,
      Key: { orderId },
      ProjectionExpression: "#status",
      ExpressionAttributeNames: { "#status": "status" },
      ConsistentRead: true,
    }),
  );
  if (Item === undefined) throw new FulfilmentError("OrderNotFound", `Order ${orderId} does not exist`);
  if (Item.status === "FULFILLED") return false;
  throw new FulfilmentError("UnexpectedStatus", `Order ${orderId} has status ${String(Item.status)}`);
}
