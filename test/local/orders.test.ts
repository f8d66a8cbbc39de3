/**
 * `npm run dev`'s runtime with the real program (index.ts, stack dev), in-process on free
 * ports, driven with fetch and the real SQS client: the orders walk-through end to end.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { createHmac } from "node:crypto";
import { ORDERS_SCOPES } from "../../app/identity";
import { formatBanner, main, parseArgs, writeState } from "../../local/cli";
import { deadLetterQueues } from "../../local/dlq";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { bundleHandler, parseHandler, resolveHandlerFile } from "../../components/bundling";
import { captureLog, eventually, PROJECT_ROOT } from "./support";

const SECRET = "local-test-secret-0f9e8d7c6b5a43210fedcba9";

describe("local runtime: the orders program (stack dev)", function () {
  let runtime: LocalRuntime;
  let url: string;
  let auth: Record<string, string>;
  let sqs: SQSClient;
  const { lines, log } = captureLog();

  before(async function () {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "dev",
      secrets: { orderTokenSecret: SECRET },
      workDir: path.join(PROJECT_ROOT, ".local", `test-orders-${process.pid}`),
      // Failed messages come back after 0.2 s instead of the deployed 180 s.
      visibilityTimeoutSeconds: 0.2,
      log,
    });
    url = runtime.url;
    auth = { authorization: `Bearer ${Object.values(runtime.tokens)[0]}` };
    sqs = new SQSClient({ region: "eu-west-1", endpoint: runtime.endpoints.sqs, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  });

  after(async () => {
    sqs?.destroy();
    await runtime?.stop();
  });

  const createOrder = async (body: unknown) => {
    const response = await fetch(`${url}/orders`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any, location: response.headers.get("location") };
  };

  it("serves what the program registered: routes, queue and DLQ, table, parameters", () => {
    expect(runtime.app.apis[0].routes.map((r) => `${r.routeKey} ${r.auth}`).sort()).to.deep.equal(["GET /health none", "GET /orders jwt", "GET /orders/{orderId} jwt", "POST /orders jwt"]);
    expect(runtime.app.tables.map((t) => t.name)).to.deep.equal(["serverless-orders-dev-orders"]);
    expect(runtime.ssm.list().map((p) => [p.name.split("/").pop(), p.type])).to.deep.equal([["maxItemsPerOrder", "String"], ["orderTokenSecret", "SecureString"]]);
    const createOrderEnv = runtime.functions.get("orders-api-create-order")!.config.environment;
    expect(createOrderEnv.QUEUE_URL).to.equal(`${runtime.endpoints.sqs}/123456789012/serverless-orders-dev-fulfilment`);
    expect(createOrderEnv).to.include({ AWS_ENDPOINT_URL_DYNAMODB: runtime.endpoints.dynamodb, AWS_ENDPOINT_URL_SSM: runtime.endpoints.ssm, TABLE_NAME: "serverless-orders-dev-orders" });
  });

  it("says in the banner whether handler changes reload: they do by default, not with --no-watch", () => {
    const banner = (argv: string[]) => formatBanner(runtime, "dev", 1500, parseArgs(argv).flags);
    expect(banner([])).to.include("Handler changes rebuild and restart their functions.");
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

  it("creates an order, reads it back, and the fulfilment worker marks it FULFILLED", async () => {
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
    expect(lines.some((l) => /^SQS  serverless-orders-dev-fulfilment -> fulfilment-consumer batch of \d+: \d+ ok, 0 failed/.test(l))).to.equal(true);
    expect(lines.some((l) => l.includes("orders-api-create-order |") && l.includes("\"message\":\"Order created\""))).to.equal(true);
  });

  it("reads the stack's parameters and the secret from Parameter Store at run time", async () => {
    const created = await createOrder({ customerId: "local-developer", items: [{ sku: "pen", quantity: 1 }], clientToken: "token-1" });
    expect(created.status).to.equal(201);
    // create-order's id for a client token: HMAC-SHA256 keyed by the secret it read from Parameter Store.
    expect(created.body.orderId).to.equal(createHmac("sha256", SECRET).update(JSON.stringify(["local-developer", "token-1"])).digest("hex"));
    const tooMany = await createOrder({ customerId: "local-developer", items: Array.from({ length: 26 }, (_, i) => ({ sku: `s${i}`, quantity: 1 })) });
    expect(tooMany.status).to.equal(400);
    expect(tooMany.body.error.details).to.deep.include({ field: "items", message: "must contain at most 25 items, got 26" });
  });

  it("lets a token act only for its own customer: 403 on create and list, 404 on another's order", async () => {
    const mine = await createOrder({ customerId: "local-developer", items: [{ sku: "cup", quantity: 1 }] });
    const other = { authorization: `Bearer ${await runtime.issueToken(Object.keys(runtime.tokens)[0], Object.values(ORDERS_SCOPES), { subject: "someone-else" })}` };
    const post = await fetch(`${url}/orders`, {
      method: "POST", headers: { ...other, "content-type": "application/json" },
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
      method: "POST", headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ customerId: "local-developer", items: [{ sku: "cup", quantity: 1 }] }),
    });
    const unscopedPost = await post(unscoped);
    expect(unscopedPost.status).to.equal(403);
    expect(await unscopedPost.json()).to.deep.equal({ message: "Forbidden" });
    expect((await fetch(`${url}/orders?customerId=local-developer`, { headers: unscoped })).status).to.equal(403);
    expect((await post(readOnly)).status).to.equal(403);
    expect((await fetch(`${url}/orders?customerId=local-developer`, { headers: readOnly })).status).to.equal(200);
  });

  it("moves a poison message to the DLQ after maxReceiveCount failures, and redrives it, with the documented commands", async () => {
    // What docs/local-runtime.md has a developer paste next to a running `npm run dev`.
    const stateDir = path.join(PROJECT_ROOT, ".local", `test-cli-${process.pid}`);
    writeState("dev", runtime, stateDir);
    const printed: string[] = [];
    const devCommand = (...argv: string[]) => main(argv, { localDir: stateDir, print: (line) => printed.push(line) });
    try {
      const from = lines.length;
      await devCommand("send", "fulfilment", '{"orderId":"nope"}');
      const sent = /^serverless-orders-dev-fulfilment: sent message (\S+)$/.exec(printed[0]);
      expect(sent, printed.join("\n")).to.not.equal(null);
      const messageId = sent![1];
      const [dlq] = deadLetterQueues(runtime.app.queues.map((q) => ({ ...q, deadLetterTargetArn: q.redrivePolicy?.deadLetterTargetArn })));
      expect(dlq.name).to.equal("serverless-orders-dev-fulfilment-dlq");
      const listing = await eventually(async () => {
        printed.length = 1;
        await devCommand("dlq");
        return printed.some((l) => l.startsWith(`  ${messageId}  sent `)) ? printed.slice(1) : undefined;
      }, 5000, "the poison message in the listing of npm run dev -- dlq");
      expect(listing[0]).to.equal("serverless-orders-dev-fulfilment-dlq (DLQ of serverless-orders-dev-fulfilment): 1 message(s)");
      expect(listing[1]).to.match(new RegExp(`^  ${messageId}  sent \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z  \\{"orderId":"nope"\\}$`));
      // Five batches with one failure each since the send: the poison message's five receives.
      expect(lines.slice(from).filter((l) => l.startsWith("SQS  serverless-orders-dev-fulfilment -> ") && / 1 failed /.test(l)).length).to.equal(5);
      expect(lines.some((l) => l.includes(`message ${messageId} received 5 times, moved to serverless-orders-dev-fulfilment-dlq`))).to.equal(true);

      await devCommand("dlq", "redrive");
      expect(printed.at(-1)).to.equal("serverless-orders-dev-fulfilment-dlq: 1 message(s) moved back to serverless-orders-dev-fulfilment");
      expect(runtime.sqs.byArn(dlq.arn)!.messages).to.have.length(0);
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
