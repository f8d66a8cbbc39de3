/**
 * Fault injection on the write and fulfilment path: every AWS call create-order and
 * fulfil-orders make is made to fail, time out, or succeed with its response lost, on each
 * attempt of one call (so the SDK's own retries give up too), against dynalite behind the
 * local runtime's DynamoDB Streams emulation, with the stream read by the local runtime's
 * poller (Lambda's retry, bisect and on-failure rules) invoking fulfil-orders. The client
 * retries with the same Idempotency-Key until it is answered 2xx. After every case exactly
 * one order exists, it is fulfilled exactly once (one PENDING -> FULFILLED change on the
 * stream), and nothing went to the dead-letter queue.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { expect } from "chai";
import { StreamPoller, type StreamRecord } from "../../local/streams";
import { recordFilter } from "../../local/stream-filters";
import { ordersOf, type LocalDynamo } from "./dynalite";
import { callHttp, DEFAULT_PARAMETERS, lambdaContext, PARAMETERS_PATH, newCustomerId, postOrder, setUpHandlerEnvironment, stubAwsClients, withJwt, type AwsStubs } from "./support";

type Handler = "create-order" | "fulfil-orders";
type Fault = "fail" | "time out" | "lose the response" | "lose the first response";
interface Invocation {
  handler: Handler;
  /** SDK calls this invocation made (not attempts). */
  calls: number;
}

/** Which call the current case breaks: the first call of `command` by `handler`, on each of its attempts. */
interface Injection {
  handler: Handler;
  command: string;
  fault: Fault;
  /** Set once the call it broke has ended, so later calls go through. */
  spent?: boolean;
  /** The call (its initialize-step args) being broken. */
  call?: object;
  /** Attempts of that call so far. */
  attempts?: number;
}

const invocation = new AsyncLocalStorage<Invocation>();
const observability = () => require("../../handlers/lib/observability") as typeof import("../../handlers/lib/observability");
let injection: Injection | undefined;

function transientError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: "server", $metadata: { httpStatusCode: 503 } });
}

describe("orders write and fulfilment path under injected faults", function () {
  this.timeout(60_000);
  let dynamo: LocalDynamo;
  let stubs: AwsStubs;
  let createOrder: typeof import("../../handlers/orders/create-order").handler;
  let fulfil: typeof import("../../handlers/orders/fulfil-orders").handler;
  let maxAttempts: number;
  let poller: StreamPoller;
  let stopRecording: () => Promise<void>;
  const recorded: StreamRecord[] = [];
  const deadLetters: string[] = [];
  const invocations: Invocation[] = [];
  /** fulfil-orders invocations still running. */
  let fulfilling = 0;

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    stubs = stubAwsClients();
    createOrder = require("../../handlers/orders/create-order").handler;
    fulfil = require("../../handlers/orders/fulfil-orders").handler;
    const { db } = require("../../handlers/orders/model") as typeof import("../../handlers/orders/model");
    // The fulfilment invocations run beside the requests, outside any capture: keep them quiet.
    observability().logger.setLogLevel("SILENT");
    maxAttempts = await db.config.maxAttempts();

    // Counts the calls of each invocation, and marks the call the case breaks.
    db.middlewareStack.add((next, context) => async (args) => {
      const current = invocation.getStore();
      if (current) current.calls += 1;
      const armed = injection && !injection.spent && !injection.call && current?.handler === injection.handler && context.commandName === injection.command;
      if (armed) injection!.call = args;
      try {
        return await next(args);
      } finally {
        if (armed) injection!.spent = true;
      }
    }, { step: "initialize", name: "faultCallMarker" });
    // Breaks each attempt of the marked call (this step runs once per attempt, inside the SDK's retry).
    db.middlewareStack.add((next, context) => async (args) => {
      if (!injection?.call || injection.spent || context.commandName !== injection.command || invocation.getStore()?.handler !== injection.handler) return next(args);
      injection.attempts = (injection.attempts ?? 0) + 1;
      // Only the first answer is lost: the SDK's own retry then meets the write's condition.
      if (injection.fault === "lose the first response" && injection.attempts > 1) return next(args);
      if (injection.fault === "fail") throw transientError("ServiceUnavailable", "injected: DynamoDB is unavailable");
      if (injection.fault === "time out") throw transientError("TimeoutError", "injected: the request timed out before DynamoDB got it");
      await next(args); // DynamoDB applies it; the answer never arrives
      throw transientError("TimeoutError", "injected: the response was lost");
    }, { step: "deserialize", name: "faultInjector" });

    recorded.length = 0;
    stopRecording = await dynamo.stream.subscribe("LATEST", (_, records) => recorded.push(...records));
    poller = new StreamPoller(
      dynamo.stream,
      {
        // As index.ts deploys the mapping: StreamWorker's defaults, new orders only.
        batchSize: 10, batchWindowSeconds: 0, bisectOnError: true, maxRetries: 3, maxRecordAgeSeconds: 3600,
        reportBatchItemFailures: true, parallelizationFactor: 1, startingPosition: "LATEST",
        filter: recordFilter([JSON.stringify({ eventName: ["INSERT"] })], "fulfilment"),
      },
      {
        functionName: "fulfil-orders",
        functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:fulfil-orders",
        invoke: async (event) => {
          const started = Date.now();
          const current: Invocation = { handler: "fulfil-orders", calls: 0 };
          invocations.push(current);
          fulfilling += 1;
          try {
            const payload = await invocation.run(current, () => fulfil(event as DynamoDBStreamEvent, lambdaContext("fulfil-orders")));
            return { payload, timedOut: false, cold: false, durationMs: Date.now() - started, requestId: randomUUID() };
          } catch (error) {
            return { error: { errorType: (error as Error).name, errorMessage: (error as Error).message }, timedOut: false, cold: false, durationMs: Date.now() - started, requestId: randomUUID() };
          } finally {
            fulfilling -= 1;
          }
        },
      },
      { describe: "the test's dead-letter queue", send: async (body) => void deadLetters.push(body) },
      { batch: () => undefined, line: () => undefined },
    );
    await poller.start();
  });

  after(async () => {
    await poller?.stop();
    await stopRecording?.();
    stubs?.restore();
    observability().logger.setLogLevel("INFO");
  });

  afterEach(() => {
    injection = undefined;
    stubs.reset();
  });

  /** The client: the same request with the same key until a 2xx answer, at most 5 times. */
  async function placeOrder(customerId: string): Promise<{ statuses: number[]; orderId: string }> {
    const key = randomUUID();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const current: Invocation = { handler: "create-order", calls: 0 };
      invocations.push(current);
      const event = withJwt(postOrder({ customerId, items: [{ sku: "SKU-1", quantity: 2 }] }, { "idempotency-key": key }), customerId);
      const { result } = await invocation.run(current, () => callHttp(createOrder, event));
      statuses.push(result.statusCode ?? 0);
      if (result.statusCode === 200 || result.statusCode === 201) return { statuses, orderId: JSON.parse(result.body as string).orderId };
    }
    throw new Error(`The order was never accepted: ${statuses.join(", ")}`);
  }

  async function fulfilledOnce(customerId: string, orderId: string): Promise<void> {
    const changes = () => recorded.filter((r) => (r.event as any).dynamodb.Keys.orderId.S === orderId).map((r) => (r.event as any).eventName);
    // Until the order changed twice and no fulfilment still runs (a call whose answers are
    // lost keeps retrying after its first attempt applied).
    const settled = () => changes().length >= 2 && fulfilling === 0;
    for (let waited = 0; !settled() && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    // Let any late duplicate delivery run before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fulfilling, "a fulfilment still runs").to.equal(0);
    const orders = await ordersOf(dynamo, customerId);
    expect(orders.map((o) => [o.orderId, o.status])).to.deep.equal([[orderId, "FULFILLED"]]);
    expect(changes()).to.deep.equal(["INSERT", "MODIFY"]);
  }

  const cases: Array<[Handler, string, Fault[]]> = [
    ["create-order", "QueryCommand", ["fail", "time out"]],
    ["create-order", "PutItemCommand", ["fail", "time out", "lose the response", "lose the first response"]],
    ["fulfil-orders", "UpdateItemCommand", ["fail", "time out", "lose the response", "lose the first response"]],
  ];

  beforeEach(() => {
    invocations.length = 0;
  });

  afterEach(function () {
    if (this.currentTest?.state !== "passed") return;
    // The SDK timeouts assume this chain (handlers/lib/aws-clients.ts). The SSM read is
    // stubbed below the SDK, so it is counted here by hand.
    const { SEQUENTIAL_AWS_CALLS } = require("../../handlers/lib/aws-clients") as typeof import("../../handlers/lib/aws-clients");
    for (const current of invocations.filter((i) => i.handler === "create-order")) {
      expect(current.calls + 1, "AWS calls in one create-order invocation").to.be.at.most(SEQUENTIAL_AWS_CALLS);
    }
  });

  it("without faults: one order, fulfilled once", async () => {
    const customerId = newCustomerId();
    const { statuses, orderId } = await placeOrder(customerId);
    expect(statuses).to.deep.equal([201]);
    await fulfilledOnce(customerId, orderId);
  });

  it("Parameter Store failing: the request fails before any write, and the retry creates the order once", async () => {
    stubs.givenParameters();
    const served = { Parameters: Object.entries(DEFAULT_PARAMETERS).map(([key, value]) => ({ Name: `${PARAMETERS_PATH}/${key}`, Type: "String" as const, Value: value })) };
    stubs.ssm.reset();
    stubs.ssm.on(GetParametersByPathCommand).rejectsOnce(transientError("ThrottlingException", "injected: SSM throttled")).resolves(served);
    const customerId = newCustomerId();
    const { statuses, orderId } = await placeOrder(customerId);
    expect(statuses[0]).to.equal(500);
    await fulfilledOnce(customerId, orderId);
  });

  for (const [handler, command, faults] of cases) {
    for (const fault of faults) {
      it(`${handler}: ${command} made to ${fault}${fault === "lose the first response" ? "" : " on every attempt"}`, async () => {
        injection = { handler, command, fault };
        const customerId = newCustomerId();
        const { statuses, orderId } = await placeOrder(customerId);
        await fulfilledOnce(customerId, orderId);
        expect(injection.spent, "the fault was injected").to.equal(true);
        // The client retries unless the SDK's own retry already recovered.
        if (handler === "create-order" && fault !== "lose the first response") expect(statuses.length, `answers ${statuses.join(", ")}`).to.be.above(1);
        if (handler === "create-order" && fault === "lose the first response") expect(statuses).to.deep.equal([200]);
        expect(deadLetters).to.deep.equal([]);
        expect(maxAttempts).to.be.above(1);
      });
    }
  }
});
