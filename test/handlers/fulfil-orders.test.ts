import { randomUUID } from "node:crypto";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { expect } from "chai";
import { orderById, putOrder, type LocalDynamo } from "./dynalite";
import {
  capture,
  insertEvent,
  lambdaContext,
  logLines,
  metricTotal,
  newCustomerId,
  setUpHandlerEnvironment,
  type Captured,
} from "./support";

type FulfilModule = typeof import("../../handlers/orders/fulfil-orders");

describe("handlers/orders/fulfil-orders (the orders table's stream consumer)", () => {
  let dynamo: LocalDynamo;
  let handler: FulfilModule["handler"];

  async function pendingOrder(): Promise<string> {
    const orderId = randomUUID();
    await putOrder(dynamo, {
      orderId,
      customerId: newCustomerId(),
      items: [{ sku: "A", quantity: 1 }],
      status: "PENDING",
      createdAt: new Date().toISOString(),
      itemCount: 1,
    });
    return orderId;
  }

  async function consume(event: DynamoDBStreamEvent): Promise<Captured<DynamoDBBatchResponse> & { context: Context }> {
    const context = lambdaContext("orders-fulfil");
    return { ...(await capture(() => handler(event, context))), context };
  }

  const failedSequenceNumbers = (response: DynamoDBBatchResponse) => response.batchItemFailures.map((f) => f.itemIdentifier).sort();
  const sequenceNumberOf = (record: DynamoDBRecord) => record.dynamodb!.SequenceNumber!;

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    handler = (require("../../handlers/orders/fulfil-orders") as FulfilModule).handler;
  });

  it("fulfils new orders and reports exactly the malformed records and unknown orders", async () => {
    const [first, second] = [await pendingOrder(), await pendingOrder()];
    const done = randomUUID();
    const doneAt = "2025-01-01T00:00:00.000Z";
    await putOrder(dynamo, {
      orderId: done,
      customerId: newCustomerId(),
      items: [{ sku: "A", quantity: 1 }],
      status: "FULFILLED",
      createdAt: "2024-12-31T23:59:00.000Z",
      fulfilledAt: doneAt,
      itemCount: 1,
    });
    const missing = randomUUID();
    const event = insertEvent([first, second, done, missing, "../../etc", first]);
    // Not an INSERT, and an INSERT without the key: neither names an order to fulfil.
    event.Records[5].eventName = "MODIFY";
    const noKey = { ...event.Records[0], dynamodb: { SequenceNumber: "100000000000000000099", Keys: {} } };
    event.Records.push(noKey);
    const before = Date.now();
    const { result, lines, context } = await consume(event);

    const failed = [event.Records[3], event.Records[4], event.Records[5], noKey].map(sequenceNumberOf).sort();
    expect(failedSequenceNumbers(result)).to.deep.equal(failed);
    for (const orderId of [first, second]) {
      const order = await orderById(dynamo, orderId);
      expect(order?.status).to.equal("FULFILLED");
      expect(Date.parse(order?.fulfilledAt as string)).to.be.within(before - 1000, Date.now() + 1000);
    }
    expect(await orderById(dynamo, done)).to.include({ status: "FULFILLED", fulfilledAt: doneAt });
    expect(await orderById(dynamo, missing)).to.equal(undefined);
    expect(metricTotal(lines, "OrderFulfilled")).to.equal(2);

    const errors = logLines(lines).filter((line) => line.level === "ERROR");
    expect(errors.map((line) => line.sequenceNumber).sort()).to.deep.equal(failed);
    for (const line of errors) expect(line.function_request_id).to.equal(context.awsRequestId);
    const reasons = Object.fromEntries(errors.map((line) => [line.sequenceNumber, line.reason]));
    expect(reasons[sequenceNumberOf(event.Records[3])]).to.equal("OrderNotFound");
    for (const record of [event.Records[4], event.Records[5], noKey]) expect(reasons[sequenceNumberOf(record)]).to.equal("MalformedRecord");
  });

  it("is idempotent: a redelivered record succeeds and is not counted again", async () => {
    const orderId = await pendingOrder();
    const first = await consume(insertEvent([orderId]));
    const fulfilledAt = (await orderById(dynamo, orderId))?.fulfilledAt;
    const again = await consume(insertEvent([orderId, orderId]));

    expect(first.result).to.deep.equal({ batchItemFailures: [] });
    expect(again.result).to.deep.equal({ batchItemFailures: [] });
    expect(metricTotal(first.lines, "OrderFulfilled")).to.equal(1);
    expect(metricTotal(again.lines, "OrderFulfilled")).to.equal(0);
    expect((await orderById(dynamo, orderId))?.fulfilledAt).to.equal(fulfilledAt);
  });

  it("reports every record of a batch that failed entirely, instead of throwing", async () => {
    const event = insertEvent([randomUUID(), randomUUID()]);
    const { result } = await consume(event);

    expect(failedSequenceNumbers(result)).to.deep.equal(event.Records.map(sequenceNumberOf).sort());
  });
});
