import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { expect } from "chai";
import {
  callHttp,
  capture,
  getOrderEvent,
  lambdaContext,
  listOrdersEvent,
  newCustomerId,
  postOrder,
  setUpHandlerEnvironment,
  sqsEvent,
  stubAwsClients,
  type AwsStubs,
  type HttpHandler,
} from "./support";

describe("order flow: create -> queue message -> fulfil -> read", () => {
  let aws: AwsStubs;
  let create: HttpHandler;
  let get: HttpHandler;
  let list: HttpHandler;
  let fulfil: typeof import("../../handlers/orders/fulfil-orders").handler;

  before(async () => {
    await setUpHandlerEnvironment();
    aws = stubAwsClients();
    create = require("../../handlers/orders/create-order").handler;
    get = require("../../handlers/orders/get-order").handler;
    list = require("../../handlers/orders/list-orders").handler;
    fulfil = require("../../handlers/orders/fulfil-orders").handler;
  });

  after(() => aws.restore());

  it("fulfils an order from the very message create-order sent", async () => {
    const customerId = newCustomerId();
    const created = await callHttp(create, postOrder({ customerId, items: [{ sku: "A", quantity: 2 }] }));
    expect(created.status).to.equal(201);

    const sent = aws.sqs.commandCalls(SendMessageCommand);
    expect(sent).to.have.length(1);
    const body = sent[0].args[0].input.MessageBody ?? "";
    const { result } = await capture<SQSBatchResponse>(() =>
      fulfil(sqsEvent([{ messageId: "from-create", body }]), lambdaContext()),
    );
    expect(result).to.deep.equal({ batchItemFailures: [] });

    const { orderId } = created.body;
    const read = await callHttp(get, getOrderEvent(orderId));
    expect(read.body).to.include({ orderId, status: "FULFILLED" });
    expect(read.body.fulfilledAt).to.be.a("string");

    const listed = await callHttp(list, listOrdersEvent({ customerId }));
    expect(listed.body.orders).to.deep.equal([read.body]);
  });
});
