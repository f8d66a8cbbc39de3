import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { requireEnv } from "../lib/env";
import { flushMetrics, logger, metrics } from "../lib/observability";
import { db, isConditionFailure, ORDER_ID_PATTERN, whilePending, type FulfilmentMessage, type OrderStatus } from "./model";

const TABLE_NAME = requireEnv("TABLE_NAME");

const processor = new BatchProcessor(EventType.SQS);

/** Why a message could not be processed; it stays on the queue, and ends in the DLQ. */
type FailureReason = "MalformedMessage" | "OrderNotFound" | "UnexpectedStatus";

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
 * SQS consumer of the fulfilment queue: each message `{ orderId }` moves its order from
 * PENDING to FULFILLED. A message for an order already FULFILLED succeeds without counting it
 * again (delivery is at least once); a malformed message or an unknown order fails. The
 * response lists exactly the failed message ids (ReportBatchItemFailures), also when every
 * message failed, so SQS retries only those and finally moves them to the DLQ.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  let fulfilled = 0;
  const processRecord = async (record: SQSRecord): Promise<void> => {
    try {
      const { orderId } = parseMessage(record.body);
      if (await fulfil(orderId)) {
        fulfilled += 1;
        logger.info("Order fulfilled", { messageId: record.messageId, orderId });
      } else {
        logger.info("Order was already fulfilled", { messageId: record.messageId, orderId });
      }
    } catch (error) {
      const reason = error instanceof FulfilmentError ? error.reason : (error as Error).name;
      logger.error("Message failed", { messageId: record.messageId, reason, error: error as Error });
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

function parseMessage(body: string): FulfilmentMessage {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    throw new FulfilmentError("MalformedMessage", "Message body is not JSON");
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    throw new FulfilmentError("MalformedMessage", "Message body is not a JSON object");
  }
  const { orderId, ...rest } = message as Record<string, unknown>;
  if (typeof orderId !== "string" || !ORDER_ID_PATTERN.test(orderId)) {
    throw new FulfilmentError("MalformedMessage", "Message body has no valid orderId");
  }
  if (Object.keys(rest).length > 0) {
    throw new FulfilmentError("MalformedMessage", `Message body has unknown fields: ${Object.keys(rest).join(", ")}`);
  }
  return { orderId };
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
