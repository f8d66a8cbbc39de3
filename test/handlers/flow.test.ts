import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { expect } from "chai";
import type { StreamRecord } from "../../local/streams";
import { type LocalDynamo } from "./dynalite";
import {
  callHttp,
  capture,
  getOrderEvent,
  lambdaContext,
  listOrdersEvent,
  newCustomerId,
  postOrder,
  setUpHandlerEnvironment,
  stubAwsClients,
  type AwsStubs,
  type HttpHandler,
} from "./support";

describe("order flow: create -> the table's stream -> fulfil -> read", () => {
  let aws: AwsStubs;
  let dynamo: LocalDynamo;
  let create: HttpHandler;
  let get: HttpHandler;
  let list: HttpHandler;
  let fulfil: typeof import("../../handlers/orders/fulfil-orders").handler;

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    aws = stubAwsClients();
    create = require("../../handlers/orders/create-order").handler;
    get = require("../../handlers/orders/get-order").handler;
    list = require("../../handlers/orders/list-orders").handler;
    fulfil = require("../../handlers/orders/fulfil-orders").handler;
  });

  after(() => aws.restore());

  it("fulfils an order from the very stream record its one write made", async () => {
    const records: StreamRecord[] = [];
    const stop = await dynamo.stream.subscribe("LATEST", (_, delivered) => records.push(...delivered));
    const customerId = newCustomerId();
    const created = await callHttp(create, postOrder({ customerId, items: [{ sku: "A", quantity: 2 }] }));
    await stop();
    expect(created.status).to.equal(201);

    const { orderId } = created.body;
    expect(records.map((r) => (r.event as any).eventName)).to.deep.equal(["INSERT"]);
    const event = { Records: records.map((r) => r.event) } as DynamoDBStreamEvent;
    const { result } = await capture<DynamoDBBatchResponse>(() => fulfil(event, lambdaContext()));
    expect(result).to.deep.equal({ batchItemFailures: [] });

    const read = await callHttp(get, getOrderEvent(orderId));
    expect(read.body).to.include({ orderId, status: "FULFILLED" });
    expect(read.body.fulfilledAt).to.be.a("string");

    const listed = await callHttp(list, listOrdersEvent({ customerId }));
    expect(listed.body.orders).to.deep.equal([read.body]);
  });
});
