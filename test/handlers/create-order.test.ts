import { GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { ordersOf, putOrder, type LocalDynamo } from "./dynalite";
import {
  callHttp,
  logLines,
  MAX_ITEMS_PER_ORDER,
  emfDocuments,
  metricTotal,
  METRICS_NAMESPACE,
  newCustomerId,
  DEFAULT_PARAMETERS,
  PARAMETERS_PATH,
  postOrder,
  withJwt,
  setUpHandlerEnvironment,
  stubAwsClients,
  type AwsStubs,
  type HttpCall,
  type HttpHandler,
} from "./support";

type CreateOrderModule = typeof import("../../handlers/orders/create-order");

const ORDER_ID = /^[0-9a-f]{64}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** An order the API answered with, as the table holds it: in the pending index since its creation. */
const stored = (order: { createdAt: string }) => ({ ...order, pendingSince: order.createdAt });

describe("handlers/orders/create-order (POST /orders)", () => {
  let aws: AwsStubs;
  let dynamo: LocalDynamo;
  let handler: HttpHandler;
  let createOrder: CreateOrderModule;

  const create = (body: unknown, headers?: Record<string, string | null>): Promise<HttpCall> =>
    callHttp(handler, postOrder(body, headers));

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    aws = stubAwsClients();
    // Imported only now: the handler reads its environment and creates its clients on import.
    createOrder = require("../../handlers/orders/create-order") as CreateOrderModule;
    handler = createOrder.handler;
  });

  beforeEach(() => aws.reset());

  after(() => aws.restore());

  describe("a valid order", () => {
    it("is stored PENDING and returned with 201", async () => {
      const customerId = newCustomerId();
      const items = [
        { sku: "BOOK-1", quantity: 2 },
        { sku: "PEN.blue", quantity: 10 },
      ];
      const call = await create({ customerId, items });

      expect(call.status).to.equal(201);
      const order = call.body;
      expect(order).to.have.all.keys("orderId", "customerId", "items", "status", "createdAt", "itemCount");
      expect(order.orderId).to.match(ORDER_ID);
      expect(order).to.include({ customerId, status: "PENDING", itemCount: 2 });
      expect(order.items).to.deep.equal(items);
      expect(order.createdAt).to.match(ISO_DATE);
      expect(Math.abs(Date.parse(order.createdAt) - Date.now())).to.be.below(60_000);
      expect(call.result.headers?.location).to.equal(`/orders/${order.orderId}`);

      expect(await ordersOf(dynamo, customerId)).to.deep.equal([stored(order)]);
    });

    it("costs the limit's count and one conditional write, with no read of the order before it", async () => {
      const { db } = require("../../handlers/orders/model") as typeof import("../../handlers/orders/model");
      const commands: string[] = [];
      db.middlewareStack.add((next, context) => (args) => {
        commands.push(String(context.commandName));
        return next(args);
      }, { step: "initialize", name: "commandRecorder" });
      try {
        const { status } = await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] }, { "idempotency-key": "one-write" });
        expect(status).to.equal(201);
      } finally {
        db.middlewareStack.remove("commandRecorder");
      }
      expect(commands).to.deep.equal(["QueryCommand", "PutItemCommand"]);
    });

    it("counts OrderCreated once and logs as JSON with the Lambda request id", async () => {
      const call = await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] });

      expect(call.status).to.equal(201);
      expect(metricTotal(call.lines, "OrderCreated")).to.equal(1);
      const created = logLines(call.lines).find((line) => line.message === "Order created");
      expect(created, call.text).to.not.equal(undefined);
      expect(created).to.include({ function_request_id: call.context.awsRequestId, orderId: call.body.orderId });
    });

    it("creates for a JWT caller's own customer id only: another's is 403, with no write", async () => {
      const customerId = newCustomerId();
      const body = { customerId, items: [{ sku: "A", quantity: 1 }] };

      const other = await callHttp(handler, withJwt(postOrder(body), newCustomerId()));
      expect(other.status).to.equal(403);
      expect(other.body.error).to.deep.equal({ code: "Forbidden", message: "customerId must be your own: the subject (sub) of your access token" });
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([]);

      const own = await callHttp(handler, withJwt(postOrder(body), customerId));
      expect(own.status).to.equal(201);
      expect(await ordersOf(dynamo, customerId)).to.have.length(1);
    });

    it("emits OrderCreated as EMF: the namespace, a service dimension, unit Count", async () => {
      const call = await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] });

      const [document, ...others] = emfDocuments(call.lines, "OrderCreated");
      expect(others, call.text).to.deep.equal([]);
      const aws = document._aws as { Timestamp: number; CloudWatchMetrics: unknown[] };
      expect(aws.CloudWatchMetrics).to.deep.equal([
        { Namespace: METRICS_NAMESPACE, Dimensions: [["service"]], Metrics: [{ Name: "OrderCreated", Unit: "Count" }] },
      ]);
      expect(Math.abs(aws.Timestamp - Date.now())).to.be.below(60_000);
      expect(document).to.include({ service: "orders-test", OrderCreated: 1 });
    });

    it("accepts a base64-encoded body", async () => {
      const customerId = newCustomerId();
      const event = postOrder("");
      event.body = Buffer.from(JSON.stringify({ customerId, items: [{ sku: "A", quantity: 1 }] })).toString("base64");
      event.isBase64Encoded = true;
      const call = await callHttp(handler, event);

      expect(call.status).to.equal(201);
      expect(await ordersOf(dynamo, customerId)).to.have.length(1);
    });

    it("accepts exactly maxItemsPerOrder lines and a JSON content type with parameters", async () => {
      const items = Array.from({ length: MAX_ITEMS_PER_ORDER }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1000 }));
      const call = await create(
        { customerId: newCustomerId(), items },
        { "content-type": "application/json; charset=utf-8" },
      );

      expect(call.status).to.equal(201);
      expect(call.body.itemCount).to.equal(MAX_ITEMS_PER_ORDER);
    });
  });

  describe("Parameter Store configuration", () => {
    it("reads the function's path recursively with decryption", async () => {
      await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] });

      const calls = aws.ssm.commandCalls(GetParametersByPathCommand);
      expect(calls).to.have.length(1);
      expect(calls[0].args[0].input).to.include({ Path: PARAMETERS_PATH, Recursive: true, WithDecryption: true });
    });

    it("is cached across invocations for five minutes, then read again", async () => {
      for (let i = 0; i < 3; i++) {
        expect((await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] })).status).to.equal(201);
      }
      expect(aws.ssm.commandCalls(GetParametersByPathCommand)).to.have.length(1);

      const realNow = Date.now;
      const start = realNow();
      try {
        Date.now = () => start + 290_000;
        await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] });
        expect(aws.ssm.commandCalls(GetParametersByPathCommand)).to.have.length(1);

        Date.now = () => start + 310_000;
        await create({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] });
        expect(aws.ssm.commandCalls(GetParametersByPathCommand)).to.have.length(2);
      } finally {
        Date.now = realNow;
      }
    });

    it("takes the item limit from maxItemsPerOrder", async () => {
      aws.givenParameters({ ...DEFAULT_PARAMETERS, maxItemsPerOrder: "1" });
      const customerId = newCustomerId();
      const two = [
        { sku: "A", quantity: 1 },
        { sku: "B", quantity: 1 },
      ];
      const call = await create({ customerId, items: two });

      expect(call.status).to.equal(400);
      expect(call.body.error.details).to.deep.equal([{ field: "items", message: "must contain at most 1 items, got 2" }]);
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([]);
    });

    for (const [problem, values] of [
      ["maxItemsPerOrder is missing", { maxOrdersPerCustomerPerDay: "5" }],
      ["maxItemsPerOrder is not a positive integer", { maxItemsPerOrder: "0", maxOrdersPerCustomerPerDay: "5" }],
      ["maxOrdersPerCustomerPerDay is missing", { maxItemsPerOrder: "3" }],
    ] as const) {
      it(`answers 500 without details when ${problem}, and logs the cause`, async () => {
        aws.givenParameters(values);
        const customerId = newCustomerId();
        const call = await create({ customerId, items: [{ sku: "A", quantity: 1 }] });

        expect(call.status).to.equal(500);
        expect(call.body).to.deep.equal({ error: { code: "InternalError", message: "Internal server error" } });
        const errors = logLines(call.lines).filter((line) => line.level === "ERROR");
        expect(JSON.stringify(errors)).to.include(`${PARAMETERS_PATH}/${problem.split(" ")[0]}`);
        expect(await ordersOf(dynamo, customerId)).to.deep.equal([]);
      });
    }
  });

  describe("invalid requests", () => {
    const item = { sku: "A", quantity: 1 };
    const cases: {
      name: string;
      body: (customerId: string) => unknown;
      status: number;
      code: string;
      fields?: string[];
      headers?: Record<string, string>;
    }[] = [
      { name: "malformed JSON", body: (c) => `{"customerId":"${c}","items":[`, status: 400, code: "InvalidJson" },
      { name: "an empty body", body: () => "", status: 400, code: "MissingBody" },
      { name: "a JSON array", body: () => [item], status: 400, code: "ValidationError", fields: ["(body)"] },
      { name: "a JSON string", body: () => '"order"', status: 400, code: "ValidationError", fields: ["(body)"] },
      { name: "JSON null", body: () => "null", status: 400, code: "ValidationError", fields: ["(body)"] },
      {
        name: "missing fields",
        body: () => ({}),
        status: 400,
        code: "ValidationError",
        fields: ["customerId", "items"],
      },
      {
        name: "wrong types",
        body: () => ({ customerId: 42, items: { sku: "A" }, clientToken: 7 }),
        status: 400,
        code: "ValidationError",
        fields: ["customerId", "items", "clientToken"],
      },
      {
        name: "wrong item types",
        body: (c) => ({ customerId: c, items: [{ sku: 5, quantity: "2" }, "A"] }),
        status: 400,
        code: "ValidationError",
        fields: ["items[0].sku", "items[0].quantity", "items[1]"],
      },
      {
        name: "missing item fields",
        body: (c) => ({ customerId: c, items: [{}] }),
        status: 400,
        code: "ValidationError",
        fields: ["items[0].sku", "items[0].quantity"],
      },
      {
        name: "unknown fields",
        body: (c) => ({ customerId: c, items: [{ ...item, price: 3 }], coupon: "FREE" }),
        status: 400,
        code: "ValidationError",
        // The objects that hold them, not the client's own names (those are never echoed).
        fields: ["(body)", "items[0]"],
      },
      {
        name: "empty items",
        body: (c) => ({ customerId: c, items: [] }),
        status: 400,
        code: "ValidationError",
        fields: ["items"],
      },
      {
        name: "more items than maxItemsPerOrder",
        body: (c) => ({
          customerId: c,
          items: Array.from({ length: MAX_ITEMS_PER_ORDER + 1 }, (_, i) => ({ sku: `S${i}`, quantity: 1 })),
        }),
        status: 400,
        code: "ValidationError",
        fields: ["items"],
      },
      {
        name: "quantities out of range",
        body: (c) => ({
          customerId: c,
          items: [
            { sku: "A", quantity: 0 },
            { sku: "B", quantity: 1001 },
            { sku: "C", quantity: 1.5 },
          ],
        }),
        status: 400,
        code: "ValidationError",
        fields: ["items[0].quantity", "items[1].quantity", "items[2].quantity"],
      },
      {
        name: "a repeated sku",
        body: (c) => ({ customerId: c, items: [item, { sku: "B", quantity: 1 }, item] }),
        status: 400,
        code: "ValidationError",
        fields: ["items[2].sku"],
      },
      {
        name: "malformed strings",
        body: () => ({ customerId: "has space", items: [{ sku: "", quantity: 1 }], clientToken: "" }),
        status: 400,
        code: "ValidationError",
        fields: ["customerId", "items[0].sku", "clientToken"],
      },
      {
        name: "a body over 16 KiB",
        body: (c) => ({ customerId: c, items: [item], note: "x".repeat(16 * 1024) }),
        status: 413,
        code: "PayloadTooLarge",
      },
      {
        name: "a non-JSON content type",
        body: (c) => ({ customerId: c, items: [item] }),
        headers: { "content-type": "text/plain" },
        status: 415,
        code: "UnsupportedMediaType",
      },
    ];

    for (const { name, body, status, code, fields, headers } of cases) {
      it(`rejects ${name}: ${status} ${code}${fields ? ` naming ${fields.join(", ")}` : ""}`, async () => {
        const customerId = newCustomerId();
        const call = await create(body(customerId), headers);

        expect(call.status).to.equal(status);
        expect(call.body.error).to.include({ code });
        expect(call.body.error.message).to.be.a("string").and.not.equal("");
        if (fields) {
          expect(call.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(fields);
          for (const detail of call.body.error.details) expect(detail.message).to.be.a("string").and.not.equal("");
        }
        expect(await ordersOf(dynamo, customerId)).to.deep.equal([]);
        expect(metricTotal(call.lines, "OrderCreated")).to.equal(0);
      });
    }

    it("measures the size limit after base64 decoding", async () => {
      const customerId = newCustomerId();
      // 13 KiB of JSON is over 16 KiB in base64: under the limit, so validated (and refused for `note`).
      const json = JSON.stringify({ customerId, items: [item], note: "x".repeat(13 * 1024) });
      const event = postOrder("");
      event.body = Buffer.from(json).toString("base64");
      event.isBase64Encoded = true;
      expect(event.body.length).to.be.above(16 * 1024);
      const call = await callHttp(handler, event);

      expect(call.status).to.equal(400);
      expect(call.body.error.code).to.equal("ValidationError");
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([]);
    });

    it("rejects a base64 body that is not UTF-8", async () => {
      const event = postOrder("");
      event.body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("base64");
      event.isBase64Encoded = true;
      const call = await callHttp(handler, event);

      expect(call.status).to.equal(400);
      expect(call.body.error.code).to.equal("InvalidEncoding");
    });

    it("names the limit and the count for too many items", async () => {
      const items = Array.from({ length: MAX_ITEMS_PER_ORDER + 2 }, (_, i) => ({ sku: `S${i}`, quantity: 1 }));
      const call = await create({ customerId: newCustomerId(), items });

      expect(call.body.error.details).to.deep.equal([
        { field: "items", message: `must contain at most ${MAX_ITEMS_PER_ORDER} items, got ${MAX_ITEMS_PER_ORDER + 2}` },
      ]);
    });
  });

  describe("idempotency keys (idempotent create)", () => {
    const items = [{ sku: "A", quantity: 1 }];

    it("derives the order id from customer and key alone (SHA-256), so every retry names the same order", async () => {
      const customerId = newCustomerId();
      const call = await create({ customerId, items }, { "idempotency-key": "key-1" });

      expect(call.status).to.equal(201);
      expect(call.body.orderId).to.equal(createOrder.orderIdFor(customerId, "key-1"));
    });

    it("keeps customer and key apart in the id: ('ab','c') and ('a','bc') differ", () => {
      expect(createOrder.orderIdFor("ab", "c")).to.not.equal(createOrder.orderIdFor("a", "bc"));
    });

    it("takes the key from the Idempotency-Key header or clientToken: the same key is the same order", async () => {
      const customerId = newCustomerId();
      const byHeader = await create({ customerId, items }, { "idempotency-key": "same" });
      const byToken = await create({ customerId, items, clientToken: "same" }, { "idempotency-key": null });
      const both = await create({ customerId, items, clientToken: "same" }, { "idempotency-key": "same" });

      expect([byHeader.status, byToken.status, both.status]).to.deep.equal([201, 200, 200]);
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([stored(byHeader.body)]);
    });

    it("requires a key: 400 without one, or with a header and a clientToken that differ; nothing written", async () => {
      const customerId = newCustomerId();
      const none = await create({ customerId, items }, { "idempotency-key": null });
      const differ = await create({ customerId, items, clientToken: "a" }, { "idempotency-key": "b" });

      expect(none.status).to.equal(400);
      expect(none.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["Idempotency-Key"]);
      expect(differ.status).to.equal(400);
      expect(differ.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["clientToken"]);
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([]);
    });

    it("answers a repeat with the stored order (200) and stores no duplicate", async () => {
      const customerId = newCustomerId();
      const first = await create({ customerId, items }, { "idempotency-key": "retry-me" });
      const second = await create({ customerId, items }, { "idempotency-key": "retry-me" });

      expect(first.status).to.equal(201);
      expect(second.status).to.equal(200);
      expect(second.body).to.deep.equal(first.body);
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([stored(first.body)]);
      expect(metricTotal(first.lines, "OrderCreated")).to.equal(1);
      expect(metricTotal(second.lines, "OrderCreated")).to.equal(0);
    });

    it("answers a repeat of a fulfilled order with its current status", async () => {
      const customerId = newCustomerId();
      const first = await create({ customerId, items }, { "idempotency-key": "done" });
      await dynamo.doc.send(
        new UpdateCommand({
          TableName: dynamo.tableName,
          Key: { orderId: first.body.orderId },
          UpdateExpression: "SET #s = :f",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":f": "FULFILLED" },
        }),
      );
      const repeat = await create({ customerId, items }, { "idempotency-key": "done" });

      expect(repeat.status).to.equal(200);
      expect(repeat.body.status).to.equal("FULFILLED");
    });

    it("scopes keys to the customer: the same key for two customers makes two orders", async () => {
      const [alice, bob] = [newCustomerId(), newCustomerId()];
      const a = await create({ customerId: alice, items }, { "idempotency-key": "shared" });
      const b = await create({ customerId: bob, items }, { "idempotency-key": "shared" });

      expect([a.status, b.status]).to.deep.equal([201, 201]);
      expect(a.body.orderId).to.not.equal(b.body.orderId);
      expect(await ordersOf(dynamo, bob)).to.have.length(1);
    });

    it("refuses a key reused for different contents (409) and leaves the order as it was", async () => {
      const customerId = newCustomerId();
      const first = await create({ customerId, items }, { "idempotency-key": "once" });
      const other = await create({ customerId, items: [{ sku: "A", quantity: 2 }] }, { "idempotency-key": "once" });

      expect(other.status).to.equal(409);
      expect(other.body.error.code).to.equal("IdempotencyConflict");
      expect(await ordersOf(dynamo, customerId)).to.deep.equal([stored(first.body)]);
    });
  });

  describe("the per-customer order limit (maxOrdersPerCustomerPerDay)", () => {
    const items = [{ sku: "A", quantity: 1 }];

    it("answers 429 past the limit in 24 hours, writing nothing; retries of accepted orders still replay", async () => {
      aws.givenParameters({ ...DEFAULT_PARAMETERS, maxOrdersPerCustomerPerDay: "2" });
      const customerId = newCustomerId();
      // Older than the window: does not count.
      await putOrder(dynamo, { orderId: createOrder.orderIdFor(customerId, "old"), customerId, items, status: "FULFILLED", createdAt: new Date(Date.now() - 25 * 3600_000).toISOString(), itemCount: 1 });
      const first = await create({ customerId, items }, { "idempotency-key": "k1" });
      const second = await create({ customerId, items }, { "idempotency-key": "k2" });
      const third = await create({ customerId, items }, { "idempotency-key": "k3" });
      const retry = await create({ customerId, items }, { "idempotency-key": "k2" });
      const other = await create({ customerId: newCustomerId(), items }, { "idempotency-key": "k3" });

      expect([first.status, second.status, third.status, retry.status, other.status]).to.deep.equal([201, 201, 429, 200, 201]);
      expect(third.body.error.code).to.equal("OrderLimitExceeded");
      expect(third.body.error.message).to.include("at most 2 orders in 24 hours");
      expect(await ordersOf(dynamo, customerId)).to.have.length(3);
    });
  });
});
