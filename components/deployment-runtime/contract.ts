/**
 * What the deployment pieces agree on: the component (components/deployment.ts) creates the
 * runner and hook functions and their roles; the runtime (runner.ts, hook.ts) runs inside
 * them. Types only, and the AWS actions each runtime calls, so the roles grant exactly those.
 */

/** The event the component's `aws.lambda.Invocation` sends the runner on each `pulumi up` that publishes a version. */
export interface DeploymentRequest {
  applicationName: string;
  deploymentGroupName: string;
  functionName: string;
  aliasName: string;
  /** The version Pulumi just published. */
  targetVersion: string;
  /** Physical names of the hook functions, when the deployment has them. */
  beforeTrafficHook?: string;
  afterTrafficHook?: string;
  /** false: start the deployment and return at once, with how to follow it. */
  waitForCompletion: boolean;
}

/** What the runner returns (the Invocation's `result`) when it did not fail. */
export interface DeploymentResult {
  /** Skipped: the alias already points at the target version (the first `up`, or nothing changed). */
  status: "Skipped" | "Succeeded" | "InProgress";
  deploymentId?: string;
  /** A command that follows the deployment, when it was left running. */
  follow?: string;
}

/**
 * What the runner keeps of its own timeout to stop a deployment (and roll back) before
 * Lambda ends it, in seconds. The component's time budget for a waited-for deployment
 * (components/deployment.ts) leaves the same margin.
 */
export const RUNNER_STOP_MARGIN_SECONDS = 15;

/** Environment variables the component sets on a hook function. */
export const HOOK_ENVIRONMENT = {
  functionName: "DEPLOYMENT_FUNCTION_NAME",
  aliasName: "DEPLOYMENT_ALIAS_NAME",
  targetVersion: "DEPLOYMENT_TARGET_VERSION",
  lifecycleEvent: "DEPLOYMENT_LIFECYCLE_EVENT",
} as const;

export type LifecycleEvent = "BeforeAllowTraffic" | "AfterAllowTraffic";

/** What a user's hook check receives: the version being deployed, and a way to invoke it. */
export interface DeploymentHookTarget {
  functionName: string;
  aliasName: string;
  version: string;
  /** `<function ARN>:<version>`. */
  qualifiedArn: string;
  lifecycleEvent: LifecycleEvent;
  deploymentId: string;
  /** Invokes the version being deployed (never the alias) with `payload`, synchronously. */
  invoke(payload: unknown): Promise<{ payload: unknown; functionError?: string }>;
}

/**
 * A user's hook: `export const check = async (target) => { ... }`. It fails the lifecycle
 * event (and so rolls the deployment back) by throwing; returning means Succeeded.
 */
export type DeploymentCheck = (target: DeploymentHookTarget) => Promise<void> | void;

/** The AWS actions the runner calls, with the resource each is granted on. */
export const RUNNER_ACTIONS = {
  "lambda:GetAlias": "function",
  "codedeploy:CreateDeployment": "deploymentGroup",
  "codedeploy:GetDeployment": "deploymentGroup",
  "codedeploy:ListDeployments": "deploymentGroup",
  "codedeploy:StopDeployment": "deploymentGroup",
  "codedeploy:GetDeploymentConfig": "deploymentConfig",
  "codedeploy:RegisterApplicationRevision": "application",
  "codedeploy:GetApplicationRevision": "application",
} as const;

/** The AWS actions a hook function calls: invoke only the function being deployed, report only to its own group. */
export const HOOK_ACTIONS = {
  "lambda:InvokeFunction": "function",
  "codedeploy:PutLifecycleEventHookExecutionStatus": "deploymentGroup",
} as const;
