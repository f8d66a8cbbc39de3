import { randomUUID } from "node:crypto";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { expect } from "chai";
import { orderById, putOrder, type LocalDynamo } from "./dynalite";
import {
  capture,
  lambdaContext,
  logLines,
  metricTotal,
  newCustomerId,
  setUpHandlerEnvironment,
  sqsEvent,
  type Captured,
} from "./support";

type FulfilModule = typeof import("../../handlers/orders/fulfil-orders");

describe("handlers/orders/fulfil-orders (SQS consumer)", () => {
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

  async function consume(event: SQSEvent): Promise<Captured<SQSBatchResponse> & { context: Context }> {
    const context = lambdaContext("orders-fulfil");
    return { ...(await capture(() => handler(event, context))), context };
  }

  const message = (orderId: string) => ({ messageId: randomUUID(), body: JSON.stringify({ orderId }) });
  const failedIds = (response: SQSBatchResponse) => response.batchItemFailures.map((f) => f.itemIdentifier).sort();

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    handler = (require("../../handlers/orders/fulfil-orders") as FulfilModule).handler;
  });

  it("fulfils good messages and reports exactly the poison and unknown-order messages", async () => {
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

    const good = [message(first), message(second), message(done)];
    const notFound = message(missing);
    const poison = [
      { messageId: "poison-not-json", body: "{orderId:" },
      { messageId: "poison-array", body: JSON.stringify([first]) },
      { messageId: "poison-number-id", body: JSON.stringify({ orderId: 42 }) },
      { messageId: "poison-bad-id", body: JSON.stringify({ orderId: "../../etc" }) },
      { messageId: "poison-extra-field", body: JSON.stringify({ orderId: first, status: "FULFILLED" }) },
    ];
    const before = Date.now();
    const { result, lines, context } = await consume(sqsEvent([poison[0], ...good.slice(0, 2), notFound, ...poison.slice(1), good[2]]));

    expect(failedIds(result)).to.deep.equal([notFound.messageId, ...poison.map((p) => p.messageId)].sort());

    for (const orderId of [first, second]) {
      const order = await orderById(dynamo, orderId);
      expect(order?.status).to.equal("FULFILLED");
      const fulfilledAt = Date.parse(order?.fulfilledAt as string);
      expect(fulfilledAt).to.be.within(before - 1000, Date.now() + 1000);
    }
    expect(await orderById(dynamo, done)).to.include({ status: "FULFILLED", fulfilledAt: doneAt });
    expect(await orderById(dynamo, missing)).to.equal(undefined);

    expect(metricTotal(lines, "OrderFulfilled")).to.equal(2);

    const errors = logLines(lines).filter((line) => line.level === "ERROR");
    expect(errors.map((line) => line.messageId).sort()).to.deep.equal(failedIds(result));
    for (const line of errors) expect(line.function_request_id).to.equal(context.awsRequestId);
    const reasons = Object.fromEntries(errors.map((line) => [line.messageId, line.reason]));
    expect(reasons[notFound.messageId]).to.equal("OrderNotFound");
    for (const { messageId } of poison) expect(reasons[messageId]).to.equal("MalformedMessage");
  });

  it("is idempotent: a redelivered message succeeds and is not counted again", async () => {
    const orderId = await pendingOrder();
    const first = await consume(sqsEvent([message(orderId)]));
    const fulfilledAt = (await orderById(dynamo, orderId))?.fulfilledAt;
    const again = await consume(sqsEvent([message(orderId), message(orderId)]));

    expect(first.result).to.deep.equal({ batchItemFailures: [] });
    expect(again.result).to.deep.equal({ batchItemFailures: [] });
    expect(metricTotal(first.lines, "OrderFulfilled")).to.equal(1);
    expect(metricTotal(again.lines, "OrderFulfilled")).to.equal(0);
    expect((await orderById(dynamo, orderId))?.fulfilledAt).to.equal(fulfilledAt);
  });

  it("counts an order once when one batch holds it twice", async () => {
    const orderId = await pendingOrder();
    const { result, lines } = await consume(sqsEvent([message(orderId), message(orderId)]));

    expect(result.batchItemFailures).to.deep.equal([]);
    expect(metricTotal(lines, "OrderFulfilled")).to.equal(1);
  });

  it("reports every message of a batch that failed entirely, instead of throwing", async () => {
    const batch = [message(randomUUID()), { messageId: randomUUID(), body: "" }];
    const { result } = await consume(sqsEvent(batch));

    expect(failedIds(result)).to.deep.equal(batch.map((m) => m.messageId).sort());
  });
});
