/**
 * The deployment runtime as it ships: the runner and two hooks bundled by the component
 * itself (recorded from a SecureFunction with `deployment`: the hooks' checks through the
 * wrapper, one an ES module, one CommonJS), each run as a local function (local/functions.ts)
 * on the runtime's Node, with the stand-ins' endpoints in its environment. CodeDeploy's
 * stand-in invokes the bundled hooks, they invoke the version being deployed and report, and
 * the bundled runner waits for the end. A bundle that crashes on load fails here, where the
 * in-process sequence tests (sequence.test.ts) cannot see it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { SecureFunction } from "../../components";
import { HOOK_ENVIRONMENT, type DeploymentRequest } from "../../components/deployment-runtime/contract";
import { POLL_INTERVAL_ENV } from "../../components/deployment-runtime/runner";
import { LocalCodeDeploy } from "../../local/codedeploy";
import { LocalFunction, nodeForRuntime } from "../../local/functions";
import { LocalLambdaControl } from "../../local/lambda-control";
import type { RecordedResource } from "../mocks";
import { archiveFiles, HELLO, recordComponent, TYPES } from "../components/support";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";

describe("deployment runtime, bundled: the component's runner and hook bundles run as local functions", function () {
  this.timeout(60_000);
  let dir: string;
  let resources: RecordedResource[];
  let request: DeploymentRequest;
  let codedeploy: LocalCodeDeploy;
  let lambda: LocalLambdaControl;
  const functions: LocalFunction[] = [];
  const logs: string[] = [];
  /** What the version being deployed answers the hooks' probes with. */
  let versionAnswer: { statusCode: number };
  const probes: Array<{ version: string; payload: unknown }> = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundled-deployment-"));
    ({ resources } = await recordComponent(() => new SecureFunction("orders-api", {
      handler: HELLO,
      deployment: {
        strategy: "canary", percentage: 10, minutes: 5,
        beforeTraffic: "handlers/deploy/health-check.check", // an ES module (TypeScript)
        afterTraffic: "test/fixtures/deploy-probe.cjs.check", // CommonJS
      },
    }), (fn) => ({ arn: fn.arn })));
    const invocation = resources.find((r) => r.type === "aws:lambda/invocation:Invocation")!;
    // The version `pulumi up` just published: the mocks publish 1, the alias is on it; a second up publishes 2.
    request = { ...JSON.parse(invocation.inputs.input), targetVersion: "2" };
  });

  beforeEach(async () => {
    versionAnswer = { statusCode: 200 };
    probes.length = 0;
    lambda = new LocalLambdaControl(async (_name, version, payload) => {
      probes.push({ version, payload });
      return { payload: versionAnswer };
    }, REGION, ACCOUNT);
    lambda.addFunction(request.functionName, ["1", "2"], request.aliasName, "1");
    const group = resources.find((r) => r.type === "aws:codedeploy/deploymentGroup:DeploymentGroup")!;
    // A CodeDeploy minute of 50 ms: the five-minute canary takes a quarter of a second.
    codedeploy = new LocalCodeDeploy({ lambda, minuteMs: 50, invokeHook: (name, event) => hook(name).invoke(event).then(() => undefined) });
    codedeploy.addDeploymentGroup({
      applicationName: request.applicationName, deploymentGroupName: request.deploymentGroupName,
      deploymentConfigName: group.inputs.deploymentConfigName, alarms: group.inputs.alarmConfiguration.alarms,
    });
    await codedeploy.start();
    await lambda.start();
    functions.length = 0;
    for (const name of [request.beforeTrafficHook!, request.afterTrafficHook!, runnerName()]) functions.push(await start(name));
  });

  afterEach(async () => {
    await Promise.all(functions.map((fn) => fn.close()));
    await codedeploy.stop();
    await lambda.stop();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const runnerName = () => resources.find((r) => r.type === "aws:lambda/invocation:Invocation")!.inputs.functionName as string;
  const hook = (name: string) => functions.find((fn) => fn.config.functionName === name)!;

  /** The recorded function `functionName` as a local function: its bundle, handler, timeout and environment, the stand-ins' endpoints added. */
  async function start(functionName: string): Promise<LocalFunction> {
    const fn = resources.find((r) => r.type === TYPES.function && r.inputs.name === functionName);
    expect(fn, functionName).to.not.equal(undefined);
    const files = await archiveFiles(fn!);
    const folder = path.join(dir, functionName);
    fs.mkdirSync(folder, { recursive: true });
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(folder, file), text);
    const variables: Record<string, string> = { ...(fn!.inputs.environment?.variables ?? {}) };
    if (HOOK_ENVIRONMENT.targetVersion in variables) variables[HOOK_ENVIRONMENT.targetVersion] = request.targetVersion;
    return new LocalFunction({
      name: functionName, functionName, arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
      exportName: String(fn!.inputs.handler).split(".").pop()!,
      timeoutSeconds: fn!.inputs.timeout, memorySize: fn!.inputs.memorySize, maxConcurrency: 1,
      node: nodeForRuntime(fn!.inputs.runtime),
      environment: {
        ...variables,
        AWS_REGION: REGION, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local",
        AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.endpoint, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
        [POLL_INTERVAL_ENV]: "20",
        PATH: process.env.PATH ?? "/usr/bin:/bin",
      },
    }, path.join(folder, "index.mjs"), (line) => logs.push(line));
  }

  it("a canary with both hooks: the bundled hooks invoke version 2 and report, the bundled runner waits and succeeds", async () => {
    const result = await hook(runnerName()).invoke(request);
    expect(result.error, JSON.stringify(result.error) + logs.join("\n")).to.equal(undefined);
    expect(result.payload).to.deep.include({ status: "Succeeded" });
    expect(lambda.alias(request.functionName, request.aliasName)).to.deep.equal({ functionVersion: "2", weights: {} });
    // The ES module check sent the API probe, the CommonJS one its own: both to the version being deployed.
    expect(probes.map((p) => p.version)).to.deep.equal(["2", "2"]);
    expect(probes.map((p) => (p.payload as { rawPath?: string; probe?: string }).probe ?? (p.payload as { rawPath?: string }).rawPath)).to.deep.equal(["/health", "cjs"]);
    expect(codedeploy.calls.filter((call) => call === "codedeploy:PutLifecycleEventHookExecutionStatus")).to.have.length(2);
  });

  it("a check that throws: the bundled hook reports Failed, the bundled runner's invocation fails with the rollback", async () => {
    versionAnswer = { statusCode: 500 };
    const result = await hook(runnerName()).invoke(request);
    expect(result.error?.errorMessage).to.match(
      new RegExp(`^Deployment d-\\w+ of ${request.functionName} failed: the alias ${request.aliasName} was rolled back to version 1\\. The before-traffic hook ${request.beforeTrafficHook} or after-traffic hook ${request.afterTrafficHook} failed`),
    );
    expect(lambda.alias(request.functionName, request.aliasName)).to.deep.equal({ functionVersion: "1", weights: {} });
    // The before-traffic check failed: the after-traffic hook never ran.
    expect(probes.map((p) => p.version)).to.deep.equal(["2"]);
    expect(logs.some((line) => line.includes("Hook check failed") && line.includes("answered the probe with 500"))).to.equal(true);
  });
});
