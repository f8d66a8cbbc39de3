/**
 * The handlers as Lambda runs them: each bundled exactly as SecureFunction deploys it
 * (components/bundling.ts `bundleHandler` with BUNDLING_DEFAULTS: one minified ESM
 * `index.mjs`), loaded in a fresh process of the Node major the functions' runtime names
 * (nodejs24.x: Node 24, found by tools/node-toolchain.cjs) and invoked there against
 * dynalite. Catches what in-process tests cannot: CommonJS-only code, dynamic requires that
 * break in an ESM bundle, and module-scope work that fails on import.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { BUNDLE_FILE, BUNDLING_DEFAULTS, bundleHandler } from "../../components/bundling";
import { SECURE_FUNCTION_DEFAULTS } from "../../components/secure-function";
import { cachedNode, fetchCommand, majorOf } from "../../tools/node-toolchain.cjs";
import { setUpHandlerEnvironment } from "./support";

const run = promisify(execFile);
const ROOT = resolve(__dirname, "../..");
const RUNTIME_MAJOR = majorOf(SECURE_FUNCTION_DEFAULTS.runtime);

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
  requestContext: { http: { method, path }, requestId: "r", stage: "$default",
    authorizer: { jwt: { claims: { sub: "nobody" }, scopes: [] } } }, ...extra });
const load = async (name) => (await import(dir + "/" + name + "/${BUNDLE_FILE}")).handler;
const results = {};
results.health = await (await load("health"))(http("GET", "/health"), context);
results.createOrder = await (await load("create-order"))(http("POST", "/orders", { body: "{" }), context);
results.getOrder = await (await load("get-order"))(
  http("GET", "/orders/x", { pathParameters: { orderId: "00000000-0000-4000-8000-000000000000" } }), context);
results.listOrders = await (await load("list-orders"))(
  http("GET", "/orders", { queryStringParameters: { customerId: "nobody" } }), context);
results.fulfil = await (await load("fulfil-orders"))({ Records: [{ eventName: "INSERT", eventSource: "aws:dynamodb",
  dynamodb: { Keys: { orderId: { S: "00000000-0000-4000-8000-000000000000" } }, SequenceNumber: "100000000000000000001" } }] }, context);
results.nodeVersion = process.version;
process.stdout.write("\\nRESULTS " + JSON.stringify(results) + "\\n");
`;

describe(`handler bundles (esbuild ESM, fresh Node ${RUNTIME_MAJOR} process, as ${SECURE_FUNCTION_DEFAULTS.runtime})`, () => {
  let outdir: string;
  let results: Record<string, any>;

  before(async () => {
    const node = cachedNode(RUNTIME_MAJOR);
    if (!node) throw new Error(`Node ${RUNTIME_MAJOR}, which ${SECURE_FUNCTION_DEFAULTS.runtime} runs, is not on this machine; fetch it with \`${fetchCommand(RUNTIME_MAJOR)}\`.`);
    await setUpHandlerEnvironment();
    outdir = await mkdtemp(join(tmpdir(), "handler-bundles-"));
    for (const [name, file] of Object.entries(entryPoints)) {
      const { files } = bundleHandler(join(ROOT, file), "handler", ROOT, BUNDLING_DEFAULTS);
      await mkdir(join(outdir, name));
      for (const [archivePath, text] of Object.entries(files)) await writeFile(join(outdir, name, archivePath), text);
    }
    const { stdout } = await run(node.path, ["--input-type=module", "-e", probe, outdir]);
    const line = stdout.split("\n").find((l) => l.startsWith("RESULTS "));
    if (line === undefined) throw new Error(`The probe printed no results:\n${stdout}`);
    results = JSON.parse(line.slice("RESULTS ".length));
  });

  after(async () => {
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  it(`ran on Node ${RUNTIME_MAJOR}`, () => {
    expect(majorOf(results.nodeVersion), results.nodeVersion).to.equal(RUNTIME_MAJOR);
  });

  it("health answers 200", () => {
    expect(results.health.statusCode).to.equal(200);
    expect(JSON.parse(results.health.body)).to.deep.equal({ status: "ok" });
  });

  it("create-order loads (SSM and DynamoDB clients) and rejects malformed JSON", () => {
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

  it("fulfil-orders reports the stream record of a missing order", () => {
    expect(results.fulfil).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "100000000000000000001" }] });
  });
});
