/**
 * The handlers as Lambda runs them: each bundled exactly as SecureFunction deploys it
 * (components/bundling.ts `bundleHandler` with BUNDLING_DEFAULTS: one minified ESM
 * `index.mjs`), loaded in a fresh Node process of this machine (Node 20; Lambda's nodejs24.x
 * is newer) and invoked there against dynalite. Catches what in-process tests cannot:
 * CommonJS-only code, dynamic requires that break in an ESM bundle, and module-scope work
 * that fails on import.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { BUNDLE_FILE, BUNDLING_DEFAULTS, bundleHandler } from "../../components/bundling";
import { setUpHandlerEnvironment } from "./support";

const run = promisify(execFile);
const ROOT = resolve(__dirname, "../..");

const entryPoints: Record<string, string> = {
  health: "handlers/health.ts",
  "create-order": "handlers/orders/create-order.ts",
  "get-order": "handlers/orders/get-order.ts",
  "list-orders": "handlers/orders/list-orders.ts",
  "fulfil-orders": "handlers/orders/fulfil-orders.ts",
};

/** Runs in the child process: import each bundle, invoke it once, print what it answered. */
const probe = `
const dir = process.argv[1];
const context = { awsRequestId: "bundle-probe", functionName: "probe", functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:probe", memoryLimitInMB: "128",
  getRemainingTimeInMillis: () => 10000 };
const http = (method, path, extra) => ({ version: "2.0", routeKey: method + " " + path, rawPath: path,
  rawQueryString: "", headers: {}, isBase64Encoded: false,
  requestContext: { http: { method, path }, requestId: "r", stage: "$default" }, ...extra });
const load = async (name) => (await import(dir + "/" + name + "/${BUNDLE_FILE}")).handler;
const results = {};
results.health = await (await load("health"))(http("GET", "/health"), context);
results.createOrder = await (await load("create-order"))(http("POST", "/orders", { body: "{" }), context);
results.getOrder = await (await load("get-order"))(
  http("GET", "/orders/x", { pathParameters: { orderId: "00000000-0000-4000-8000-000000000000" } }), context);
results.listOrders = await (await load("list-orders"))(
  http("GET", "/orders", { queryStringParameters: { customerId: "nobody" } }), context);
results.fulfil = await (await load("fulfil-orders"))({ Records: [{ messageId: "m-1",
  body: JSON.stringify({ orderId: "00000000-0000-4000-8000-000000000000" }) }] }, context);
process.stdout.write("\\nRESULTS " + JSON.stringify(results) + "\\n");
`;

describe("handler bundles (esbuild ESM, fresh Node process)", () => {
  let outdir: string;
  let results: Record<string, any>;

  before(async () => {
    await setUpHandlerEnvironment();
    outdir = await mkdtemp(join(tmpdir(), "handler-bundles-"));
    for (const [name, file] of Object.entries(entryPoints)) {
      const { files } = bundleHandler(join(ROOT, file), "handler", ROOT, BUNDLING_DEFAULTS);
      await mkdir(join(outdir, name));
      for (const [archivePath, text] of Object.entries(files)) await writeFile(join(outdir, name, archivePath), text);
    }
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe, outdir], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    const line = stdout.split("\n").find((l) => l.startsWith("RESULTS "));
    if (line === undefined) throw new Error(`The probe printed no results:\n${stdout}`);
    results = JSON.parse(line.slice("RESULTS ".length));
  });

  after(async () => {
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  it("health answers 200", () => {
    expect(results.health.statusCode).to.equal(200);
    expect(JSON.parse(results.health.body)).to.deep.equal({ status: "ok" });
  });

  it("create-order loads (SQS, SSM and DynamoDB clients) and rejects malformed JSON", () => {
    expect(results.createOrder.statusCode).to.equal(400);
    expect(JSON.parse(results.createOrder.body).error.code).to.equal("InvalidJson");
  });

  it("get-order reaches DynamoDB and answers 404", () => {
    expect(results.getOrder.statusCode).to.equal(404);
  });

  it("list-orders queries the customer index", () => {
    expect(results.listOrders.statusCode).to.equal(200);
    expect(JSON.parse(results.listOrders.body)).to.deep.equal({ orders: [] });
  });

  it("fulfil-orders reports the message for a missing order", () => {
    expect(results.fulfil).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
  });
});
