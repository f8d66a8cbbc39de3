/**
 * The deployment runner: the Lambda function the component's `aws.lambda.Invocation` calls on
 * each `pulumi up` that publishes a version. It starts a CodeDeploy deployment that moves the
 * function's alias to that version (or attaches to the one a retried invocation already
 * started), then waits for it, so that a rollback fails the `pulumi up` with the reason. It
 * calls only RUNNER_ACTIONS: its role grants nothing else.
 */
import { createHash } from "node:crypto";
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
  type DeploymentInfo,
  type DeploymentStatus,
} from "@aws-sdk/client-codedeploy";
import { GetAliasCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { RUNNER_STOP_MARGIN_SECONDS, type DeploymentRequest, type DeploymentResult } from "./contract";
import { log } from "./log";

/** Milliseconds between two GetDeployment calls while waiting. */
export const POLL_INTERVAL_ENV = "DEPLOYMENT_POLL_INTERVAL_MS";
const DEFAULT_POLL_INTERVAL_MS = 5_000;
/** What the runner keeps of its own timeout to stop the deployment (and roll back) before Lambda ends it. */
export const STOP_MARGIN_MS = RUNNER_STOP_MARGIN_SECONDS * 1000;
/** The statuses of a deployment that has not ended (CodeDeploy's DeploymentStatus). */
export const ACTIVE_DEPLOYMENT_STATUSES: DeploymentStatus[] = ["Created", "Queued", "InProgress", "Baking", "Ready"];

/** What the runner uses of the Lambda context. */
export interface RunnerContext {
  getRemainingTimeInMillis(): number;
}

const REQUIRED_STRINGS = ["applicationName", "deploymentGroupName", "functionName", "aliasName", "targetVersion"] as const;
const OPTIONAL_STRINGS = ["beforeTrafficHook", "afterTrafficHook"] as const;

/** The request, or an Error naming every field that is wrong (the Invocation's input is built by the component; a bad one is a bug to report). */
export function validateRequest(event: unknown): DeploymentRequest {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new Error(`Deployment runner: the event must be a DeploymentRequest object; got ${JSON.stringify(event)}.`);
  }
  const fields = event as Record<string, unknown>;
  const problems: string[] = [];
  for (const name of REQUIRED_STRINGS) {
    if (typeof fields[name] !== "string" || fields[name] === "") problems.push(`${name} must be a non-empty string; got ${JSON.stringify(fields[name])}`);
  }
  for (const name of OPTIONAL_STRINGS) {
    if (fields[name] !== undefined && (typeof fields[name] !== "string" || fields[name] === "")) problems.push(`${name} must be a function name when set; got ${JSON.stringify(fields[name])}`);
  }
  // A deployment shifts between published versions; $LATEST is not one.
  if (typeof fields.targetVersion === "string" && fields.targetVersion !== "" && !/^\d+$/.test(fields.targetVersion)) {
    problems.push(`targetVersion must be a published version number; got ${JSON.stringify(fields.targetVersion)}`);
  }
  if (typeof fields.waitForCompletion !== "boolean") problems.push(`waitForCompletion must be true or false; got ${JSON.stringify(fields.waitForCompletion)}`);
  if (problems.length > 0) throw new Error(`Deployment runner: the request is not valid: ${problems.join("; ")}.`);
  return fields as unknown as DeploymentRequest;
}

/** The AppSpec of a Lambda deployment, as JSON (CodeDeploy takes JSON or YAML). */
export function appSpec(request: DeploymentRequest, currentVersion: string): string {
  const hooks = [
    ...(request.beforeTrafficHook ? [{ BeforeAllowTraffic: request.beforeTrafficHook }] : []),
    ...(request.afterTrafficHook ? [{ AfterAllowTraffic: request.afterTrafficHook }] : []),
  ];
  const body = {
    Resources: [{ [request.functionName]: { Type: "AWS::Lambda::Function", Properties: { Name: request.functionName, Alias: request.aliasName, CurrentVersion: currentVersion, TargetVersion: request.targetVersion } } }],
    Hooks: hooks,
  };
  // AppSpec's version is the literal 0.0, which JSON.stringify would write as 0.
  return `{"version":0.0,${JSON.stringify(body).slice(1)}`;
}

/** How to follow a deployment left running. */
export function followCommand(deploymentId: string): string {
  return `aws deploy get-deployment --deployment-id ${deploymentId} (or, in this repository: npm run deployments -- follow ${deploymentId})`;
}

/** The TargetVersion an AppSpecContent revision deploys, when it is one of ours. */
function targetVersionOf(info: DeploymentInfo | undefined): string | undefined {
  const content = info?.revision?.appSpecContent?.content;
  if (!content) return undefined;
  try {
    const [resource] = Object.values((JSON.parse(content).Resources?.[0] ?? {}) as Record<string, { Properties?: { TargetVersion?: string } }>);
    return resource?.Properties?.TargetVersion;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pollIntervalMs(): number {
  const value = Number(process.env[POLL_INTERVAL_ENV]);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_POLL_INTERVAL_MS;
}

/** The alarm names in an ALARM_ACTIVE message ("... Activated alarms: <a, b>"). */
function activatedAlarms(message: string): string {
  const match = /Activated alarms:\s*<?([^>]*)>?/.exec(message);
  return match ? match[1].trim() : message;
}

class Runner {
  private readonly codedeploy = new CodeDeployClient({});
  private readonly lambda = new LambdaClient({});
  private readonly started = Date.now();

  constructor(
    private readonly request: DeploymentRequest,
    private readonly context: RunnerContext,
  ) {}

  async run(): Promise<DeploymentResult> {
    const { functionName, aliasName, targetVersion } = this.request;
    try {
      const alias = await this.alias();
      if (alias.version === targetVersion) {
        log("INFO", "The alias already points at the target version; nothing to deploy", { functionName, aliasName, targetVersion });
        return { status: "Skipped" };
      }
      const deploymentId = (await this.activeDeployment()) ?? (await this.create(alias.version));
      if (!this.request.waitForCompletion) {
        log("INFO", "Deployment left running (waitForCompletion: false)", { deploymentId, follow: followCommand(deploymentId) });
        return { status: "InProgress", deploymentId, follow: followCommand(deploymentId) };
      }
      await this.wait(deploymentId, alias.version);
      return { status: "Succeeded", deploymentId };
    } finally {
      this.codedeploy.destroy();
      this.lambda.destroy();
    }
  }

  /** The alias's version, and the share of traffic the target version gets (1 once the alias points at it). */
  private async alias(): Promise<{ version: string; weight: number }> {
    const { targetVersion } = this.request;
    const alias = await this.lambda.send(new GetAliasCommand({ FunctionName: this.request.functionName, Name: this.request.aliasName }));
    const version = alias.FunctionVersion!;
    return { version, weight: version === targetVersion ? 1 : alias.RoutingConfig?.AdditionalVersionWeights?.[targetVersion] ?? 0 };
  }

  /**
   * The active deployment of this group for the target version, if one runs: the provider's
   * SDK may retry a long invocation, and the retry must follow the first deployment rather
   * than fail on CodeDeploy's one-active-deployment-per-group limit.
   */
  private async activeDeployment(): Promise<string | undefined> {
    const { applicationName, deploymentGroupName, targetVersion } = this.request;
    const { deployments = [] } = await this.codedeploy.send(new ListDeploymentsCommand({ applicationName, deploymentGroupName, includeOnlyStatuses: ACTIVE_DEPLOYMENT_STATUSES }));
    for (const deploymentId of deployments) {
      const { deploymentInfo } = await this.codedeploy.send(new GetDeploymentCommand({ deploymentId }));
      const version = targetVersionOf(deploymentInfo);
      if (version === targetVersion) {
        log("INFO", "Following the deployment already active for the target version", { deploymentId, targetVersion });
        return deploymentId;
      }
      throw new Error(
        `Deployment ${deploymentId} of ${this.request.functionName} (to version ${version ?? "unknown"}) is still running in ${applicationName}/${deploymentGroupName}; ` +
          `CodeDeploy runs one at a time. Wait for it (${followCommand(deploymentId)}) or stop it (aws deploy stop-deployment --deployment-id ${deploymentId} --auto-rollback-enabled), then run pulumi up again.`,
      );
    }
    return undefined;
  }

  private async create(currentVersion: string): Promise<string> {
    const { applicationName, deploymentGroupName, functionName, targetVersion } = this.request;
    const content = appSpec(this.request, currentVersion);
    try {
      const { deploymentId } = await this.codedeploy.send(
        new CreateDeploymentCommand({
          applicationName,
          deploymentGroupName,
          description: `pulumi up: ${functionName} version ${currentVersion} -> ${targetVersion}`,
          revision: { revisionType: "AppSpecContent", appSpecContent: { content, sha256: createHash("sha256").update(content).digest("hex") } },
        }),
      );
      log("INFO", "Deployment created", { deploymentId, functionName, currentVersion, targetVersion });
      return deploymentId!;
    } catch (error) {
      // A retried invocation that raced the first one past ListDeployments.
      if ((error as Error).name === "DeploymentLimitExceededException") {
        const active = await this.activeDeployment();
        if (active) return active;
      }
      throw error;
    }
  }

  private async wait(deploymentId: string, currentVersion: string): Promise<void> {
    const interval = pollIntervalMs();
    const budgetMs = this.context.getRemainingTimeInMillis() - STOP_MARGIN_MS;
    let lastStatus: string | undefined;
    let lastWeight: number | undefined;
    for (;;) {
      if (this.context.getRemainingTimeInMillis() < STOP_MARGIN_MS + interval) await this.stop(deploymentId, currentVersion, budgetMs);
      const { deploymentInfo: info } = await this.codedeploy.send(new GetDeploymentCommand({ deploymentId }));
      const status = info?.status ?? "Unknown";
      if (status !== lastStatus) log("INFO", "Deployment status", { deploymentId, status, previous: lastStatus });
      lastStatus = status;
      if (status === "Succeeded") return;
      if (status === "Failed" || status === "Stopped") throw new Error(await this.failure(deploymentId, info!, currentVersion));
      const { weight } = await this.alias();
      if (weight !== lastWeight && (lastWeight !== undefined || weight > 0)) log("INFO", "Traffic shifted", { deploymentId, targetVersion: this.request.targetVersion, percent: Math.round(weight * 1000) / 10 });
      lastWeight = weight;
      await sleep(interval);
    }
  }

  /** Stops the deployment with rollback before Lambda ends the runner, and fails. */
  private async stop(deploymentId: string, currentVersion: string, budgetMs: number): Promise<never> {
    await this.codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
    const waited = Math.round((Date.now() - this.started) / 1000);
    log("ERROR", "Deployment stopped: the runner reached its own timeout", { deploymentId, waitedSeconds: waited });
    throw new Error(
      `Deployment ${deploymentId} of ${this.request.functionName} timed out after ${waited} s; stopped and rolled back to version ${currentVersion}; ` +
        `use waitForCompletion: false for deployments longer than ${Math.floor(budgetMs / 1000)} s.`,
    );
  }

  private async failure(deploymentId: string, info: DeploymentInfo, currentVersion: string): Promise<string> {
    const { functionName, aliasName, beforeTrafficHook, afterTrafficHook } = this.request;
    const { code = "", message = "" } = info.errorInformation ?? {};
    const hooks = [beforeTrafficHook && `before-traffic hook ${beforeTrafficHook}`, afterTrafficHook && `after-traffic hook ${afterTrafficHook}`].filter(Boolean).join(" or ");
    const reason =
      code === "ALARM_ACTIVE"
        ? `Alarm fired: ${activatedAlarms(message)}.`
        : (code === "HEALTH_CONSTRAINTS" || code === "HOOK_EXECUTION_FAILURE") && hooks
          ? `The ${hooks} failed (it reported Failed or did not report); see its logs.`
          : `${code || "No error code"}: ${message || "CodeDeploy gave no reason."}`;
    const alias = await this.alias();
    const rollback =
      alias.version === currentVersion && alias.weight === 0
        ? `the alias ${aliasName} was rolled back to version ${currentVersion}`
        : `the alias ${aliasName} is being rolled back to version ${currentVersion}${info.rollbackInfo?.rollbackDeploymentId ? ` (rollback deployment ${info.rollbackInfo.rollbackDeploymentId})` : ""}`;
    log("ERROR", "Deployment rolled back", { deploymentId, status: info.status, code, reason: message });
    return `Deployment ${deploymentId} of ${functionName} ${info.status?.toLowerCase()}: ${rollback}. ${reason}`;
  }
}

/** The runner's Lambda handler: DeploymentRequest in, DeploymentResult out, an Error on rollback. */
export async function handler(event: DeploymentRequest, context: RunnerContext): Promise<DeploymentResult> {
  return new Runner(validateRequest(event), context).run();
}
