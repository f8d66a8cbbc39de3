/**
 * The lifecycle hook wrapper: what the user's check receives, and that exactly one status is
 * reported whatever the check does. Driven by the local CodeDeploy, which invokes the hook
 * as AWS does and reads its report through the real API.
 */
import { expect } from "chai";
import { HOOK_ENVIRONMENT, type DeploymentHookTarget } from "../../components/deployment-runtime/contract";
import { checkBudgetMs, deploymentHookHandler } from "../../components/deployment-runtime/hook";
import { BEFORE_HOOK, Stage, type StageOptions } from "./support";

describe("deployment hook handler", function () {
  this.timeout(10_000);
  let stage: Stage;
  afterEach(async () => stage?.stop());

  /** Runs one deployment with a before-traffic hook; its final status and how many reports the hook sent. */
  const deploy = async (options: StageOptions) => {
    stage = await new Stage({ minuteMs: 5, ...options }).start();
    const outcome = await stage.runner(stage.request({ beforeTrafficHook: BEFORE_HOOK })).then((r) => r.status, (e: Error) => e.message);
    return { outcome, reports: stage.codedeploy.calls.filter((action) => action === "codedeploy:PutLifecycleEventHookExecutionStatus").length };
  };

  it("gives the check the version being deployed, its ARN in the hook's own partition, and an invoke that surfaces function errors", async () => {
    let seen: Omit<DeploymentHookTarget, "invoke"> | undefined;
    let answer: unknown;
    const { outcome, reports } = await deploy({
      partition: "aws-cn",
      versionHandler: () => ({ payload: { errorMessage: "boom" }, functionError: "Unhandled" }),
      checks: {
        [BEFORE_HOOK]: async ({ invoke, ...target }) => {
          seen = target;
          answer = await invoke({ ping: true });
        },
      },
    });
    expect(outcome).to.equal("Succeeded");
    expect(reports).to.equal(1);
    expect(seen).to.deep.include({
      functionName: "orders-api",
      aliasName: "live",
      version: "2",
      lifecycleEvent: "BeforeAllowTraffic",
      qualifiedArn: "arn:aws-cn:lambda:eu-west-1:123456789012:function:orders-api:2",
    });
    expect(seen?.deploymentId).to.match(/^d-/);
    expect(answer).to.deep.equal({ payload: { errorMessage: "boom" }, functionError: "Unhandled" });
    expect(stage.invocations).to.deep.equal([{ version: "2", payload: { ping: true } }]);
  });

  it("reports Failed once for a check that throws synchronously, and logs why", async () => {
    const { outcome, reports } = await deploy({
      checks: {
        [BEFORE_HOOK]: () => {
          throw new Error("the new version lost its table");
        },
      },
    });
    expect(outcome).to.match(/before-traffic hook orders-api-before-traffic failed/);
    expect(reports).to.equal(1);
    expect(stage.logs.find((l) => l.message?.toString().startsWith("Hook check failed"))?.reason).to.equal("the new version lost its table");
  });

  it("reports Succeeded for a check that returns a value that is not a promise", async () => {
    const { outcome, reports } = await deploy({ checks: { [BEFORE_HOOK]: (() => 42) as unknown as () => void } });
    expect(outcome).to.equal("Succeeded");
    expect(reports).to.equal(1);
  });

  it("reports Failed, without running the check, when its environment is incomplete", async () => {
    let ran = false;
    const { outcome, reports } = await deploy({ unsetHookVariable: HOOK_ENVIRONMENT.targetVersion, checks: { [BEFORE_HOOK]: () => void (ran = true) } });
    expect(outcome).to.match(/failed: the alias live was rolled back to version 1/);
    expect(reports).to.equal(1);
    expect(ran).to.equal(false);
    expect(stage.logs.find((l) => l.message?.toString().startsWith("Hook check failed"))?.reason).to.contain("DEPLOYMENT_TARGET_VERSION is not set");
  });

  it("throws for an event that is not a lifecycle hook event (it has no ids to report with)", async () => {
    const hook = deploymentHookHandler(() => undefined);
    const context = { invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:h", getRemainingTimeInMillis: () => 1000 };
    const error = await hook({ DeploymentId: "d-1" } as never, context).then(() => undefined, (e: Error) => e);
    expect(error?.message).to.equal('Deployment hook: the event is not a CodeDeploy lifecycle hook event (it needs DeploymentId and LifecycleEventHookExecutionId); got {"DeploymentId":"d-1"}.');
  });

  it("keeps a fifth of short timeouts, at most 5 s of long ones, to report", () => {
    expect(checkBudgetMs(1000)).to.equal(800);
    expect(checkBudgetMs(300_000)).to.equal(295_000);
    expect(checkBudgetMs(200)).to.equal(100);
  });
});
