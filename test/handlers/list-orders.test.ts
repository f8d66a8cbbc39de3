import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { putOrder, type LocalDynamo } from "./dynalite";
import { callHttp, listOrdersEvent, newCustomerId, setUpHandlerEnvironment, withJwt, type HttpCall, type HttpHandler } from "./support";

type ListModule = typeof import("../../handlers/orders/list-orders");

describe("handlers/orders/list-orders (GET /orders?customerId=)", () => {
  let dynamo: LocalDynamo;
  let handler: HttpHandler;
  let list: ListModule;

  const call = (query?: Record<string, string>): Promise<HttpCall> =>
    callHttp(handler, listOrdersEvent(query));

  /** Store `count` orders for the customer, createdAt one second apart, in shuffled write order. */
  async function seed(customerId: string, count: number): Promise<Record<string, unknown>[]> {
    const orders = Array.from({ length: count }, (_, i) => ({
      orderId: randomUUID(),
      customerId,
      items: [{ sku: `SKU-${i}`, quantity: i + 1 }],
      status: "PENDING",
      createdAt: new Date(Date.UTC(2025, 0, 1, 12, 0, i)).toISOString(),
      itemCount: 1,
    }));
    for (const order of [...orders].reverse()) await putOrder(dynamo, order);
    return orders;
  }

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    list = require("../../handlers/orders/list-orders") as ListModule;
    handler = list.handler;
  });

  it("pages through one customer's orders, oldest first, with nextToken", async () => {
    const customerId = newCustomerId();
    const orders = await seed(customerId, 5);
    await seed(newCustomerId(), 3); // another customer's orders must not appear

    const pages: HttpCall[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call({ customerId, limit: "2", ...(nextToken ? { nextToken } : {}) });
      expect(page.status).to.equal(200);
      pages.push(page);
      nextToken = page.body.nextToken;
    } while (nextToken !== undefined && pages.length < 10);

    expect(pages.map((page) => page.body.orders.length)).to.deep.equal([2, 2, 1]);
    expect(pages.flatMap((page) => page.body.orders)).to.deep.equal(orders);
    expect(pages[0].body.nextToken).to.match(/^[A-Za-z0-9_-]+$/);
    expect(pages[2].body).to.not.have.property("nextToken");
  });

  it("lists a JWT caller's own orders, and refuses another customer's (403)", async () => {
    const customerId = newCustomerId();
    const [order] = await seed(customerId, 1);
    const event = listOrdersEvent({ customerId });

    const own = await callHttp(handler, withJwt(event, customerId));
    expect(own.status).to.equal(200);
    expect(own.body.orders).to.deep.equal([order]);
    const other = await callHttp(handler, withJwt(event, newCustomerId()));
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal("Forbidden");
    expect(other.body).not.to.have.nested.property("orders");
  });

  it("reads a zero-padded limit as the number it writes", async () => {
    const customerId = newCustomerId();
    const orders = await seed(customerId, 3);
    const page = await call({ customerId, limit: "00002" });

    expect(page.status).to.equal(200);
    expect(page.body.orders).to.deep.equal(orders.slice(0, 2));
  });

  it("returns pages of 20 when no limit is given", async () => {
    const customerId = newCustomerId();
    const orders = await seed(customerId, list.DEFAULT_LIMIT + 1);
    const first = await call({ customerId });

    expect(list.DEFAULT_LIMIT).to.equal(20);
    expect(first.body.orders).to.deep.equal(orders.slice(0, list.DEFAULT_LIMIT));
    const rest = await call({ customerId, nextToken: first.body.nextToken });
    expect(rest.body.orders).to.deep.equal(orders.slice(list.DEFAULT_LIMIT));
  });

  it("returns an empty page for a customer without orders", async () => {
    const page = await call({ customerId: newCustomerId() });

    expect(page.status).to.equal(200);
    expect(page.body).to.deep.equal({ orders: [] });
  });

  const invalid: [string, Record<string, string> | undefined, string[]][] = [
    ["no query string at all", undefined, ["customerId"]],
    ["an empty customerId", { customerId: "" }, ["customerId"]],
    ["a malformed customerId", { customerId: "a b" }, ["customerId"]],
    ["limit 0", { customerId: "c-1", limit: "0" }, ["limit"]],
    ["limit above 100", { customerId: "c-1", limit: "101" }, ["limit"]],
    ["a fractional limit", { customerId: "c-1", limit: "1.5" }, ["limit"]],
    ["a non-numeric limit", { customerId: "c-1", limit: "ten" }, ["limit"]],
    ["an unknown parameter (named as the query, never echoed)", { customerId: "c-1", sort: "desc" }, ["(query)"]],
    ["a token with foreign characters", { customerId: "c-1", nextToken: "abc+/=" }, ["nextToken"]],
    ["a token that is not JSON", { customerId: "c-1", nextToken: Buffer.from("{nope").toString("base64url") }, ["nextToken"]],
    [
      "a token with the wrong key",
      { customerId: "c-1", nextToken: Buffer.from(JSON.stringify({ orderId: randomUUID() })).toString("base64url") },
      ["nextToken"],
    ],
    [
      "a token with an extra attribute",
      {
        customerId: "c-1",
        nextToken: Buffer.from(
          JSON.stringify({ orderId: randomUUID(), customerId: "c-1", createdAt: "2025-01-01T00:00:00.000Z", x: "1" }),
        ).toString("base64url"),
      },
      ["nextToken"],
    ],
    [
      "a token whose createdAt is not one of our timestamps (a sort key over the 1 KB DynamoDB allows)",
      {
        customerId: "c-1",
        nextToken: Buffer.from(
          JSON.stringify({ orderId: randomUUID(), customerId: "c-1", createdAt: `2025-01-01T00:00:00.000Z${"x".repeat(1100)}` }),
        ).toString("base64url"),
      },
      ["nextToken"],
    ],
  ];
  for (const [name, query, fields] of invalid) {
    it(`answers 400 naming ${fields.join(", ")} for ${name}`, async () => {
      const page = await call(query);

      expect(page.status).to.equal(400);
      expect(page.body.error.code).to.equal("ValidationError");
      expect(page.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(fields);
    });
  }

  it("refuses another customer's token (400)", async () => {
    const [alice, bob] = [newCustomerId(), newCustomerId()];
    await seed(bob, 2);
    const bobsPage = await call({ customerId: bob, limit: "1" });
    expect(bobsPage.body.nextToken).to.be.a("string");

    const page = await call({ customerId: alice, nextToken: bobsPage.body.nextToken });
    expect(page.status).to.equal(400);
    expect(page.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["nextToken"]);
  });
});
