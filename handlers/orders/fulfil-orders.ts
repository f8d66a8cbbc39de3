import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { flushMetrics, logger, metrics } from "../lib/observability";
import { FulfilmentError, fulfilOrder } from "./fulfil";
import { ORDER_ID_PATTERN } from "./model";

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/**
 * The orders table's stream consumer (the transactional outbox): each new order (an INSERT
 * record; the mapping filters out the rest) moves from PENDING to FULFILLED. Delivery is at
 * least once, so fulfilment is a conditional update: a record for an order already FULFILLED
 * succeeds without counting it again. The response lists exactly the failed records
 * (ReportBatchItemFailures); Lambda retries from the first of them, and a record that keeps
 * failing goes to the worker's dead-letter queue, whose alarm calls an operator; the
 * sweeper (sweep-pending) fulfils its order once it has been PENDING past the grace period.
 */
export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  let fulfilled = 0;
  const processRecord = async (record: DynamoDBRecord): Promise<void> => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    try {
      const orderId = orderIdOf(record);
      if (await fulfilOrder(orderId)) {
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
