/**
 * The local runtime's execution environments (local/functions.ts), driven directly with
 * small ESM bundles: each environment is a process of the Node its function's runtime
 * names, and keeps Lambda's rules (one invocation at a time, cold start once, timeout and
 * memory limits, crashes, code replacement).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { describeNodes, LocalFunction, nodeForRuntime, type FunctionConfig, type FunctionNode } from "../../local/functions";
import { majorOf } from "../../tools/node-toolchain.cjs";
import { captureLog, eventually } from "./support";

const RUNTIME = "nodejs24.x";

const BUNDLE = `
const environment = Math.random();
let invocations = 0;
let inFlight = 0;
export const handler = async (event) => {
  invocations += 1;
  inFlight += 1;
  try {
    if (event.log) console.log(event.log);
    if (event.throwLater) setTimeout(() => { throw new Error(event.throwLater); }, 0);
    if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
    if (event.allocate) { const hoard = []; for (;;) hoard.push(new Array(1e6).fill(hoard.length)); }
    return { environment, pid: process.pid, version: process.version, invocations, inFlight, code: "first" };
  } finally {
    inFlight -= 1;
  }
};
`;

describe("local runtime: execution environments (child processes of the runtime's Node)", function () {
  this.timeout(20_000);
  let dir: string;
  let bundleFile: string;
  const functions: LocalFunction[] = [];
  const { lines, log } = captureLog();

  const config = (overrides: Partial<FunctionConfig> = {}): FunctionConfig => ({
    name: "probe", functionName: "fixture-probe", arn: "arn:aws:lambda:eu-west-1:123456789012:function:fixture-probe",
    exportName: "handler", timeoutSeconds: 3, memorySize: 128, environment: { GREETING: "hello" }, maxConcurrency: 1,
    node: nodeForRuntime(RUNTIME), ...overrides,
  });
  const start = (overrides?: Partial<FunctionConfig>) => {
    const fn = new LocalFunction(config(overrides), bundleFile, log);
    functions.push(fn);
    return fn;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-functions-"));
    bundleFile = path.join(dir, "index.mjs");
    fs.writeFileSync(bundleFile, BUNDLE);
  });

  after(async () => {
    await Promise.all(functions.map((fn) => fn.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`runs on the Node major of the function's runtime (${RUNTIME}), in a process of its own`, async () => {
    const node = nodeForRuntime(RUNTIME);
    expect(node.substitute, `Node ${majorOf(RUNTIME)} is cached or runs this suite`).to.equal(false);
    const result = await start().invoke({});
    expect(result.error).to.equal(undefined);
    const payload = result.payload as { pid: number; version: string };
    expect(payload.version).to.equal(`v${node.version}`);
    expect(majorOf(payload.version)).to.equal(majorOf(RUNTIME));
    expect(payload.pid).not.to.equal(process.pid);
  });

  it("starts cold once, measuring the init, then runs one invocation at a time per environment", async () => {
    const fn = start();
    const [first, second] = await Promise.all([fn.invoke({ sleepMs: 200 }), fn.invoke({ sleepMs: 200 })]);
    expect([first.cold, second.cold]).to.deep.equal([true, false]);
    expect(first.initMs).to.be.a("number").greaterThan(0);
    expect(second.initMs).to.equal(undefined);
    const payloads = [first.payload, second.payload] as Array<{ environment: number; invocations: number; inFlight: number }>;
    expect(payloads.map((p) => p.inFlight)).to.deep.equal([1, 1]);
    expect(payloads.map((p) => p.invocations)).to.deep.equal([1, 2]);
    expect(payloads[1].environment).to.equal(payloads[0].environment);
  });

  it("prefixes the function's log lines with its name", async () => {
    await start().invoke({ log: "a line from the handler" });
    // The line comes over the child's stdout pipe, the result over IPC: either may arrive first.
    const line = await eventually(async () => lines.find((l) => l.endsWith("a line from the handler")), 2000, "the handler's log line");
    expect(line).to.equal("  probe | a line from the handler");
  });

  it("ends the environment on a timeout; the next invocation starts cold in a new one", async () => {
    const fn = start({ timeoutSeconds: 0.3 });
    const warm = await fn.invoke({});
    const timedOut = await fn.invoke({ sleepMs: 5000 });
    expect(timedOut.timedOut).to.equal(true);
    expect(timedOut.error?.errorType).to.equal("Sandbox.Timedout");
    const next = await fn.invoke({});
    expect(next.cold).to.equal(true);
    expect((next.payload as { environment: number }).environment).not.to.equal((warm.payload as { environment: number }).environment);
  });

  it("caps the heap at the memory size and reports running out of it", async () => {
    const result = await start({ memorySize: 64 }).invoke({ allocate: true });
    expect(result.error).to.deep.equal({ errorType: "Runtime.OutOfMemory", errorMessage: "Runtime exited: out of memory (64 MB)" });
  });

  it("reports an environment that dies of an uncaught error, and replaces it", async () => {
    const fn = start();
    const crashed = await fn.invoke({ throwLater: "boom", sleepMs: 1000 });
    expect(crashed.error).to.include({ errorType: "Runtime.ExitError", errorMessage: "Runtime exited with error: boom" });
    expect((await fn.invoke({})).cold).to.equal(true);
  });

  it("runs replaced code in fresh environments", async () => {
    const fn = start();
    expect((await fn.invoke({})).payload).to.include({ code: "first" });
    const replaced = path.join(dir, "replaced.mjs");
    fs.writeFileSync(replaced, BUNDLE.replace(`code: "first"`, `code: "second"`));
    fn.replaceCode(replaced);
    const result = await fn.invoke({});
    expect(result.cold).to.equal(true);
    expect(result.payload).to.include({ code: "second" });
  });

  it("says per runtime which Node runs its functions, and how to fetch a missing major", () => {
    const substitute: FunctionNode = { runtime: "nodejs22.x", path: process.execPath, version: "24.22.3", substitute: true };
    const right: FunctionNode = { runtime: "nodejs24.x", path: "/cache/node", version: "24.22.3", substitute: false };
    const banner = describeNodes([
      new LocalFunction(config({ name: "api-get", node: right }), bundleFile, log),
      new LocalFunction(config({ name: "jobs", node: substitute }), bundleFile, log),
      new LocalFunction(config({ name: "api-list", node: right }), bundleFile, log),
    ]);
    expect(banner).to.deep.equal([
      "Node: nodejs24.x (api-get, api-list) on Node 24.22.3",
      "Node: nodejs22.x (jobs) on Node 24.22.3 instead: Node 22 is not cached here; `node tools/node-toolchain.cjs 22` fetches it",
    ]);
  });

  it("falls back to this process's Node when the runtime's major is not cached", () => {
    const saved = process.env.SERVERLESS_COMPONENTS_NODE_CACHE;
    process.env.SERVERLESS_COMPONENTS_NODE_CACHE = fs.mkdtempSync(path.join(dir, "empty-cache-"));
    try {
      const other = `nodejs${majorOf(process.version) - 2}.x`;
      expect(nodeForRuntime(other)).to.deep.equal({ runtime: other, path: process.execPath, version: process.version.slice(1), substitute: true });
    } finally {
      if (saved === undefined) delete process.env.SERVERLESS_COMPONENTS_NODE_CACHE;
      else process.env.SERVERLESS_COMPONENTS_NODE_CACHE = saved;
    }
  });
});
