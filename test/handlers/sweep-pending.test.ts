/**
 * The sweeper against dynalite with real SDK clients: the orders the stream path left PENDING
 * past the grace period, found in the sparse pending index and fulfilled by the worker's own
 * conditional update (handlers/orders/fulfil.ts).
 */
import { randomUUID } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { expect } from "chai";
import { PENDING_INDEX } from "../../handlers/orders/table";
import { orderById, putOrder, type LocalDynamo } from "./dynalite";
import { capture, callHttp, insertEvent, lambdaContext, logLines, metricTotal, newCustomerId, postOrder, setUpHandlerEnvironment, stubAwsClients, type AwsStubs, type HttpHandler } from "./support";

type SweepModule = typeof import("../../handlers/orders/sweep-pending");
type FulfilModule = typeof import("../../handlers/orders/fulfil-orders");

const GRACE_MINUTES = 10;
const MAX_ORDERS = 3;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

describe("handlers/orders/sweep-pending (what the stream path left PENDING)", () => {
  let dynamo: LocalDynamo;
  let aws: AwsStubs;
  let sweep: SweepModule["handler"];
  let fulfil: FulfilModule["handler"];
  let create: HttpHandler;
  let db: typeof import("../../handlers/orders/model").db;

  before(async () => {
    dynamo = await setUpHandlerEnvironment();
    Object.assign(process.env, { SWEEP_GRACE_MINUTES: String(GRACE_MINUTES), SWEEP_MAX_ORDERS: String(MAX_ORDERS) });
    aws = stubAwsClients();
    sweep = (require("../../handlers/orders/sweep-pending") as SweepModule).handler;
    fulfil = (require("../../handlers/orders/fulfil-orders") as FulfilModule).handler;
    create = require("../../handlers/orders/create-order").handler;
    db = (require("../../handlers/orders/model") as typeof import("../../handlers/orders/model")).db;
  });

  after(() => aws.restore());

  // Every test starts with no order past the grace in the index (earlier tests' leftovers swept).
  beforeEach(async () => {
    for (let run = 0; run < 20; run++) {
      const { result } = await capture(() => sweep({}, lambdaContext()).catch(() => ({ more: true })));
      if (!result.more) return;
    }
    throw new Error("20 sweeps left orders past the grace in the index: the test would not start clean");
  });

  /** A PENDING order as create-order writes it, created `minutes` ago. */
  async function pendingOrder(minutes: number): Promise<string> {
    const orderId = randomUUID();
    const createdAt = minutesAgo(minutes);
    await putOrder(dynamo, { orderId, customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }], status: "PENDING", createdAt, itemCount: 1, pendingSince: createdAt });
    return orderId;
  }

  const run = (context: Context = lambdaContext("sweeper")) => capture(() => sweep({}, context));
  /** The order ids in the pending index. */
  const indexed = async (): Promise<string[]> => {
    const { Items = [] } = await dynamo.doc.send(new QueryCommand({
      TableName: dynamo.tableName, IndexName: PENDING_INDEX,
      KeyConditionExpression: "#status = :pending", ExpressionAttributeNames: { "#status": "status" }, ExpressionAttributeValues: { ":pending": "PENDING" },
    }));
    return Items.map((item) => item.orderId as string);
  };

  it("fulfils an order stuck past the grace, leaves a young one, and takes the stuck one out of the index", async () => {
    const stuck = await pendingOrder(GRACE_MINUTES + 5);
    const young = await pendingOrder(GRACE_MINUTES - 5);
    expect(await indexed()).to.include.members([stuck, young]);
    const before = Date.now();
    const { result, lines } = await run();

    expect(result).to.deep.equal({ swept: 1, alreadyFulfilled: 0, failed: [], more: false });
    const order = await orderById(dynamo, stuck);
    expect(order).to.include({ status: "FULFILLED" }).and.not.have.property("pendingSince");
    expect(Date.parse(order!.fulfilledAt as string)).to.be.within(before - 1000, Date.now() + 1000);
    expect(await orderById(dynamo, young)).to.include({ status: "PENDING" });
    const inIndex = await indexed();
    expect(inIndex).to.include(young).and.not.include(stuck);
    expect(metricTotal(lines, "OrderSwept")).to.equal(1);
    expect(logLines(lines).filter((l) => l.message === "Order swept: the stream path left it PENDING").map((l) => l.orderId)).to.deep.equal([stuck]);
  });

  it("leaves an already fulfilled order untouched: it is not in the index", async () => {
    const orderId = randomUUID();
    const done = { orderId, customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }], status: "FULFILLED", createdAt: minutesAgo(60), itemCount: 1, fulfilledAt: minutesAgo(59) };
    await putOrder(dynamo, done);
    expect(await indexed()).not.to.include(orderId);
    const { result, lines } = await run();

    expect(result).to.deep.equal({ swept: 0, alreadyFulfilled: 0, failed: [], more: false });
    expect(await orderById(dynamo, orderId)).to.deep.equal(done);
    expect(metricTotal(lines, "OrderSwept")).to.equal(0);
  });

  it("puts a created order in the index and the stream worker's fulfilment takes it out; the API's answer does not show the index key", async () => {
    const created = await callHttp(create, postOrder({ customerId: newCustomerId(), items: [{ sku: "A", quantity: 1 }] }));
    expect(created.status).to.equal(201);
    expect(created.body).not.to.have.property("pendingSince");
    const { orderId, createdAt } = created.body;
    expect(await orderById(dynamo, orderId)).to.include({ status: "PENDING", pendingSince: createdAt });
    expect(await indexed()).to.include(orderId);

    await capture(() => fulfil(insertEvent([orderId]), lambdaContext()));
    expect(await orderById(dynamo, orderId)).to.include({ status: "FULFILLED" }).and.not.have.property("pendingSince");
    expect(await indexed()).not.to.include(orderId);
  });

  it("fulfils an order once when the worker and the sweeper race for it", async () => {
    const orderId = await pendingOrder(GRACE_MINUTES + 1);
    // One capture around both: captures do not nest.
    const { result: [worker, sweeper], lines } = await capture(() => Promise.all([fulfil(insertEvent([orderId]), lambdaContext()), sweep({}, lambdaContext("sweeper"))]));

    expect(worker).to.deep.equal({ batchItemFailures: [] });
    expect(sweeper.failed).to.deep.equal([]);
    // Exactly one of them moved it; the other found it FULFILLED (or, the sweeper, not yet past the worker's write).
    expect(metricTotal(lines, "OrderFulfilled") + metricTotal(lines, "OrderSwept")).to.equal(1);
    expect(logLines(lines).filter((l) => l.message === "Order fulfilled" || l.message === "Order swept: the stream path left it PENDING")).to.have.length(1);
    expect(await orderById(dynamo, orderId)).to.include({ status: "FULFILLED" });
  });

  it("sweeps at most SWEEP_MAX_ORDERS per run, oldest first, and the rest over the next runs", async () => {
    const stuck: string[] = [];
    for (let i = 0; i < 2 * MAX_ORDERS + 1; i++) stuck.push(await pendingOrder(GRACE_MINUTES + 100 - i));
    const first = await run();
    expect(first.result).to.deep.equal({ swept: MAX_ORDERS, alreadyFulfilled: 0, failed: [], more: true });
    const statuses = async () => Promise.all(stuck.map(async (id) => (await orderById(dynamo, id))!.status));
    expect(await statuses()).to.deep.equal([...Array(MAX_ORDERS).fill("FULFILLED"), ...Array(MAX_ORDERS + 1).fill("PENDING")]);

    const second = await run();
    expect(second.result).to.include({ swept: MAX_ORDERS, more: true });
    const third = await run();
    expect(third.result).to.deep.equal({ swept: 1, alreadyFulfilled: 0, failed: [], more: false });
    expect(await statuses()).to.deep.equal(Array(stuck.length).fill("FULFILLED"));
  });

  it("stops before Lambda would stop it: no order is started without the time its calls may take", async () => {
    const orderId = await pendingOrder(GRACE_MINUTES + 1);
    const { result } = await run({ ...lambdaContext("sweeper"), getRemainingTimeInMillis: () => 1000 });

    expect(result).to.deep.equal({ swept: 0, alreadyFulfilled: 0, failed: [], more: true });
    expect(await orderById(dynamo, orderId)).to.include({ status: "PENDING" });
  });

  it("fulfils the others when one order's UpdateItem fails, and ends the run in an error that names it", async () => {
    const [broken, ...others] = [await pendingOrder(GRACE_MINUTES + 3), await pendingOrder(GRACE_MINUTES + 2), await pendingOrder(GRACE_MINUTES + 1)];
    const name = "fail-one-update";
    db.middlewareStack.add((next, context) => async (args) => {
      const input = args.input as { Key?: { orderId?: string } };
      if (context.commandName === "UpdateItemCommand" && input.Key?.orderId === broken) {
        throw Object.assign(new Error("Injected"), { name: "ValidationException", $fault: "client", $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    }, { step: "initialize", name });
    let caught: (Error & { result?: unknown }) | undefined;
    let lines: Parameters<typeof logLines>[0] = [];
    try {
      ({ lines } = await capture(async () => {
        try {
          await sweep({}, lambdaContext("sweeper"));
        } catch (error) {
          caught = error as Error;
        }
      }));
    } finally {
      db.middlewareStack.remove(name);
    }

    expect(caught?.name).to.equal("SweepError");
    expect(caught?.message).to.include(broken);
    expect(caught?.result).to.include({ swept: 2, alreadyFulfilled: 0 }).and.deep.include({ failed: [broken] });
    for (const orderId of others) expect(await orderById(dynamo, orderId)).to.include({ status: "FULFILLED" });
    expect(await orderById(dynamo, broken)).to.include({ status: "PENDING" });
    expect(metricTotal(lines, "OrderSwept")).to.equal(2);
    expect(logLines(lines).filter((l) => l.level === "ERROR").map((l) => l.orderId)).to.deep.equal([broken]);

    // The next run, with DynamoDB well again, fulfils it.
    expect((await run()).result).to.include({ swept: 1 });
    expect(await orderById(dynamo, broken)).to.include({ status: "FULFILLED" });
  });
});
