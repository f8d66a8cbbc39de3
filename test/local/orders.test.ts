/**
 * `npm run dev`'s runtime with the real program (index.ts, stack dev), in-process on free
 * ports, driven with fetch and the real SDK clients: the orders walk-through end to end.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash, randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import type { Clock } from "../../local/async-invoke";
import { ORDERS_SCOPES } from "../../app/identity";
import { formatBanner, main, parseArgs, writeState } from "../../local/cli";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { bundleHandler, parseHandler, resolveHandlerFile } from "../../components/bundling";
import { captureLog, eventually, PROJECT_ROOT } from "./support";

describe("local runtime: the orders program (stack dev)", function () {
  let runtime: LocalRuntime;
  let url: string;
  let auth: Record<string, string>;
  const { lines, log } = captureLog();
  // The Scheduler's clock: the system's, moved on by the tests to a schedule's next firing.
  let clockOffsetMs = 0;
  const clock: Clock = { now: () => Date.now() + clockOffsetMs, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()) };

  before(async function () {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "dev",
      workDir: path.join(PROJECT_ROOT, ".local", `test-orders-${process.pid}`),
      asyncClock: clock,
      log,
    });
    url = runtime.url;
    auth = { authorization: `Bearer ${Object.values(runtime.tokens)[0]}` };
  });

  after(async () => {
    await runtime?.stop();
  });

  /** POST /orders with a fresh Idempotency-Key unless one is given. */
  const createOrder = async (body: unknown, idempotencyKey: string = randomUUID()) => {
    const response = await fetch(`${url}/orders`, { method: "POST", headers: { ...auth, "content-type": "application/json", "idempotency-key": idempotencyKey }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any, location: response.headers.get("location") };
  };

  it("serves what the program registered: routes, table and its stream's mapping, parameters", () => {
    expect(runtime.app.apis[0].routes.map((r) => `${r.routeKey} ${r.auth}`).sort()).to.deep.equal(["GET /health none", "GET /orders jwt", "GET /orders/{orderId} jwt", "POST /orders jwt"]);
    expect(runtime.app.tables.map((t) => t.name)).to.deep.equal(["serverless-orders-dev-orders"]);
    expect(runtime.ssm.list().map((p) => [p.name.split("/").pop(), p.type]).sort()).to.deep.equal([["maxItemsPerOrder", "String"], ["maxOrdersPerCustomerPerDay", "String"]]);
    const createOrderEnv = runtime.functions.get("orders-api-create-order")!.config.environment;
    expect(createOrderEnv).to.include({ AWS_ENDPOINT_URL_DYNAMODB: runtime.endpoints.dynamodb, AWS_ENDPOINT_URL_SSM: runtime.endpoints.ssm, TABLE_NAME: "serverless-orders-dev-orders", FUNCTION_TIMEOUT_SECONDS: "10" });
    expect(runtime.app.queues.map((q) => q.name)).to.deep.equal(["serverless-orders-dev-fulfilment-dlq", "serverless-orders-dev-sweeper-dlq"]);
    expect(runtime.app.streamMappings.map((m) => [m.streamArn, m.filterPatterns])).to.deep.equal([[runtime.app.tables[0].stream!.arn, ['{"eventName":["INSERT"]}']]]);
  });

  it("says in the banner whether handler changes reload: they do by default, not with --no-watch", () => {
    const banner = (argv: string[]) => formatBanner(runtime, "dev", 1500, parseArgs(argv).flags);
    expect(banner([])).to.include("Handler changes rebuild and restart their functions.");
    expect(banner([])).to.include(`  curl -s ${url}/orders/<orderId> -H "authorization: Bearer $TOKEN"`);
    const unwatched = banner(["--no-watch"]);
    expect(unwatched).not.to.include("Handler changes rebuild");
    expect(unwatched).to.include("Handler changes are not watched (--no-watch): restart npm run dev to run new code.");
  });

  it("runs each function's code as deployed: the recorded bundle is what the handler rebuilds to", async () => {
    const fn = runtime.app.functions.find((f) => f.name === "orders-api-get-order")!;
    const assets = await (fn.code as any).assets;
    // A fresh esbuild run (not the bundle cache the program used) from the handler's source.
    const handler = parseHandler(fn.handler)!;
    const fresh = bundleHandler(resolveHandlerFile(handler.modulePath, PROJECT_ROOT)!, handler.exportName, PROJECT_ROOT, fn.bundling);
    expect(await assets["index.mjs"].text).to.equal(fresh.files["index.mjs"]);
  });

  it("answers 401 without a token on a JWT route, and serves the public health route", async () => {
    const denied = await fetch(`${url}/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(denied.status).to.equal(401);
    expect(await denied.json()).to.deep.equal({ message: "Unauthorized" });
    expect((await fetch(`${url}/orders/x`)).status).to.equal(401);
    const health = await fetch(`${url}/health`);
    expect([health.status, await health.json()]).to.deep.equal([200, { status: "ok" }]);
    expect((await fetch(`${url}/nowhere`)).status).to.equal(404);
  });

  it("creates an order, reads it back, and the fulfilment worker marks it FULFILLED from the table's stream", async () => {
    const created = await createOrder({ customerId: "local-developer", items: [{ sku: "book", quantity: 2 }] });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ customerId: "local-developer", status: "PENDING", itemCount: 1 });
    expect(created.location).to.equal(`/orders/${created.body.orderId}`);

    const read = await fetch(`${url}/orders/${created.body.orderId}`, { headers: auth });
    expect(read.status).to.equal(200);
    expect(((await read.json()) as any).orderId).to.equal(created.body.orderId);

    const fulfilled = await eventually(async () => {
      const order = (await (await fetch(`${url}/orders/${created.body.orderId}`, { headers: auth })).json()) as any;
      return order.status === "FULFILLED" ? order : undefined;
    }, 5000, "the order to be FULFILLED");
    expect(fulfilled.fulfilledAt).to.be.a("string");

    const listed = (await (await fetch(`${url}/orders?customerId=local-developer`, { headers: auth })).json()) as any;
    expect(listed.orders.map((o: any) => o.orderId)).to.include(created.body.orderId);
    expect(lines.some((l) => /^HTTP POST \/orders \(POST \/orders\) -> 201 \d+ ms orders-api-create-order (cold|warm)$/.test(l))).to.equal(true);
    expect(lines.some((l) => /^STREAM serverless-orders-dev-orders \S+ -> fulfilment-consumer batch of \d+: ok \d+ ms/.test(l))).to.equal(true);
    expect(lines.some((l) => l.includes("orders-api-create-order |") && l.includes("\"message\":\"Order created\""))).to.equal(true);
  });

  it("reads the stack's parameters from Parameter Store at run time, and answers a retry with the same order", async () => {
    const created = await createOrder({ customerId: "local-developer", items: [{ sku: "pen", quantity: 1 }] }, "key-1");
    expect(created.status).to.equal(201);
    // The documented id: SHA-256 of customer and key (docs/orders-api.md).
    expect(created.body.orderId).to.equal(createHash("sha256").update(JSON.stringify(["order", "local-developer", "key-1"])).digest("hex"));
    const retry = await createOrder({ customerId: "local-developer", items: [{ sku: "pen", quantity: 1 }] }, "key-1");
    expect([retry.status, retry.body.orderId]).to.deep.equal([200, created.body.orderId]);
    const tooMany = await createOrder({ customerId: "local-developer", items: Array.from({ length: 26 }, (_, i) => ({ sku: `s${i}`, quantity: 1 })) });
    expect(tooMany.status).to.equal(400);
    expect(tooMany.body.error.details).to.deep.include({ field: "items", message: "must contain at most 25 items, got 26" });
  });

  it("lets a token act only for its own customer: 403 on create and list, 404 on another's order", async () => {
    const mine = await createOrder({ customerId: "local-developer", items: [{ sku: "cup", quantity: 1 }] });
    const other = { authorization: `Bearer ${await runtime.issueToken(Object.keys(runtime.tokens)[0], Object.values(ORDERS_SCOPES), { subject: "someone-else" })}` };
    const post = await fetch(`${url}/orders`, {
      method: "POST", headers: { ...other, "content-type": "application/json", "idempotency-key": randomUUID() },
      body: JSON.stringify({ customerId: "local-developer", items: [{ sku: "cup", quantity: 1 }] }),
    });
    expect(post.status).to.equal(403);
    expect(((await post.json()) as any).error.code).to.equal("Forbidden");
    expect((await fetch(`${url}/orders?customerId=local-developer`, { headers: other })).status).to.equal(403);
    expect((await fetch(`${url}/orders/${mine.body.orderId}`, { headers: other })).status).to.equal(404);
    expect((await fetch(`${url}/orders/${mine.body.orderId}`, { headers: auth })).status).to.equal(200);
  });

  it("refuses, at the gateway, a token of the pool without the API's scopes (as an ID token is): 403 on every JWT route", async () => {
    const unscoped = { authorization: `Bearer ${await runtime.issueToken(Object.keys(runtime.tokens)[0], [])}` };
    const readOnly = { authorization: `Bearer ${await runtime.issueToken(Object.keys(runtime.tokens)[0], [ORDERS_SCOPES.read])}` };
    const post = (headers: Record<string, string>) => fetch(`${url}/orders`, {
      method: "POST", headers: { ...headers, "content-type": "application/json", "idempotency-key": randomUUID() },
      body: JSON.stringify({ customerId: "local-developer", items: [{ sku: "cup", quantity: 1 }] }),
    });
    const unscopedPost = await post(unscoped);
    expect(unscopedPost.status).to.equal(403);
    expect(await unscopedPost.json()).to.deep.equal({ message: "Forbidden" });
    expect((await fetch(`${url}/orders?customerId=local-developer`, { headers: unscoped })).status).to.equal(403);
    expect((await post(readOnly)).status).to.equal(403);
    expect((await fetch(`${url}/orders?customerId=local-developer`, { headers: readOnly })).status).to.equal(200);
  });

  it("sends a poison record to the stream's DLQ after its retries, listed by the documented command", async () => {
    // What docs/local-runtime.md has a developer paste next to a running `npm run dev`: an
    // item no order id can be, written straight into the table with `npm run dev -- put`.
    const stateDir = path.join(PROJECT_ROOT, ".local", `test-cli-${process.pid}`);
    writeState("dev", runtime, stateDir);
    const printed: string[] = [];
    const devCommand = (...argv: string[]) => main(argv, { localDir: stateDir, print: (line) => printed.push(line) });
    try {
      const from = lines.length;
      await devCommand("put", "orders", '{"orderId":"nope"}');
      expect(printed.splice(0)).to.deep.equal(['serverless-orders-dev-orders: put {"orderId":"nope"}']);
      const sent = await eventually(async () => lines.slice(from).find((l) => / sent to serverless-orders-dev-fulfilment-dlq \(RetryAttemptsExhausted\)$/.test(l)), 10_000, "the poison record sent to the DLQ");
      expect(sent).to.match(/^STREAM serverless-orders-dev-orders -> fulfilment-consumer: 1 record\(s\) \d+\.\.\d+ sent to/);
      // The first try and three retries (StreamWorker's default maxRetries), each failing.
      expect(lines.slice(from).filter((l) => l.startsWith("STREAM serverless-orders-dev-orders ") && / batch of 1: 0 ok, retrying from record 1 /.test(l)).length).to.equal(4);

      await devCommand("dlq");
      expect(printed[0]).to.equal("serverless-orders-dev-fulfilment-dlq (DLQ of serverless-orders-dev-orders -> fulfilment-consumer): 1 message(s)");
      expect(printed[1]).to.match(/^  \S+  sent \d{4}-\d\d-\d\dT[0-9:.]+Z  \{"requestContext":/);
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
  it("fulfils, on the sweeper's schedule, an order whose stream record was dead-lettered", async () => {
    // An item the worker cannot fulfil (no status) sends its INSERT record to the DLQ after its retries...
    const orderId = randomUUID();
    const from = lines.length;
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1", endpoint: runtime.endpoints.dynamodb, credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
    try {
      await doc.send(new UpdateCommand({ TableName: "serverless-orders-dev-orders", Key: { orderId }, UpdateExpression: "SET customerId = :c", ExpressionAttributeValues: { ":c": "local-developer" } }));
      await eventually(async () => lines.slice(from).find((l) => / sent to serverless-orders-dev-fulfilment-dlq \(RetryAttemptsExhausted\)$/.test(l)), 10_000, "the record sent to the DLQ");
      // ...and the order then stands PENDING as create-order writes it, 20 minutes ago: a MODIFY, which the mapping filters out.
      const createdAt = new Date(Date.now() - 20 * 60_000).toISOString();
      await doc.send(new UpdateCommand({
        TableName: "serverless-orders-dev-orders", Key: { orderId },
        UpdateExpression: "SET #status = :pending, #items = :items, itemCount = :one, createdAt = :at, pendingSince = :at",
        ExpressionAttributeNames: { "#status": "status", "#items": "items" },
        ExpressionAttributeValues: { ":pending": "PENDING", ":items": [{ sku: "book", quantity: 1 }], ":one": 1, ":at": createdAt },
      }));
    } finally {
      doc.destroy();
    }
    const read = async () => (await (await fetch(`${url}/orders/${orderId}`, { headers: auth })).json()) as any;
    expect((await read()).status).to.equal("PENDING");

    // The Scheduler's next firing of the sweeper's rate(5 minutes).
    const schedule = runtime.asyncSources.scheduler.nextFirings().find((f) => f.name === "sweeper-pending")!;
    expect(schedule.expression).to.equal("rate(5 minutes)");
    clockOffsetMs = schedule.next!.getTime() - Date.now();
    expect(runtime.asyncSources.scheduler.fireDue()).to.equal(1);
    await runtime.asyncSources.drain();

    const swept = await read();
    expect(swept).to.include({ orderId, status: "FULFILLED" }).and.not.have.property("pendingSince");
    expect(lines.slice(from).some((l) => l.startsWith("SCHEDULE sweeper-pending (rate(5 minutes)) fired for "))).to.equal(true);
    expect(lines.slice(from).some((l) => l.includes("sweeper-function |") && l.includes("Order swept: the stream path left it PENDING") && l.includes(orderId))).to.equal(true);
  });
});
