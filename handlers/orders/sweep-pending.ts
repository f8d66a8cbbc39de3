import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { functionSdkTimeouts, worstCallMs } from "../lib/aws-clients";
import { requireEnv, requirePositiveIntegerEnv } from "../lib/env";
import { flushMetrics, logger, metrics } from "../lib/observability";
import { fulfilOrder } from "./fulfil";
import { db, type OrderStatus } from "./model";
import { PENDING_INDEX, PENDING_SINCE } from "./table";

const TABLE_NAME = requireEnv("TABLE_NAME");
const GRACE_MS = requirePositiveIntegerEnv("SWEEP_GRACE_MINUTES") * 60_000;
const MAX_ORDERS = requirePositiveIntegerEnv("SWEEP_MAX_ORDERS");
/**
 * The time one more order needs, at worst: a page's Query, then fulfilment's update and its
 * read when the condition fails, each with every attempt timing out. No order is started
 * with less left, so a run ends itself before Lambda would stop it mid-update.
 */
const RESERVE_MS = 3 * worstCallMs(functionSdkTimeouts());

/** What one run did. */
export interface SweepResult {
  /** Orders this run moved from PENDING to FULFILLED (the stream path had not). */
  swept: number;
  /** Orders found pending that the stream worker fulfilled meanwhile (nothing changed). */
  alreadyFulfilled: number;
  /** Orders whose fulfilment failed; the next run tries them again. */
  failed: string[];
  /** Whether pending orders past the grace may be left for the next run (the limit or the time was reached). */
  more: boolean;
}

/** A run that could not fulfil every order it tried: an invocation error, so the function's error alarm fires. */
export class SweepError extends Error {
  constructor(readonly result: SweepResult) {
    super(`Sweep fulfilled ${result.swept} order(s); ${result.failed.length} failed: ${result.failed.join(", ")}`);
    this.name = "SweepError";
  }
}

/**
 * The safety net under the stream path (fulfil-orders), run by a schedule: the orders still
 * PENDING longer than the grace period, oldest first from the sparse pending index, at most
 * SWEEP_MAX_ORDERS per run, each fulfilled by the same conditional update the worker makes,
 * so an order the worker fulfils meanwhile changes once. Anything swept means the stream
 * path lost a record (its dead-letter queue holds it): the OrderSwept metric's alarm says so.
 * One order's failure does not stop the others; the run then ends in a SweepError.
 */
export const handler = async (_event: unknown, context: Context): Promise<SweepResult> => {
  logger.addContext(context);
  const cutoff = new Date(Date.now() - GRACE_MS).toISOString();
  const result: SweepResult = { swept: 0, alreadyFulfilled: 0, failed: [], more: false };
  const timeLeft = () => context.getRemainingTimeInMillis() > RESERVE_MS;
  try {
    let tried = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: TABLE_NAME,
          IndexName: PENDING_INDEX,
          KeyConditionExpression: "#status = :pending AND #pendingSince < :cutoff",
          ExpressionAttributeNames: { "#status": "status", "#pendingSince": PENDING_SINCE },
          ExpressionAttributeValues: { ":pending": "PENDING" satisfies OrderStatus, ":cutoff": cutoff },
          Limit: MAX_ORDERS - tried,
          ExclusiveStartKey: startKey,
        }),
      );
      startKey = page.LastEvaluatedKey;
      for (const { orderId } of page.Items ?? []) {
        if (!timeLeft()) {
          result.more = true;
          break;
        }
        tried += 1;
        try {
          if (await fulfilOrder(orderId)) {
            result.swept += 1;
            logger.warn("Order swept: the stream path left it PENDING", { orderId });
          } else {
            result.alreadyFulfilled += 1;
          }
        } catch (error) {
          result.failed.push(orderId);
          logger.error("Order could not be swept", { orderId, error: error as Error });
        }
      }
    } while (startKey !== undefined && tried < MAX_ORDERS && !result.more && timeLeft());
    // A full run, or one cut short, may leave orders for the next.
    if (startKey !== undefined) result.more = true;
  } finally {
    if (result.swept > 0) metrics.addMetric("OrderSwept", MetricUnit.Count, result.swept);
    flushMetrics();
  }
  logger.info("Sweep done", { ...result, cutoff });
  if (result.failed.length > 0) throw new SweepError(result);
  return result;
};
