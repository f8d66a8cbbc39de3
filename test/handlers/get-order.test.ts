import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { putOrder, type LocalDynamo } from "./dynalite";
import { callHttp, getOrderEvent, newCustomerId, setUpHandlerEnvironment, withJwt, type HttpCall, type HttpHandler } from "./support";

describe("handlers/orders/get-order (GET /orders/{orderId})", () => {
  let dynamo: LocalDynamo;
  let handler: HttpHandler;

  const get = (orderId: string): Promise<HttpCall> => callHttp(handler, getOrderEvent(orderId));

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    handler = (require("../../handlers/orders/get-order") as typeof import("../../handlers/orders/get-order")).handler;
  });

  it("returns a stored order", async () => {
    const order = {
      orderId: randomUUID(),
      customerId: newCustomerId(),
      items: [{ sku: "A", quantity: 3 }],
      status: "FULFILLED",
      createdAt: "2025-01-01T10:00:00.000Z",
      fulfilledAt: "2025-01-01T10:00:05.000Z",
      itemCount: 1,
    };
    await putOrder(dynamo, order);
    const call = await get(order.orderId);

    expect(call.status).to.equal(200);
    expect(call.body).to.deep.equal(order);
  });

  it("shows a JWT caller its own order, and answers another customer's order as unknown (404)", async () => {
    const order = { orderId: randomUUID(), customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }], status: "PENDING", createdAt: "2025-01-01T10:00:00.000Z", itemCount: 1 };
    await putOrder(dynamo, order);
    const event = getOrderEvent(order.orderId);

    const own = await callHttp(handler, withJwt(event, order.customerId));
    expect(own.status).to.equal(200);
    expect(own.body).to.deep.equal(order);
    for (const other of [withJwt(event, newCustomerId()), withJwt(event, "", { username: order.customerId })]) {
      const call = await callHttp(handler, other);
      expect(call.status).to.equal(404);
      expect(call.body).to.deep.equal({ error: { code: "OrderNotFound", message: "The order does not exist" } });
    }
  });

  it("finds orders whose id is an HMAC (64 hex digits)", async () => {
    const orderId = "ab".repeat(32);
    await putOrder(dynamo, { orderId, customerId: newCustomerId(), items: [], status: "PENDING", createdAt: "2025-01-01T00:00:00.000Z", itemCount: 0 });

    expect((await get(orderId)).body.orderId).to.equal(orderId);
  });

  it("answers 404 with a JSON error for an unknown order", async () => {
    const orderId = randomUUID();
    const call = await get(orderId);

    expect(call.status).to.equal(404);
    expect(call.body.error.code).to.equal("OrderNotFound");
    expect(call.body.error.message).to.equal("The order does not exist");
  });

  for (const orderId of ["not-an-id", randomUUID().toUpperCase(), "ab".repeat(33), `${randomUUID()} `, ""]) {
    it(`answers 400 for the malformed id ${JSON.stringify(orderId)}`, async () => {
      const call = await get(orderId);

      expect(call.status).to.equal(400);
      expect(call.body.error.code).to.equal("ValidationError");
      expect(call.body.error.details[0].field).to.equal("orderId");
    });
  }
});
