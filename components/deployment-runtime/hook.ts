/**
 * A CodeDeploy lifecycle hook around a user's check: CodeDeploy invokes the hook function
 * (asynchronously) with the deployment's ids; the hook runs the check against the version
 * being deployed and reports Succeeded or Failed with PutLifecycleEventHookExecutionStatus,
 * exactly once, whatever the check does (throws, hangs, returns anything). A hook that never
 * reports holds the deployment for CodeDeploy's hour before it fails. It calls only
 * HOOK_ACTIONS.
 */
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from "@aws-sdk/client-codedeploy";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { HOOK_ENVIRONMENT, type DeploymentCheck, type DeploymentHookTarget, type LifecycleEvent } from "./contract";
import { log } from "./log";

export interface HookEvent {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
}

/** What the hook uses of the Lambda context. */
export interface HookContext {
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

/** The most of the hook's own remaining time kept to report (the check gets the rest). */
const MAX_REPORT_RESERVE_MS = 5_000;
const LIFECYCLE_EVENTS: LifecycleEvent[] = ["BeforeAllowTraffic", "AfterAllowTraffic"];

/** Milliseconds the check may run: a little before the hook's own timeout, so the report still goes out. */
export function checkBudgetMs(remainingMs: number): number {
  return remainingMs - Math.min(MAX_REPORT_RESERVE_MS, Math.max(100, remainingMs / 5));
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`the environment variable ${name} is not set (the component sets it on every hook function)`);
  return value;
}

/** The version being deployed, from HOOK_ENVIRONMENT, with its ARN built from the hook's own (same partition, region and account). */
export function hookTarget(event: HookEvent, context: HookContext, lambda: LambdaClient): DeploymentHookTarget {
  const functionName = env(HOOK_ENVIRONMENT.functionName);
  const aliasName = env(HOOK_ENVIRONMENT.aliasName);
  const version = env(HOOK_ENVIRONMENT.targetVersion);
  const lifecycleEvent = env(HOOK_ENVIRONMENT.lifecycleEvent) as LifecycleEvent;
  if (!LIFECYCLE_EVENTS.includes(lifecycleEvent)) throw new Error(`${HOOK_ENVIRONMENT.lifecycleEvent} must be ${LIFECYCLE_EVENTS.join(" or ")}; got ${lifecycleEvent}`);
  const own = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:/.exec(context.invokedFunctionArn ?? "");
  if (!own) throw new Error(`the hook's own ARN ${JSON.stringify(context.invokedFunctionArn)} is not a Lambda function ARN`);
  const [, partition, region, account] = own;
  return {
    functionName,
    aliasName,
    version,
    lifecycleEvent,
    deploymentId: event.DeploymentId,
    qualifiedArn: `arn:${partition}:lambda:${region}:${account}:function:${functionName}:${version}`,
    async invoke(payload) {
      const answer = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, Qualifier: version, InvocationType: "RequestResponse", Payload: Buffer.from(JSON.stringify(payload ?? null)) }),
      );
      const text = answer.Payload ? Buffer.from(answer.Payload).toString("utf8") : "";
      let parsed: unknown = text;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        // A payload that is not JSON is handed over as text.
      }
      return { payload: parsed, ...(answer.FunctionError ? { functionError: answer.FunctionError } : {}) };
    },
  };
}

/** Runs `check`, rejecting when it throws or is still running after `budgetMs`. */
async function runCheck(check: DeploymentCheck, target: DeploymentHookTarget, budgetMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the check did not finish within ${budgetMs} ms (the hook reports before its own timeout)`)), Math.max(0, budgetMs));
  });
  try {
    await Promise.race([Promise.resolve().then(() => check(target)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The Lambda handler of a hook function whose check is `check`. */
export function deploymentHookHandler(check: DeploymentCheck): (event: HookEvent, context: HookContext) => Promise<void> {
  return async (event, context) => {
    const deploymentId = event?.DeploymentId;
    const lifecycleEventHookExecutionId = event?.LifecycleEventHookExecutionId;
    if (typeof deploymentId !== "string" || deploymentId === "" || typeof lifecycleEventHookExecutionId !== "string" || lifecycleEventHookExecutionId === "") {
      throw new Error(`Deployment hook: the event is not a CodeDeploy lifecycle hook event (it needs DeploymentId and LifecycleEventHookExecutionId); got ${JSON.stringify(event)}.`);
    }
    const codedeploy = new CodeDeployClient({});
    const lambda = new LambdaClient({});
    let status: "Succeeded" | "Failed" = "Failed";
    try {
      const target = hookTarget(event, context, lambda);
      await runCheck(check, target, checkBudgetMs(context.getRemainingTimeInMillis()));
      status = "Succeeded";
      log("INFO", "Hook check passed", { deploymentId, lifecycleEvent: target.lifecycleEvent, version: target.version });
    } catch (error) {
      log("ERROR", "Hook check failed; reporting Failed, which rolls the deployment back", { deploymentId, reason: (error as Error)?.message ?? String(error) });
    }
    try {
      // Reported, not thrown: a thrown error would make Lambda retry the hook and report twice.
      await codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId, status }));
    } finally {
      codedeploy.destroy();
      lambda.destroy();
    }
  };
}
