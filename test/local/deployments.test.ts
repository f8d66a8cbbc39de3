/** `npm run dev` ignores deployment strategies, and says which functions have one (fixture program). */
import * as path from "node:path";
import { expect } from "chai";
import { describeIgnoredDeployments, readApp } from "../../local/app";
import { startLocalRuntime } from "../../local/runtime";
import { evaluateProgram } from "../../tools/mock-engine";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const PROGRAM = path.join(__dirname, "fixtures", "deployment-program.ts");
const NOTE =
  "deployment strategies are ignored locally (new code takes all traffic at once; no hooks, no alarm rollback): canary-api (CodeDeployDefault.LambdaCanary10Percent5Minutes).";

describe("local runtime: deployment strategies", function () {
  this.timeout(60_000);

  it("reads a function's strategy from its recorded deployment group, or from the component's own record", async () => {
    const { resources } = await evaluateProgram(PROGRAM, { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" } });
    const app = readApp(resources);
    expect(app.functions.map((fn) => [fn.name, fn.deploymentStrategy])).to.deep.equal([["canary-api", "CodeDeployDefault.LambdaCanary10Percent5Minutes"], ["plain-worker", undefined]]);
    expect(describeIgnoredDeployments(app.functions)).to.equal(NOTE);
    // The `deployment` the SecureFunction records, when it records one, names the strategy itself.
    const worker = resources.find((r) => r.name === "plain-worker")!;
    const declared = readApp(resources.map((r) => (r === worker ? { ...r, outputs: { ...r.outputs, deployment: { strategy: "linear" } } } : r)));
    expect(declared.functions.find((fn) => fn.name === "plain-worker")?.deploymentStrategy).to.equal("linear");
    expect(describeIgnoredDeployments(app.functions.filter((fn) => fn.name === "plain-worker"))).to.equal(undefined);
  });

  it("npm run dev's notes carry the one line", async () => {
    const runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: PROGRAM,
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
      workDir: path.join(PROJECT_ROOT, ".local", `test-deployments-${process.pid}`),
      watch: false,
      log: () => undefined,
    });
    try {
      expect(runtime.notes.filter((note) => note.startsWith("deployment strategies"))).to.deep.equal([NOTE]);
    } finally {
      await runtime.stop();
    }
  });
});
