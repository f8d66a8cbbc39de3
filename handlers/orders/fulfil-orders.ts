import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { requireEnv } from "../lib/env";
import { flushMetrics, logger, metrics } from "../lib/observability";
import { db, isConditionFailure, ORDER_ID_PATTERN, whilePending, type OrderStatus } from "./model";

const TABLE_NAME = requireEnv("TABLE_NAME");

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** Why a record could not be processed; it is retried, and ends in the dead-letter queue. */
type FailureReason = "MalformedRecord" | "OrderNotFound" | "UnexpectedStatus";

class FulfilmentError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = "FulfilmentError";
  }
}

/**
 * The orders table's stream consumer (the transactional outbox): each new order (an INSERT
 * record; the mapping filters out the rest) moves from PENDING to FULFILLED. Delivery is at
 * least once, so fulfilment is a conditional update: a record for an order already FULFILLED
 * succeeds without counting it again. The response lists exactly the failed records
 * (ReportBatchItemFailures); Lambda retries from the first of them, and a record that keeps
 * failing goes to the worker's dead-letter queue, whose alarm calls an operator.
 */
export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  let fulfilled = 0;
  const processRecord = async (record: DynamoDBRecord): Promise<void> => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    try {
      const orderId = orderIdOf(record);
      if (await fulfil(orderId)) {
        fulfilled += 1;
        logger.info("Order fulfilled", { sequenceNumber, orderId });
      } else {
        logger.info("Order was already fulfilled", { sequenceNumber, orderId });
      }
    } catch (error) {
      const reason = error instanceof FulfilmentError ? error.reason : (error as Error).name;
      logger.error("Record failed", { sequenceNumber, reason, error: error as Error });
      throw error;
    }
  };
  try {
    return await processPartialResponse(event, processRecord, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  } finally {
    if (fulfilled > 0) metrics.addMetric("OrderFulfilled", MetricUnit.Count, fulfilled);
    flushMetrics();
  }
};

function orderIdOf(record: DynamoDBRecord): string {
  if (record.eventName !== "INSERT") {
    throw new FulfilmentError("MalformedRecord", `Record is a ${String(record.eventName)}, not an INSERT`);
  }
  // The key as DynamoDB writes it: one attribute value, a string.
  const key = record.dynamodb?.Keys?.orderId;
  const orderId = key !== undefined && Object.keys(key).length === 1 ? key.S : undefined;
  if (typeof orderId !== "string" || !ORDER_ID_PATTERN.test(orderId)) {
    throw new FulfilmentError("MalformedRecord", "Record has no valid orderId key");
  }
  return orderId;
}

/** Fulfil the order: true if this call moved it to FULFILLED, false if it already was. */
async function fulfil(orderId: string): Promise<boolean> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: TABLE_NAME,
        Key: { orderId },
        UpdateExpression: "SET #status = :fulfilled, fulfilledAt = :now",
        ...whilePending({ ":fulfilled": "FULFILLED" satisfies OrderStatus, ":now": new Date().toISOString() }),
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
