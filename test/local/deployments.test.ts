/**
 * `npm run dev` ignores deployment strategies, says which functions have one, and neither
 * builds nor serves the deployment runners and hooks (fixture program).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { describeIgnoredDeployments, readApp } from "../../local/app";
import { startLocalRuntime } from "../../local/runtime";
import { evaluateProgram } from "../../tools/mock-engine";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const PROGRAM = path.join(__dirname, "fixtures", "deployment-program.ts");
const NOTE =
  "deployment strategies are ignored locally (new code takes all traffic at once; no hooks, no alarm rollback): canary-api (CodeDeployDefault.LambdaCanary10Percent5Minutes); " +
  "their runners and hooks are deployment machinery, neither built nor served: canary-api-before-traffic, canary-api-deployer.";

describe("local runtime: deployment strategies", function () {
  this.timeout(60_000);

  it("reads a function's strategy from its recorded deployment group, or from the component's own record", async () => {
    const { resources } = await evaluateProgram(PROGRAM, { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" } });
    const app = readApp(resources);
    expect(app.functions.map((fn) => [fn.name, fn.deploymentStrategy])).to.deep.equal([["canary-api", "CodeDeployDefault.LambdaCanary10Percent5Minutes"], ["plain-worker", undefined]]);
    expect(app.deploymentFunctions).to.have.members(["canary-api-before-traffic", "canary-api-deployer"]);
    expect(describeIgnoredDeployments(app)).to.equal(NOTE);
    // The `deployment` the SecureFunction records, when it records one, names the strategy itself.
    const worker = resources.find((r) => r.name === "plain-worker")!;
    const declared = readApp(resources.map((r) => (r === worker ? { ...r, outputs: { ...r.outputs, deployment: { strategy: "linear" } } } : r)));
    expect(declared.functions.find((fn) => fn.name === "plain-worker")?.deploymentStrategy).to.equal("linear");
    expect(describeIgnoredDeployments({ functions: app.functions.filter((fn) => fn.name === "plain-worker"), deploymentFunctions: [] })).to.equal(undefined);
  });

  it("npm run dev's notes carry the one line; the runner and the hook are neither built nor served, not even by a rebuild from source", async () => {
    const workDir = path.join(PROJECT_ROOT, ".local", `test-deployments-${process.pid}`);
    const runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: PROGRAM,
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
      workDir,
      watch: false,
      log: () => undefined,
    });
    try {
      expect(runtime.notes.filter((note) => note.startsWith("deployment strategies"))).to.deep.equal([NOTE]);
      expect([...runtime.functions.keys()]).to.have.members(["canary-api", "plain-worker"]);
      // A rebuild reads each function's recorded handler: a hook's names the bare check, which built alone is no hook.
      expect(await runtime.rebuild()).to.satisfy((names: string[]) => names.every((name) => ["canary-api", "plain-worker"].includes(name)));
      expect(fs.readdirSync(workDir).sort()).to.deep.equal(["canary-api", "plain-worker"]);
    } finally {
      await runtime.stop();
    }
  });
});
