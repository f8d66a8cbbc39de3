/**
 * The deployment sequence, end to end: the runner and the hooks (in-process handlers, real
 * SDK clients) against the local CodeDeploy and Lambda control plane: create, hook invoked,
 * hook reports, shift, alarm, rollback, the runner's own deadline.
 */
import { expect } from "chai";
import { HOOK_ACTIONS, RUNNER_ACTIONS } from "../../components/deployment-runtime/contract";
import { STOP_MARGIN_MS } from "../../components/deployment-runtime/runner";
import { CODEDEPLOY_LAMBDA } from "../../components/limits";
import { PREDEFINED_LAMBDA_CONFIGS } from "../../local/codedeploy";
import { AFTER_HOOK, ALARM, ALIAS, BEFORE_HOOK, FUNCTION, Stage, type StageOptions } from "./support";

const until = async (condition: () => boolean, timeoutMs = 3000) => {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
};

describe("deployment sequence (runner and hooks against the local CodeDeploy and Lambda)", function () {
  this.timeout(10_000);
  let stage: Stage;
  const open = async (options?: StageOptions) => (stage = await new Stage(options).start());
  afterEach(async () => stage?.stop());

  const healthCheck = async (target: { invoke(p: unknown): Promise<{ payload: unknown; functionError?: string }> }) => {
    const answer = await target.invoke({ rawPath: "/health" });
    if (answer.functionError || (answer.payload as { statusCode?: number }).statusCode !== 200) throw new Error(`health answered ${JSON.stringify(answer)}`);
  };

  it("canary: the before-traffic hook checks version 2, 10% for the canary's minutes, then all; only the granted actions are called", async () => {
    await open({ checks: { [BEFORE_HOOK]: healthCheck, [AFTER_HOOK]: healthCheck } });
    const { result, weights } = await stage.watchWeights(stage.runner(stage.request({ beforeTrafficHook: BEFORE_HOOK, afterTrafficHook: AFTER_HOOK })));
    expect(result).to.include({ status: "fulfilled" });
    const value = (result as PromiseFulfilledResult<{ status: string; deploymentId?: string }>).value;
    expect(value.status).to.equal("Succeeded");
    expect(value.deploymentId).to.match(/^d-/);
    expect(weights).to.deep.equal([0.1]);
    expect(stage.lambda.alias(FUNCTION, ALIAS)).to.deep.equal({ functionVersion: "2", weights: {} });
    expect(stage.hookInvocations).to.deep.equal([BEFORE_HOOK, AFTER_HOOK]);
    // Each hook invoked the version being deployed, never the alias.
    expect(stage.invocations.map((i) => i.version)).to.deep.equal(["2", "2"]);
    const granted = [...Object.keys(RUNNER_ACTIONS), ...Object.keys(HOOK_ACTIONS)];
    expect([...stage.codedeploy.calls, ...stage.lambda.calls].filter((action) => !granted.includes(action))).to.deep.equal([]);
    // Each hook reported exactly once.
    expect(stage.codedeploy.calls.filter((action) => action === "codedeploy:PutLifecycleEventHookExecutionStatus")).to.have.length(2);
  });

  it("linear (a custom config): 25%, 50%, 75% a minute each, then all; without hooks the runner's actions only", async () => {
    // A minute of 100 ms: long enough for the runner's 10 ms polls to see every step on a busy machine.
    await open({ deploymentConfigName: "orders-linear-25-every-1", minuteMs: 100 });
    const { result, weights } = await stage.watchWeights(stage.runner(stage.request()));
    expect((result as PromiseFulfilledResult<{ status: string }>).value.status).to.equal("Succeeded");
    expect(weights).to.deep.equal([0.25, 0.5, 0.75]);
    // The runner logs each status and each shift as a JSON line.
    const shifts = stage.logs.filter((l) => l.message === "Traffic shifted").map((l) => l.percent);
    // The last poll may or may not land between the alias's move to version 2 and Succeeded.
    expect(shifts.slice(0, 3)).to.deep.equal([25, 50, 75]);
    expect(shifts.slice(3).join(",")).to.be.oneOf(["", "100"]);
    expect(stage.logs.filter((l) => l.message === "Deployment status").map((l) => l.status)).to.deep.equal(["InProgress", "Succeeded"]);
    expect([...stage.codedeploy.calls, ...stage.lambda.calls].filter((action) => !Object.hasOwn(RUNNER_ACTIONS, action))).to.deep.equal([]);
  });

  it("skips when the alias already points at the target version (the first up, or nothing changed)", async () => {
    await open();
    expect(await stage.runner(stage.request({ targetVersion: "1" }))).to.deep.equal({ status: "Skipped" });
    expect(stage.codedeploy.calls).to.deep.equal([]);
  });

  it("a retried invocation follows the deployment the first one started instead of creating a second", async () => {
    await open();
    const first = stage.runner(stage.request());
    await until(() => stage.codedeploy.calls.includes("codedeploy:CreateDeployment"));
    const second = stage.runner(stage.request());
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).to.equal("Succeeded");
    expect(b).to.deep.equal(a);
    expect(stage.codedeploy.calls.filter((action) => action === "codedeploy:CreateDeployment")).to.have.length(1);
  });

  it("a before-traffic hook that fails rolls back, and the error names the deployment, the function, the version and the hook", async () => {
    await open({ checks: { [BEFORE_HOOK]: healthCheck }, versionHandler: () => ({ payload: { statusCode: 500 } }) });
    const error = await stage.runner(stage.request({ beforeTrafficHook: BEFORE_HOOK })).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/^Deployment d-\w+ of orders-api failed: the alias live was rolled back to version 1\. The before-traffic hook orders-api-before-traffic failed/);
    expect(stage.lambda.alias(FUNCTION, ALIAS)).to.deep.equal({ functionVersion: "1", weights: {} });
  });

  it("an alarm that fires mid-shift stops the deployment, rolls back, and the error names the alarm", async () => {
    await open({ minuteMs: 100 });
    const run = stage.runner(stage.request()).then(() => undefined, (e: Error) => e);
    await until(() => stage.lambda.alias(FUNCTION, ALIAS).weights["2"] === 0.1);
    stage.codedeploy.setAlarm(ALARM, "ALARM");
    const error = await run;
    expect(error?.message).to.match(/^Deployment d-\w+ of orders-api stopped: the alias live was rolled back to version 1\. Alarm fired: orders-api-errors\.$/);
    expect(stage.lambda.alias(FUNCTION, ALIAS)).to.deep.equal({ functionVersion: "1", weights: {} });
  });

  it("near its own deadline the runner stops the deployment with rollback and says to use waitForCompletion: false", async () => {
    await open({ deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent30Minutes" });
    const error = await stage.runner(stage.request(), STOP_MARGIN_MS + 300).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/^Deployment d-\w+ of orders-api timed out after \d+ s; stopped and rolled back to version 1; use waitForCompletion: false for deployments longer than 0 s\.$/);
    expect(stage.codedeploy.calls).to.include("codedeploy:StopDeployment");
    const id = /Deployment (d-\w+)/.exec(error!.message)![1];
    expect(await stage.codedeploy.settled(id)).to.equal("Stopped");
    expect(stage.lambda.alias(FUNCTION, ALIAS)).to.deep.equal({ functionVersion: "1", weights: {} });
  });

  it("waitForCompletion: false returns at once with the deployment id and how to follow it", async () => {
    await open({ minuteMs: 5 });
    const result = await stage.runner(stage.request({ waitForCompletion: false }));
    expect(result.status).to.equal("InProgress");
    expect(result.follow).to.equal(`aws deploy get-deployment --deployment-id ${result.deploymentId} (or, in this repository: npm run deployments -- follow ${result.deploymentId})`);
    expect(stage.codedeploy.calls).not.to.include("codedeploy:GetDeployment");
    expect(await stage.codedeploy.settled(result.deploymentId!)).to.equal("Succeeded");
  });

  it("a hook check that hangs is reported Failed before the hook's own timeout, long before CodeDeploy's", async () => {
    await open({ checks: { [BEFORE_HOOK]: () => new Promise<void>(() => undefined) }, hookTimeoutMs: 500, hookTimeoutMinutes: 60 });
    const started = Date.now();
    const error = await stage.runner(stage.request({ beforeTrafficHook: BEFORE_HOOK })).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/before-traffic hook orders-api-before-traffic failed/);
    // The hook has 500 ms; CodeDeploy's hour is 2.4 s here.
    expect(Date.now() - started).to.be.below(1500);
    expect(stage.codedeploy.calls.filter((action) => action === "codedeploy:PutLifecycleEventHookExecutionStatus")).to.have.length(1);
  });

  it("a hook function that never reports fails the deployment at CodeDeploy's lifecycle timeout", async () => {
    await open({ checks: {}, hookTimeoutMinutes: 2 });
    const started = Date.now();
    const error = await stage.runner(stage.request({ beforeTrafficHook: "orders-api-missing-hook" })).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/failed: the alias live was rolled back to version 1\. The before-traffic hook orders-api-missing-hook failed/);
    expect(Date.now() - started).to.be.at.least(2 * 40);
  });

  it("the stand-in knows exactly the predefined configs components/limits.ts lists, with their steps", () => {
    const listed = [CODEDEPLOY_LAMBDA.allAtOnce, ...Object.values(CODEDEPLOY_LAMBDA.canary), ...Object.values(CODEDEPLOY_LAMBDA.linear)];
    expect(Object.keys(PREDEFINED_LAMBDA_CONFIGS)).to.have.members(listed);
    expect(PREDEFINED_LAMBDA_CONFIGS["CodeDeployDefault.LambdaCanary10Percent30Minutes"]).to.deep.equal({ type: "TimeBasedCanary", percentage: 10, minutes: 30 });
    expect(PREDEFINED_LAMBDA_CONFIGS["CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"]).to.deep.equal({ type: "TimeBasedLinear", percentage: 10, minutes: 2 });
  });

  it("refuses a bad request with every problem named, before any AWS call", async () => {
    await open();
    const error = await stage.runner({ applicationName: "orders", functionName: "", targetVersion: "$LATEST", beforeTrafficHook: 3 }).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.equal(
      'Deployment runner: the request is not valid: deploymentGroupName must be a non-empty string; got undefined; functionName must be a non-empty string; got ""; ' +
        'aliasName must be a non-empty string; got undefined; beforeTrafficHook must be a function name when set; got 3; targetVersion must be a published version number; got "$LATEST"; waitForCompletion must be true or false; got undefined.',
    );
    expect((await stage.runner(null).catch((e: Error) => e)).toString()).to.contain("the event must be a DeploymentRequest object; got null");
    expect([...stage.codedeploy.calls, ...stage.lambda.calls]).to.deep.equal([]);
  });
});
