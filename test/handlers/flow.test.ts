import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { SQSBatchResponse } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import {
  callHttp,
  capture,
  httpEvent,
  lambdaContext,
  newCustomerId,
  ORDER_TOKEN_SECRET,
  PARAMETERS_PATH,
  postOrder,
  setUpHandlerEnvironment,
  sqsEvent,
  type HttpHandler,
} from "./support";

describe("order flow: create -> queue message -> fulfil -> read", () => {
  let ssm: AwsClientStub<SSMClient>;
  let sqs: AwsClientStub<SQSClient>;
  let create: HttpHandler;
  let get: HttpHandler;
  let list: HttpHandler;
  let fulfil: typeof import("../../handlers/orders/fulfil-orders").handler;

  before(async () => {
    await setUpHandlerEnvironment();
    ssm = mockClient(SSMClient);
    sqs = mockClient(SQSClient);
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [
        { Name: `${PARAMETERS_PATH}/maxItemsPerOrder`, Type: "String", Value: "5" },
        { Name: `${PARAMETERS_PATH}/orderTokenSecret`, Type: "SecureString", Value: ORDER_TOKEN_SECRET },
      ],
    });
    sqs.on(SendMessageCommand).resolves({ MessageId: "m" });
    (require("../../handlers/lib/config") as typeof import("../../handlers/lib/config")).parameters.clearCache();
    create = require("../../handlers/orders/create-order").handler;
    get = require("../../handlers/orders/get-order").handler;
    list = require("../../handlers/orders/list-orders").handler;
    fulfil = require("../../handlers/orders/fulfil-orders").handler;
  });

  after(() => {
    ssm.restore();
    sqs.restore();
  });

  it("fulfils an order from the very message create-order sent", async () => {
    const customerId = newCustomerId();
    const created = await callHttp(create, postOrder({ customerId, items: [{ sku: "A", quantity: 2 }] }));
    expect(created.status).to.equal(201);

    const sent = sqs.commandCalls(SendMessageCommand);
    expect(sent).to.have.length(1);
    const body = sent[0].args[0].input.MessageBody ?? "";
    const { result } = await capture<SQSBatchResponse>(() =>
      fulfil(sqsEvent([{ messageId: "from-create", body }]), lambdaContext()),
    );
    expect(result).to.deep.equal({ batchItemFailures: [] });

    const { orderId } = created.body;
    const read = await callHttp(
      get,
      httpEvent({ method: "GET", path: `/orders/${orderId}`, route: "/orders/{orderId}", pathParameters: { orderId } }),
    );
    expect(read.body).to.include({ orderId, status: "FULFILLED" });
    expect(read.body.fulfilledAt).to.be.a("string");

    const listed = await callHttp(list, httpEvent({ method: "GET", path: "/orders", queryStringParameters: { customerId } }));
    expect(listed.body.orders).to.deep.equal([read.body]);
  });
});
