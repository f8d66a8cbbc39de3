/**
 * Property-based tests (fast-check) of the order handlers against the real dynalite table:
 * arbitrary and "almost valid" request bodies for POST /orders, arbitrary path and query
 * parameters for the two GET routes, and arbitrary stream batches for the fulfilment consumer.
 *
 * The input rules are restated here from the handlers' documented contract (not imported
 * from them), so a handler that drifts from the contract is caught, not mirrored.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, DynamoDBBatchResponse, DynamoDBRecord } from "aws-lambda";
import { expect } from "chai";
import fc from "fast-check";
import { ordersOf, putOrder, type LocalDynamo } from "./dynalite";
import {
  callHttp,
  capture,
  httpEvent,
  lambdaContext,
  MAX_ITEMS_PER_ORDER,
  newCustomerId,
  listOrdersEvent,
  setUpHandlerEnvironment,
  stubAwsClients,
  type AwsStubs,
  type HttpCall,
  type HttpHandler,
} from "./support";

type FulfilHandler = typeof import("../../handlers/orders/fulfil-orders").handler;
type Item = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// The contract, restated.

const CUSTOMER_ID = /^[A-Za-z0-9._:@+-]{1,128}$/;
const SKU = /^[A-Za-z0-9._-]{1,64}$/;
const CLIENT_TOKEN = /^[\x21-\x7e]{1,128}$/;
const ORDER_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64})$/;
const MAX_QUANTITY = 1000;
const MAX_BODY_BYTES = 16 * 1024;
const MAX_LIMIT = 100;
const REQUEST_FIELDS = ["customerId", "items", "clientToken"];
const ITEM_FIELDS = ["sku", "quantity"];
const QUERY_FIELDS = ["customerId", "limit", "nextToken"];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Whether a parsed POST /orders body is a valid order request. */
function isValidOrderRequest(body: unknown): boolean {
  if (!isObject(body) || Object.keys(body).some((key) => !REQUEST_FIELDS.includes(key))) return false;
  const { customerId, items, clientToken } = body;
  if (typeof customerId !== "string" || !CUSTOMER_ID.test(customerId)) return false;
  if (clientToken !== undefined && (typeof clientToken !== "string" || !CLIENT_TOKEN.test(clientToken))) return false;
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_ITEMS_PER_ORDER) return false;
  const skus = new Set<string>();
  for (const item of items) {
    if (!isObject(item) || Object.keys(item).some((key) => !ITEM_FIELDS.includes(key))) return false;
    const { sku, quantity } = item;
    if (typeof sku !== "string" || !SKU.test(sku) || skus.has(sku)) return false;
    skus.add(sku);
    if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      return false;
    }
  }
  return true;
}

/** The parsed body of a POST event if the request as a whole is acceptable, else undefined. */
function acceptedBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = event.headers["content-type"];
  if (contentType !== undefined) {
    const mediaType = contentType.split(";")[0].trim().toLowerCase();
    if (mediaType !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) return undefined;
  }
  if (event.body === undefined || event.body === "") return undefined;
  const bytes = Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
  if (bytes.length > MAX_BODY_BYTES) return undefined;
  try {
    const body: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return isValidOrderRequest(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/** The order a stream record asks to fulfil: an INSERT whose key is a valid order id, else undefined. */
function recordOrderId(record: DynamoDBRecord): string | undefined {
  if (record.eventName !== "INSERT") return undefined;
  const key: unknown = record.dynamodb?.Keys?.orderId;
  if (!isObject(key) || Object.keys(key).length !== 1) return undefined;
  const { S: orderId } = key;
  return typeof orderId === "string" && ORDER_ID.test(orderId) ? orderId : undefined;
}

/** The order id of a customer's request with this idempotency key, as the API documents it. */
const documentedOrderId = (customerId: string, key: string) =>
  createHash("sha256").update(JSON.stringify(["order", customerId, key])).digest("hex");

// ---------------------------------------------------------------------------------------------
// Generators.

const anyJson = fc.jsonValue({ maxDepth: 3 });
const notA = (type: "string" | "number" | "object") =>
  anyJson.filter((value) => (type === "object" ? !isObject(value) : typeof value !== type));

const customerIdArb = fc.stringMatching(/^[A-Za-z0-9._:@+-]{1,90}$/);
const skuArb = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const quantityArb = fc.integer({ min: 1, max: MAX_QUANTITY });
const clientTokenArb = fc.stringMatching(/^[\x21-\x7e]{1,128}$/);
const itemArb = fc.record({ sku: skuArb, quantity: quantityArb });
const itemsArb = (minLength: number, maxLength: number) =>
  fc.uniqueArray(itemArb, { selector: (item) => item.sku, minLength, maxLength });

interface OrderRequest {
  customerId: string;
  items: { sku: string; quantity: number }[];
  clientToken?: string;
}

const validRequestArb: fc.Arbitrary<OrderRequest> = fc.record(
  { customerId: customerIdArb, items: itemsArb(1, MAX_ITEMS_PER_ORDER), clientToken: clientTokenArb },
  { requiredKeys: ["customerId", "items"] },
);

/** Mostly `valid`, sometimes `other`: keeps a fair share of generated values near validity. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, ...other: fc.Arbitrary<U>[]) =>
  fc.oneof({ weight: 3 * other.length, arbitrary: valid as fc.Arbitrary<T | U> }, ...other.map((arbitrary) => ({ weight: 1, arbitrary: arbitrary as fc.Arbitrary<T | U> })));

/** Sometimes a few extra entries, usually none. */
const fewExtra = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant({} as Record<string, T>) }, fc.dictionary(fc.string(), value, { maxKeys: 2 }));

/** An object shaped like a request whose fields are each valid or anything at all. */
const structuredBodyArb = fc
  .tuple(
    fc.record(
      {
        customerId: mostly(customerIdArb, fc.string(), anyJson),
        items: mostly(
          itemsArb(1, MAX_ITEMS_PER_ORDER),
          itemsArb(0, MAX_ITEMS_PER_ORDER + 2),
          fc.array(
            mostly(
              itemArb,
              fc.record(
                { sku: mostly(skuArb, fc.string(), anyJson), quantity: mostly(quantityArb, fc.double(), anyJson) },
                { requiredKeys: [] },
              ),
              anyJson,
            ),
            { maxLength: MAX_ITEMS_PER_ORDER + 2 },
          ),
          anyJson,
        ),
        clientToken: mostly(clientTokenArb, fc.string(), anyJson),
      },
      { requiredKeys: ["customerId", "items"] },
    ),
    fc.boolean(),
    fc.boolean(),
    fewExtra(anyJson),
  )
  .map(([fields, dropCustomerId, dropItems, extra]) => {
    const body: Record<string, unknown> = { ...extra, ...fields };
    if (dropCustomerId && dropItems) delete body.customerId;
    if (dropItems && !dropCustomerId) delete body.items;
    return body;
  });

/** A field name that is none of `allowed`. */
const unknownKey = (allowed: string[]) => fc.string({ minLength: 1 }).filter((key) => !allowed.includes(key));

/**
 * One change that makes a valid request invalid, and the field (as the 400's details name it)
 * it breaks. `at` picks an item by index modulo the number of items.
 */
type Mutation =
  | { kind: "wrongType"; field: "customerId" | "items" | "clientToken"; value: unknown }
  | { kind: "wrongItemType"; at: number; value: unknown }
  | { kind: "wrongItemFieldType"; at: number; field: "sku" | "quantity"; value: unknown }
  | { kind: "missing"; field: "customerId" | "items" }
  | { kind: "missingItemField"; at: number; field: "sku" | "quantity" }
  | { kind: "extraField"; key: string; value: unknown }
  | { kind: "extraItemField"; at: number; key: string; value: unknown }
  | { kind: "tooManyItems"; extra: { sku: string; quantity: number }[] }
  | { kind: "noItems" }
  | { kind: "badQuantity"; at: number; quantity: number }
  | { kind: "badCustomerId"; value: string }
  | { kind: "badSku"; at: number; value: string }
  | { kind: "duplicateSku"; at: number }
  | { kind: "badClientToken"; value: string };

const badQuantityArb = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: MAX_QUANTITY + 1 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((q) => !Number.isInteger(q)),
  fc.constantFrom(1e21, -1e-7, MAX_QUANTITY + 0.5, 0.5),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("wrongType" as const),
    field: fc.constantFrom("customerId" as const, "clientToken" as const),
    value: notA("string"),
  }),
  fc.record({
    kind: fc.constant("wrongType" as const),
    field: fc.constant("items" as const),
    value: anyJson.filter((value) => !Array.isArray(value)),
  }),
  fc.record({ kind: fc.constant("wrongItemType" as const), at: fc.nat(), value: notA("object") }),
  fc.record({
    kind: fc.constant("wrongItemFieldType" as const),
    at: fc.nat(),
    field: fc.constant("sku" as const),
    value: notA("string"),
  }),
  fc.record({
    kind: fc.constant("wrongItemFieldType" as const),
    at: fc.nat(),
    field: fc.constant("quantity" as const),
    value: notA("number"),
  }),
  fc.record({ kind: fc.constant("missing" as const), field: fc.constantFrom("customerId" as const, "items" as const) }),
  fc.record({
    kind: fc.constant("missingItemField" as const),
    at: fc.nat(),
    field: fc.constantFrom("sku" as const, "quantity" as const),
  }),
  fc.record({ kind: fc.constant("extraField" as const), key: unknownKey(REQUEST_FIELDS), value: anyJson }),
  fc.record({ kind: fc.constant("extraItemField" as const), at: fc.nat(), key: unknownKey(ITEM_FIELDS), value: anyJson }),
  fc.record({ kind: fc.constant("tooManyItems" as const), extra: itemsArb(MAX_ITEMS_PER_ORDER + 1, MAX_ITEMS_PER_ORDER + 4) }),
  fc.record({ kind: fc.constant("noItems" as const) }),
  fc.record({ kind: fc.constant("badQuantity" as const), at: fc.nat(), quantity: badQuantityArb }),
  fc.record({
    kind: fc.constant("badCustomerId" as const),
    value: fc.oneof(fc.string(), fc.constant(""), fc.stringMatching(/^[A-Za-z0-9]{129,140}$/)).filter((s) => !CUSTOMER_ID.test(s)),
  }),
  fc.record({
    kind: fc.constant("badSku" as const),
    at: fc.nat(),
    value: fc.oneof(fc.string(), fc.constant(""), fc.stringMatching(/^[A-Za-z0-9]{65,70}$/)).filter((s) => !SKU.test(s)),
  }),
  fc.record({ kind: fc.constant("duplicateSku" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("badClientToken" as const),
    value: fc.oneof(fc.string(), fc.constant(""), fc.stringMatching(/^[!-~]{129,140}$/)).filter((s) => !CLIENT_TOKEN.test(s)),
  }),
);

/** Apply a mutation to (a copy of) a valid request: the invalid body and the field it breaks. */
function mutate(request: OrderRequest, mutation: Mutation): { body: Record<string, unknown>; field: string } {
  const body = structuredClone(request) as unknown as Record<string, unknown>;
  const items = body.items as Record<string, unknown>[];
  const index = "at" in mutation ? mutation.at % items.length : 0;
  switch (mutation.kind) {
    case "wrongType":
      body[mutation.field] = mutation.value;
      return { body, field: mutation.field };
    case "wrongItemType":
      items[index] = mutation.value as Record<string, unknown>;
      return { body, field: `items[${index}]` };
    case "wrongItemFieldType":
      items[index][mutation.field] = mutation.value;
      return { body, field: `items[${index}].${mutation.field}` };
    case "missing":
      delete body[mutation.field];
      return { body, field: mutation.field };
    case "missingItemField":
      delete items[index][mutation.field];
      return { body, field: `items[${index}].${mutation.field}` };
    case "extraField":
      Object.defineProperty(body, mutation.key, { value: mutation.value, enumerable: true, writable: true, configurable: true });
      // Reported on the object that holds it: the client's key is never echoed.
      return { body, field: "(body)" };
    case "extraItemField":
      Object.defineProperty(items[index], mutation.key, {
        value: mutation.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return { body, field: `items[${index}]` };
    case "tooManyItems":
      body.items = mutation.extra;
      return { body, field: "items" };
    case "noItems":
      body.items = [];
      return { body, field: "items" };
    case "badQuantity":
      items[index].quantity = mutation.quantity;
      return { body, field: `items[${index}].quantity` };
    case "badCustomerId":
      body.customerId = mutation.value;
      return { body, field: "customerId" };
    case "badSku":
      items[index].sku = mutation.value;
      return { body, field: `items[${index}].sku` };
    case "duplicateSku":
      items.push({ sku: items[index].sku, quantity: 1 });
      if (items.length > MAX_ITEMS_PER_ORDER) items.splice(index === 0 ? 1 : 0, 1);
      return { body, field: `items[${items.length - 1}].sku` };
    case "badClientToken":
      body.clientToken = mutation.value;
      return { body, field: "clientToken" };
  }
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** A customer id of the same shape that no other run or test uses (so replays cannot conflict). */
const uniqueCustomerId = (customerId: string) => `${customerId}.${randomUUID()}`;

// ---------------------------------------------------------------------------------------------

describe("handlers/orders: properties over arbitrary inputs (fast-check)", function () {
  this.timeout(60_000);

  let dynamo: LocalDynamo;
  let aws: AwsStubs;
  let createOrder: HttpHandler;
  let getOrder: HttpHandler;
  let listOrders: HttpHandler;
  let fulfilOrders: FulfilHandler;

  async function scanTable(): Promise<Map<string, Item>> {
    const items = new Map<string, Item>();
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName, ExclusiveStartKey, ConsistentRead: true }));
      for (const item of page.Items ?? []) items.set(item.orderId as string, item);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return items;
  }

  const itemCount = async (): Promise<number> => (await scanTable()).size;

  interface Observed {
    items: number;
  }
  const observe = async (): Promise<Observed> => ({ items: await itemCount() });

  const carriesClientToken = (body: string, base64Encoded: boolean) =>
    (base64Encoded ? Buffer.from(body, "base64").toString("utf8") : body).includes('"clientToken"');

  /**
   * POST /orders. The idempotency key is required: the body's `clientToken` when it has one,
   * else an `Idempotency-Key` header of `key` (a fresh UUID unless given).
   */
  function post(body: string, options: { base64?: boolean; contentType?: string | null; key?: string } = {}): APIGatewayProxyEventV2 {
    const contentType = options.contentType === undefined ? "application/json" : options.contentType;
    return httpEvent({
      method: "POST",
      path: "/orders",
      body,
      isBase64Encoded: options.base64 ?? false,
      headers: {
        ...(contentType === null ? {} : { "content-type": contentType }),
        ...(carriesClientToken(body, options.base64 ?? false) ? {} : { "idempotency-key": options.key ?? randomUUID() }),
      },
    });
  }

  /** Never a 5xx; a 4xx with an error body; no item written. */
  async function expectRejected(call: HttpCall, before: Observed): Promise<void> {
    expect(call.status, call.text).to.be.within(400, 499);
    expect(call.body).to.have.all.keys("error");
    expect(call.body.error.code).to.be.a("string").and.not.equal("");
    expect(call.body.error.message).to.be.a("string").and.not.equal("");
    expect(await observe(), "a rejected request changed the table").to.deep.equal(before);
  }

  /** A created order: 201, one item more, with the id of its customer and key. */
  async function expectCreated(call: HttpCall, request: OrderRequest, key: string, before: Observed): Promise<void> {
    expect(call.status, call.text).to.equal(201);
    const order = call.body;
    expect(order).to.have.all.keys("orderId", "customerId", "items", "status", "createdAt", "itemCount");
    expect(order).to.include({ customerId: request.customerId, status: "PENDING", itemCount: request.items.length });
    expect(order.items).to.deep.equal(request.items.map(({ sku, quantity }) => ({ sku, quantity })));
    // post() sends `key` as the header unless the body carries its own clientToken.
    expect(order.orderId).to.equal(documentedOrderId(request.customerId, request.clientToken ?? key));
    expect(await observe()).to.deep.equal({ items: before.items + 1 });
  }

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    aws = stubAwsClients();
    createOrder = (require("../../handlers/orders/create-order") as typeof import("../../handlers/orders/create-order")).handler;
    getOrder = (require("../../handlers/orders/get-order") as typeof import("../../handlers/orders/get-order")).handler;
    listOrders = (require("../../handlers/orders/list-orders") as typeof import("../../handlers/orders/list-orders")).handler;
    fulfilOrders = (require("../../handlers/orders/fulfil-orders") as typeof import("../../handlers/orders/fulfil-orders")).handler;
  });

  after(() => aws.restore());

  describe("POST /orders", () => {
    it("answers arbitrary JSON bodies with 201 exactly when valid, else a 4xx that writes and sends nothing", async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyJson, structuredBodyArb), async (value) => {
          const sent: unknown = JSON.parse(JSON.stringify(value));
          const valid = isValidOrderRequest(sent);
          // A valid body gets a customer id of its own, so a repeated clientToken cannot conflict.
          if (valid) (sent as OrderRequest).customerId = uniqueCustomerId((sent as OrderRequest).customerId);
          const before = await observe();
          const key = randomUUID();
          const call = await callHttp(createOrder, post(JSON.stringify(sent), { key }));
          if (valid) await expectCreated(call, sent as OrderRequest, key, before);
          else await expectRejected(call, before);
        }),
        { numRuns: 100 },
      );
    });

    it("answers arbitrary strings and bytes (plain or base64, any content type) without a 5xx or a write", async () => {
      const bodyArb = fc.oneof(
        fc.record({ body: fc.string({ unit: "binary", maxLength: 200 }), base64: fc.boolean() }),
        fc.record({ body: fc.json({ maxDepth: 3 }), base64: fc.constant(false) }),
        fc.record({ body: fc.json({ maxDepth: 3 }).map(base64), base64: fc.constant(true) }),
        fc.record({ body: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("base64")), base64: fc.constant(true) }),
        // Bodies around the size limit: valid orders padded with whitespace.
        fc.record({
          body: fc
            .tuple(validRequestArb, fc.integer({ min: MAX_BODY_BYTES - 200, max: MAX_BODY_BYTES + 200 }))
            .map(([request, size]) => JSON.stringify(request).padEnd(size, " ")),
          base64: fc.boolean(),
        }).map(({ body, base64: encoded }) => ({ body: encoded ? base64(body) : body, base64: encoded })),
      );
      const contentTypeArb = fc.oneof(
        { weight: 4, arbitrary: fc.constant("application/json") },
        fc.constantFrom(null, "application/json; charset=utf-8", "Application/Problem+JSON", "text/plain", "application/xml", ""),
        fc.string({ maxLength: 30 }),
      );
      await fc.assert(
        fc.asyncProperty(bodyArb, contentTypeArb, async ({ body, base64: encoded }, contentType) => {
          const event = post(body, { base64: encoded, contentType });
          const accepted = acceptedBody(event) as OrderRequest | undefined;
          // Only the padded valid orders can be accepted; their customer ids are random enough
          // not to repeat (a repeat of a key would be a legitimate replay or 409).
          const before = await observe();
          const call = await callHttp(createOrder, event);
          if (accepted === undefined) await expectRejected(call, before);
          else expect(call.status, call.text).to.be.oneOf([200, 201, 409]);
        }),
        { numRuns: 100 },
      );
    });

    it("rejects every almost-valid body (one field broken) with a 400 naming that field, writing and sending nothing", async () => {
      await fc.assert(
        fc.asyncProperty(validRequestArb, mutationArb, async (request, mutation) => {
          const { body, field } = mutate(request, mutation);
          expect(isValidOrderRequest(JSON.parse(JSON.stringify(body))), "the mutation left the body valid").to.equal(false);
          const before = await observe();
          const call = await callHttp(createOrder, post(JSON.stringify(body)));
          await expectRejected(call, before);
          expect(call.status).to.equal(400);
          expect(call.body.error.code).to.equal("ValidationError");
          const fields = (call.body.error.details as { field: string }[]).map((detail) => detail.field);
          expect(fields, call.body.error.message).to.include(field);
        }),
        { numRuns: 100 },
      );
    });

    it("creates exactly one order per valid body and key (201), and a repeat with the key is a replay (200)", async () => {
      await fc.assert(
        fc.asyncProperty(validRequestArb, fc.boolean(), async (generated, asBase64) => {
          const request = { ...generated, customerId: uniqueCustomerId(generated.customerId) };
          const text = JSON.stringify(request);
          const key = randomUUID();
          const send = () => callHttp(createOrder, post(asBase64 ? base64(text) : text, { base64: asBase64, key }));

          const before = await observe();
          const first = await send();
          await expectCreated(first, request, key, before);
          expect(await ordersOf(dynamo, request.customerId)).to.deep.equal([{ ...first.body, pendingSince: first.body.createdAt }]);

          const afterFirst = await observe();
          const again = await send();
          expect(again.status, again.text).to.equal(200);
          expect(again.body).to.deep.equal(first.body);
          expect(await observe()).to.deep.equal(afterFirst);
          expect(await ordersOf(dynamo, request.customerId)).to.deep.equal([{ ...first.body, pendingSince: first.body.createdAt }]);
        }),
        { numRuns: 50 },
      );
    });
  });

  describe("GET /orders/{orderId} and GET /orders?customerId=", () => {
    const customers = [newCustomerId(), newCustomerId()];
    const stored: Item[] = [];

    before(async () => {
      for (const [c, customerId] of customers.entries()) {
        for (let i = 0; i < 3; i++) {
          const order = {
            orderId: i === 0 ? createHmac("sha256", "k").update(`${c}`).digest("hex") : randomUUID(),
            customerId,
            items: [{ sku: `SKU-${i}`, quantity: i + 1 }],
            status: i === 2 ? "FULFILLED" : "PENDING",
            createdAt: new Date(Date.UTC(2025, 0, 1, 12, 0, i)).toISOString(),
            itemCount: 1,
          };
          await putOrder(dynamo, order);
          stored.push(order);
        }
      }
    });

    it("answers any orderId path parameter with 200, 404 or 400, never a 5xx", async () => {
      const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
      const orderIdArb = fc.oneof(
        fc.string({ unit: "binary" }),
        fc.string({ unit: "grapheme-ascii", maxLength: 70 }),
        fc.uuid(),
        hex64,
        fc.constantFrom(...stored.map((order) => order.orderId as string)),
        fc.constantFrom(...stored.map((order) => order.orderId as string)).map((id) => id.toUpperCase()),
        fc.constantFrom(...stored.map((order) => order.orderId as string)).map((id) => ` ${id}`),
        fc.stringMatching(/^[0-9a-f]{65,70}$/),
      );
      await fc.assert(
        fc.asyncProperty(fc.option(orderIdArb, { nil: undefined }), async (orderId) => {
          const event = httpEvent({
            method: "GET",
            path: `/orders/${orderId ?? ""}`,
            route: "/orders/{orderId}",
            ...(orderId === undefined ? {} : { pathParameters: { orderId } }),
          });
          const call = await callHttp(getOrder, event);
          expect(call.status, call.text).to.be.below(500);
          const existing = stored.find((order) => order.orderId === orderId);
          if (orderId === undefined || !ORDER_ID.test(orderId)) {
            expect(call.status).to.equal(400);
            expect(call.body.error.code).to.equal("ValidationError");
          } else if (existing !== undefined) {
            expect(call.status).to.equal(200);
            expect(call.body).to.deep.equal(existing);
          } else {
            expect(call.status).to.equal(404);
            expect(call.body.error).to.include({ code: "OrderNotFound" });
          }
        }),
        { numRuns: 100 },
      );
    });

    it("answers any query string with a page of that customer's orders or a 4xx, never a 5xx", async () => {
      const SAME = "(the query's customerId)";
      const pageKeyArb = fc.record(
        {
          orderId: mostly(fc.uuid(), fc.string(), fc.constantFrom(...stored.map((order) => order.orderId as string))),
          customerId: mostly(fc.constant(SAME), fc.string(), anyJson),
          createdAt: mostly(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string({ minLength: 1 }),
            fc.string({ unit: "binary-ascii", minLength: 1000, maxLength: 1300 }),
            anyJson,
          ),
        },
        { requiredKeys: ["orderId", "customerId", "createdAt"] },
      );
      const queryArb = fc.tuple(
        fc.record(
          {
            customerId: mostly(fc.constantFrom(...customers), customerIdArb, fc.string(), fc.constant("")),
            limit: mostly(
              fc.integer({ min: 1, max: MAX_LIMIT }).map(String),
              fc.integer({ min: -5, max: 120 }).map(String),
              fc.string(),
              fc.constantFrom("0100", "1.5", "1e2", " 2", "00001"),
            ),
            nextToken: mostly(
              fc.tuple(pageKeyArb, fewExtra(anyJson)).map(([key, extra]) => ({ key, extra })),
              fc.string(),
              fc.base64String(),
              anyJson.map((value) => Buffer.from(JSON.stringify(value)).toString("base64url")),
            ),
          },
          { requiredKeys: ["customerId"] },
        ),
        fewExtra(fc.string()),
        fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
      );

      await fc.assert(
        fc.asyncProperty(queryArb, async ([fields, extra, dropCustomerId]) => {
          const { nextToken, ...rest } = fields;
          if (dropCustomerId) delete (rest as { customerId?: string }).customerId;
          const query: Record<string, string> = { ...extra, ...rest };
          if (typeof nextToken === "string") {
            query.nextToken = nextToken;
          } else if (nextToken !== undefined) {
            const key = { ...nextToken.extra, ...nextToken.key } as Record<string, unknown>;
            if (key.customerId === SAME) key.customerId = query.customerId;
            query.nextToken = Buffer.from(JSON.stringify(key)).toString("base64url");
          }
          const call = await callHttp(listOrders, listOrdersEvent(query));
          expect(call.status, call.text).to.be.below(500);

          const { customerId, limit } = query;
          const limitValid = limit === undefined || (/^[0-9]+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= MAX_LIMIT);
          const mustReject =
            Object.keys(query).some((key) => !QUERY_FIELDS.includes(key)) ||
            customerId === undefined ||
            !CUSTOMER_ID.test(customerId) ||
            !limitValid;
          if (mustReject) expect(call.status, call.text).to.equal(400);
          // Without a token, a valid query must get its page, zero-padded limits ("00001") included.
          else if (query.nextToken === undefined) {
            expect(call.status, call.text).to.equal(200);
          }
          if (call.status >= 400) {
            expect(call.body).to.have.all.keys("error");
            expect(call.body.error.code).to.be.a("string").and.not.equal("");
            return;
          }
          expect(call.status).to.equal(200);
          const orders = call.body.orders as Item[];
          expect(orders.length).to.be.at.most(limit === undefined ? 20 : Number(limit));
          for (const order of orders) expect(order.customerId).to.equal(customerId);
          if (query.nextToken === undefined && customers.includes(customerId)) {
            const expected = stored.filter((order) => order.customerId === customerId);
            expect(orders).to.deep.equal(expected.slice(0, limit === undefined ? 20 : Number(limit)));
          }
        }),
        { numRuns: 100 },
      );
    });
  });

  describe("fulfilment consumer", () => {
    type Entry =
      | { kind: "insert"; at: number }
      | { kind: "otherEvent"; at: number; eventName: "MODIFY" | "REMOVE" | "other" }
      | { kind: "alteredKey"; at: number; alter: "upperCase" | "padded" | "number" | "missing" | "extraType" }
      | { kind: "unknownOrder"; orderId: string }
      | { kind: "arbitrary"; dynamodb: unknown };

    const entryArb: fc.Arbitrary<Entry> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat() }) },
      fc.record({ kind: fc.constant("otherEvent" as const), at: fc.nat(), eventName: fc.constantFrom("MODIFY" as const, "REMOVE" as const, "other" as const) }),
      fc.record({
        kind: fc.constant("alteredKey" as const),
        at: fc.nat(),
        alter: fc.constantFrom("upperCase" as const, "padded" as const, "number" as const, "missing" as const, "extraType" as const),
      }),
      fc.record({ kind: fc.constant("unknownOrder" as const), orderId: fc.oneof(fc.uuid(), fc.stringMatching(/^[0-9a-f]{64}$/)) }),
      fc.record({ kind: fc.constant("arbitrary" as const), dynamodb: anyJson }),
    );

    it("fails exactly the records that are not an INSERT of an existing order, fulfils the rest and changes nothing else", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom("PENDING", "FULFILLED"), { minLength: 1, maxLength: 4 }),
          fc.array(entryArb, { minLength: 1, maxLength: 10 }),
          async (statuses, entries) => {
            const seeded: string[] = [];
            for (const status of statuses) {
              const orderId = randomUUID();
              await putOrder(dynamo, {
                orderId,
                customerId: newCustomerId(),
                items: [{ sku: "A", quantity: 1 }],
                status,
                createdAt: "2025-01-01T00:00:00.000Z",
                itemCount: 1,
                ...(status === "FULFILLED" ? { fulfilledAt: "2025-01-01T00:00:01.000Z" } : {}),
              });
              seeded.push(orderId);
            }
            const records = entries.map((entry, i): DynamoDBRecord => {
              const SequenceNumber = String(100000000000000000000n + BigInt(i));
              const record = (eventName: string, Keys: unknown): DynamoDBRecord =>
                ({ eventID: `event-${i}`, eventName, eventSource: "aws:dynamodb", dynamodb: { Keys, SequenceNumber } }) as DynamoDBRecord;
              switch (entry.kind) {
                case "insert":
                  return record("INSERT", { orderId: { S: seeded[entry.at % seeded.length] } });
                case "otherEvent":
                  return record(entry.eventName, { orderId: { S: seeded[entry.at % seeded.length] } });
                case "alteredKey": {
                  const orderId = seeded[entry.at % seeded.length];
                  const keys = {
                    upperCase: { orderId: { S: orderId.toUpperCase() } },
                    padded: { orderId: { S: ` ${orderId}` } },
                    number: { orderId: { N: String(Number.parseInt(orderId, 16)) } },
                    missing: {},
                    extraType: { orderId: { S: orderId, N: "1" } },
                  }[entry.alter];
                  return record("INSERT", keys);
                }
                case "unknownOrder":
                  return record("INSERT", { orderId: { S: entry.orderId } });
                case "arbitrary":
                  return { eventID: `event-${i}`, eventName: "INSERT", dynamodb: { ...(isObject(entry.dynamodb) ? entry.dynamodb : {}), SequenceNumber } } as DynamoDBRecord;
              }
            });

            const before = await scanTable();
            const started = Date.now();
            const context = lambdaContext("orders-fulfil");
            const { result, text } = await capture<DynamoDBBatchResponse>(() => fulfilOrders({ Records: records }, context));
            const finished = Date.now();
            const after = await scanTable();

            const targets = new Set<string>();
            const expectedFailures = records
              .filter((record) => {
                const orderId = recordOrderId(record);
                const status = orderId === undefined ? undefined : before.get(orderId)?.status;
                if (orderId === undefined || (status !== "PENDING" && status !== "FULFILLED")) return true;
                targets.add(orderId);
                return false;
              })
              .map((record) => record.dynamodb!.SequenceNumber!);
            const failures = result.batchItemFailures.map((failure) => failure.itemIdentifier);
            expect(failures.sort(), text).to.deep.equal(expectedFailures.sort());

            expect([...after.keys()].sort(), "items were added or removed").to.deep.equal([...before.keys()].sort());
            for (const [orderId, was] of before) {
              const now = after.get(orderId);
              if (targets.has(orderId) && was.status === "PENDING") {
                const { status, fulfilledAt, ...rest } = now as Item;
                expect(status).to.equal("FULFILLED");
                expect(Date.parse(fulfilledAt as string)).to.be.within(started - 1000, finished + 1000);
                expect({ ...rest, status: "PENDING" }).to.deep.equal(was);
              } else {
                expect(now, `order ${orderId} changed`).to.deep.equal(was);
              }
            }
          },
        ),
        { numRuns: 50 },
      );
    });
  });
});
