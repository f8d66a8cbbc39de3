/**
 * A local stand-in of CodeDeploy for Lambda, for the deployment runtime's tests and the
 * follower: applications, deployment groups (with their rollback alarms), deployment
 * configs (AWS's predefined Lambda ones and custom ones), served on loopback in the AWS JSON
 * 1.1 protocol the SDK v3 CodeDeploy client speaks. A deployment runs as AWS runs one: the
 * BeforeAllowTraffic hook (invoked through a pluggable invoker, reporting back through
 * PutLifecycleEventHookExecutionStatus), traffic shifted on the alias of the local Lambda
 * control plane per the config, alarms checked during and after the shift, the
 * AfterAllowTraffic hook, then Succeeded. A failed or silent hook, an alarm in ALARM or
 * StopDeployment puts the alias back on the original version. Time runs on a scaled clock
 * (`minuteMs`), so a test's five-minute canary can take a quarter of a second. Every call is
 * recorded by action name.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { ACTIVE_DEPLOYMENT_STATUSES } from "../components/deployment-runtime/runner";
import { CODEDEPLOY_LAMBDA } from "../components/limits";
import { jsonCodec } from "./aws-json";
import { AwsError, awsServer } from "./aws-server";
import type { LocalLambdaControl } from "./lambda-control";
import { closeServer, listen } from "./loopback";

export type TrafficRouting = { type: "AllAtOnce" } | { type: "TimeBasedCanary"; percentage: number; minutes: number } | { type: "TimeBasedLinear"; percentage: number; minutes: number };

/** The routing of each of `configs` (limits.ts's `"percentage:minutes"` -> config name). */
const routings = (type: "TimeBasedCanary" | "TimeBasedLinear", configs: Record<string, string>) =>
  Object.entries(configs).map(([step, name]): [string, TrafficRouting] => {
    const [percentage, minutes] = step.split(":").map(Number);
    return [name, { type, percentage, minutes }];
  });

/** CodeDeploy's predefined Lambda deployment configs, as components/limits.ts lists them. */
export const PREDEFINED_LAMBDA_CONFIGS: Record<string, TrafficRouting> = Object.fromEntries([
  [CODEDEPLOY_LAMBDA.allAtOnce, { type: "AllAtOnce" }],
  ...routings("TimeBasedCanary", CODEDEPLOY_LAMBDA.canary),
  ...routings("TimeBasedLinear", CODEDEPLOY_LAMBDA.linear),
]);

export interface LocalDeploymentGroup {
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  /** Alarm names that stop and roll back a deployment when in ALARM. */
  alarms: string[];
}

export interface HookEvent {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
}

export interface LocalCodeDeployOptions {
  lambda: LocalLambdaControl;
  /** Invokes a hook function (asynchronously, as CodeDeploy does); it reports through the API. */
  invokeHook: (functionName: string, event: HookEvent) => void | Promise<void>;
  /** Milliseconds of a CodeDeploy minute. @default 60000 */
  minuteMs?: number;
  /** Minutes a lifecycle hook has to report. @default 60 (AWS's limit) */
  hookTimeoutMinutes?: number;
}

/** CodeDeploy's statuses of a deployment that has not ended. */
const ACTIVE_STATUSES: readonly string[] = ACTIVE_DEPLOYMENT_STATUSES;
export type LifecycleEventName = "BeforeAllowTraffic" | "AllowTraffic" | "AfterAllowTraffic";

/** How AWS words the errorInformation of a failed or stopped deployment. */
export const ERROR_MESSAGES = {
  HEALTH_CONSTRAINTS:
    "The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.",
  ALARM_ACTIVE: (alarms: string[]) =>
    `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${alarms.join(", ")}>`,
  MANUAL_STOP: "The deployment was stopped by a user.",
};

interface LifecycleEvent {
  lifecycleEventName: LifecycleEventName;
  status: "Pending" | "InProgress" | "Succeeded" | "Failed" | "Skipped";
  startTime?: number;
  endTime?: number;
  diagnostics?: { errorCode: string; message: string };
}

interface Deployment {
  id: string;
  group: LocalDeploymentGroup;
  configName: string;
  status: string;
  createTime: number;
  completeTime?: number;
  errorInformation?: { code: string; message: string };
  rollbackMessage?: string;
  revision: Record<string, unknown>;
  target: { name: string; alias: string; current: string; target: string };
  hooks: Partial<Record<LifecycleEventName, string>>;
  events: LifecycleEvent[];
  weight: number;
  stop?: { rollback: boolean };
  hook?: { executionId: string; status?: string };
}

/** Why a deployment ended early: the status it ends in and its errorInformation. */
class Halt {
  constructor(
    readonly status: "Failed" | "Stopped",
    readonly code: string,
    readonly message: string,
    readonly rollback = true,
  ) {}
}

const now = () => Date.now() / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LocalCodeDeploy {
  private readonly applications = new Set<string>();
  private readonly groups = new Map<string, LocalDeploymentGroup>();
  private readonly configs = new Map<string, TrafficRouting>(Object.entries(PREDEFINED_LAMBDA_CONFIGS));
  private readonly alarmStates = new Map<string, "OK" | "ALARM">();
  private readonly deployments = new Map<string, Deployment>();
  /** Each deployment's run, until it ends. */
  private readonly runs = new Map<string, Promise<void>>();
  private server?: Server;
  /** Every call answered, by IAM action name (`codedeploy:CreateDeployment`), in order. */
  readonly calls: string[] = [];
  endpoint = "";
  private readonly minuteMs: number;

  constructor(private readonly options: LocalCodeDeployOptions) {
    this.minuteMs = options.minuteMs ?? 60_000;
  }

  addDeploymentGroup(group: LocalDeploymentGroup): void {
    if (!this.configs.has(group.deploymentConfigName)) throw new Error(`No deployment config ${group.deploymentConfigName}; add it first.`);
    this.applications.add(group.applicationName);
    this.groups.set(`${group.applicationName}/${group.deploymentGroupName}`, { ...group, alarms: [...group.alarms] });
  }

  addDeploymentConfig(name: string, routing: TrafficRouting): void {
    this.configs.set(name, routing);
  }

  setAlarm(name: string, state: "OK" | "ALARM"): void {
    this.alarmStates.set(name, state);
  }

  async start(port = 0): Promise<string> {
    const operations = {
      CreateDeployment: (input: Record<string, any>) => ({ deploymentId: this.create(input) }),
      GetDeployment: (input: Record<string, any>) => ({ deploymentInfo: this.info(this.deployment(input.deploymentId)) }),
      ListDeployments: (input: Record<string, any>) => this.list(input),
      StopDeployment: (input: Record<string, any>) => this.stopDeployment(input),
      GetDeploymentConfig: (input: Record<string, any>) => this.config(String(input.deploymentConfigName)),
      PutLifecycleEventHookExecutionStatus: (input: Record<string, any>) => this.report(input),
      ListDeploymentTargets: (input: Record<string, any>) => {
        const d = this.deployment(input.deploymentId);
        return { targetIds: [`${d.target.name}:${d.target.alias}`] };
      },
      ListApplications: () => ({ applications: [...this.applications].sort() }),
      ListDeploymentGroups: (input: Record<string, any>) => {
        this.group(input.applicationName, undefined, false);
        const groups = [...this.groups.values()].filter((g) => g.applicationName === input.applicationName);
        return { applicationName: input.applicationName, deploymentGroups: groups.map((g) => g.deploymentGroupName) };
      },
      GetDeploymentTarget: (input: Record<string, any>) => ({ deploymentTarget: this.deploymentTarget(this.deployment(input.deploymentId)) }),
    };
    this.server = awsServer({
      service: "CodeDeploy",
      codecs: [jsonCodec({ target: "CodeDeploy_20141006", contentType: "application/x-amz-json-1.1", validationErrorType: "InvalidInputException" })],
      operations: Object.fromEntries(
        Object.entries(operations).map(([name, run]) => [name, (input: Record<string, any>) => (this.calls.push(`codedeploy:${name}`), run(input))]),
      ),
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  /** Stops serving, after the deployments still running have ended (stop them first to end them early). */
  async stop(): Promise<void> {
    for (const d of this.deployments.values()) if (ACTIVE_STATUSES.includes(d.status)) d.stop ??= { rollback: true };
    await Promise.all(this.runs.values());
    if (this.server) await closeServer(this.server);
  }

  /** Resolves when the deployment has ended, with its final status. */
  async settled(deploymentId: string): Promise<string> {
    const d = this.deployment(deploymentId);
    await this.runs.get(d.id);
    return d.status;
  }

  private deployment(id: unknown): Deployment {
    const d = this.deployments.get(String(id));
    if (!d) throw new AwsError(id ? "DeploymentDoesNotExistException" : "DeploymentIdRequiredException", id ? `The deployment ${id} could not be found.` : "A deployment ID must be specified.");
    return d;
  }

  private group(applicationName: unknown, groupName: unknown, required = true): LocalDeploymentGroup | undefined {
    if (!this.applications.has(String(applicationName))) throw new AwsError("ApplicationDoesNotExistException", `No application found for name: ${applicationName}`);
    if (!required) return undefined;
    const group = this.groups.get(`${applicationName}/${groupName}`);
    if (!group) throw new AwsError("DeploymentGroupDoesNotExistException", `No Deployment Group found for name: ${groupName}`);
    return group;
  }

  private create(input: Record<string, any>): string {
    const group = this.group(input.applicationName, input.deploymentGroupName)!;
    const active = [...this.deployments.values()].find((d) => d.group === group && ACTIVE_STATUSES.includes(d.status));
    if (active) throw new AwsError("DeploymentLimitExceededException", `The Deployment Group '${group.deploymentGroupName}' already has an active Deployment '${active.id}'`);
    const { target, hooks } = this.parseRevision(input.revision);
    const configName = input.deploymentConfigName ?? group.deploymentConfigName;
    if (!this.configs.has(configName)) throw new AwsError("DeploymentConfigDoesNotExistException", `No deployment configuration found for name: ${configName}`);
    const id = `d-${randomUUID().replace(/-/g, "").slice(0, 9).toUpperCase()}`;
    const events: LifecycleEvent[] = (["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"] as const).map((name) => ({ lifecycleEventName: name, status: "Pending" }));
    const d: Deployment = { id, group, configName, status: "Created", createTime: now(), revision: input.revision, target, hooks, events, weight: 0 };
    this.deployments.set(id, d);
    const run = this.run(d).finally(() => this.runs.delete(id));
    // A stand-in fault reaches whoever awaits settled() or stop(), not the process as an unhandled rejection.
    run.catch(() => undefined);
    this.runs.set(id, run);
    return id;
  }

  /** The AppSpec of an AppSpecContent revision: one Lambda resource and its hooks. */
  private parseRevision(revision: any): Pick<Deployment, "target" | "hooks"> {
    const invalid = (why: string) => new AwsError("InvalidRevisionException", `The AppSpec content is not valid: ${why}`);
    if (!revision) throw new AwsError("RevisionRequiredException", "The revision ID was not specified.");
    if (revision.revisionType !== "AppSpecContent") throw invalid(`the local CodeDeploy takes AppSpecContent revisions; got ${revision.revisionType}`);
    const { content, sha256 } = revision.appSpecContent ?? {};
    if (typeof content !== "string") throw invalid("appSpecContent.content is missing");
    if (sha256 !== undefined && sha256 !== createHash("sha256").update(content).digest("hex")) throw invalid("appSpecContent.sha256 does not match the content");
    let spec: any;
    try {
      spec = JSON.parse(content);
    } catch {
      throw invalid("the content is not JSON (the local CodeDeploy reads JSON AppSpecs only)");
    }
    const resources = Array.isArray(spec.Resources) ? spec.Resources : [];
    if (resources.length !== 1) throw invalid("a Lambda AppSpec has exactly one resource");
    const [resource] = Object.values(resources[0] as Record<string, any>);
    const p = resource?.Properties ?? {};
    if (resource?.Type !== "AWS::Lambda::Function" || ![p.Name, p.Alias, p.CurrentVersion, p.TargetVersion].every((v) => typeof v === "string" && v !== "")) {
      throw invalid("the resource needs Type AWS::Lambda::Function and Properties Name, Alias, CurrentVersion and TargetVersion");
    }
    for (const version of [p.CurrentVersion, p.TargetVersion]) {
      if (!this.options.lambda.hasVersion(p.Name, version)) throw invalid(`the function ${p.Name} has no version ${version}`);
    }
    const hooks: Deployment["hooks"] = {};
    for (const hook of Array.isArray(spec.Hooks) ? spec.Hooks : []) {
      for (const [event, fn] of Object.entries(hook as Record<string, string>)) {
        if (event !== "BeforeAllowTraffic" && event !== "AfterAllowTraffic") throw invalid(`${event} is not a Lambda lifecycle event (BeforeAllowTraffic, AfterAllowTraffic)`);
        hooks[event] = fn;
      }
    }
    return { target: { name: p.Name, alias: p.Alias, current: p.CurrentVersion, target: p.TargetVersion }, hooks };
  }

  private async run(d: Deployment): Promise<void> {
    d.status = "InProgress";
    try {
      await this.hook(d, "BeforeAllowTraffic", false);
      await this.shift(d);
      await this.hook(d, "AfterAllowTraffic", true);
      await this.wait(d, 0, true);
      d.status = "Succeeded";
    } catch (error) {
      if (!(error instanceof Halt)) throw error;
      if (error.rollback) {
        this.options.lambda.setAlias(d.target.name, d.target.alias, { functionVersion: d.target.current, weights: {} });
        d.weight = 0;
        d.rollbackMessage = `Rolled back: the alias ${d.target.alias} points at version ${d.target.current} again.`;
      }
      for (const event of d.events) if (event.status === "InProgress" || event.status === "Pending") event.status = event.status === "Pending" ? "Skipped" : "Failed";
      d.errorInformation = { code: error.code, message: error.message };
      d.status = error.status;
    }
    d.completeTime = now();
  }

  /** Waits `minutes` on the scaled clock, halting on a stop and (once traffic shifts) on an alarm. */
  private async wait(d: Deployment, minutes: number, watchAlarms: boolean, until?: () => boolean): Promise<void> {
    const end = Date.now() + minutes * this.minuteMs;
    const tick = Math.max(2, Math.min(this.minuteMs / 10, 50));
    do {
      if (d.stop) throw new Halt("Stopped", "MANUAL_STOP", ERROR_MESSAGES.MANUAL_STOP, d.stop.rollback);
      const firing = watchAlarms ? d.group.alarms.filter((alarm) => this.alarmStates.get(alarm) === "ALARM") : [];
      if (firing.length > 0) throw new Halt("Stopped", "ALARM_ACTIVE", ERROR_MESSAGES.ALARM_ACTIVE(firing));
      if (until?.()) return;
      if (Date.now() >= end) return;
      await sleep(Math.min(tick, Math.max(1, end - Date.now())));
    } while (true);
  }

  private event(d: Deployment, name: LifecycleEventName): LifecycleEvent {
    return d.events.find((e) => e.lifecycleEventName === name)!;
  }

  private async hook(d: Deployment, name: "BeforeAllowTraffic" | "AfterAllowTraffic", watchAlarms: boolean): Promise<void> {
    const event = this.event(d, name);
    const fn = d.hooks[name];
    if (!fn) {
      event.status = "Skipped";
      return;
    }
    event.status = "InProgress";
    event.startTime = now();
    const executionId = randomUUID();
    d.hook = { executionId };
    const failed = (message: string): Halt => {
      event.status = "Failed";
      event.endTime = now();
      event.diagnostics = { errorCode: "UnknownError", message };
      return new Halt("Failed", "HEALTH_CONSTRAINTS", ERROR_MESSAGES.HEALTH_CONSTRAINTS);
    };
    let invokeError: string | undefined;
    Promise.resolve()
      .then(() => this.options.invokeHook(fn, { DeploymentId: d.id, LifecycleEventHookExecutionId: executionId }))
      .catch((error) => (invokeError = `The hook function ${fn} could not be invoked: ${(error as Error).message}`));
    const minutes = this.options.hookTimeoutMinutes ?? 60;
    await this.wait(d, minutes, watchAlarms, () => d.hook?.status !== undefined || invokeError !== undefined);
    if (invokeError) throw failed(invokeError);
    const status = d.hook.status;
    if (status === undefined) throw failed(`The ${name} hook ${fn} did not report a status within ${minutes} minutes.`);
    if (status !== "Succeeded") throw failed(`The ${name} hook ${fn} reported ${status}.`);
    event.status = "Succeeded";
    event.endTime = now();
  }

  private async shift(d: Deployment): Promise<void> {
    const routing = this.configs.get(d.configName)!;
    const event = this.event(d, "AllowTraffic");
    event.status = "InProgress";
    event.startTime = now();
    const setWeight = (weight: number) => {
      d.weight = weight;
      const { name, alias, current, target } = d.target;
      this.options.lambda.setAlias(name, alias, weight >= 1 ? { functionVersion: target, weights: {} } : { functionVersion: current, weights: { [target]: weight } });
    };
    if (routing.type !== "AllAtOnce") {
      const step = routing.percentage;
      const steps = routing.type === "TimeBasedCanary" ? [step] : Array.from({ length: Math.ceil(100 / step) - 1 }, (_, i) => (i + 1) * step);
      for (const percent of steps) {
        setWeight(percent / 100);
        await this.wait(d, routing.minutes, true);
      }
    }
    setWeight(1);
    await this.wait(d, 0, true);
    event.status = "Succeeded";
    event.endTime = now();
  }

  private info(d: Deployment) {
    return {
      applicationName: d.group.applicationName,
      deploymentGroupName: d.group.deploymentGroupName,
      deploymentConfigName: d.configName,
      deploymentId: d.id,
      revision: d.revision,
      status: d.status,
      computePlatform: "Lambda",
      creator: "user",
      createTime: d.createTime,
      ...(d.completeTime ? { completeTime: d.completeTime } : {}),
      ...(d.errorInformation ? { errorInformation: d.errorInformation } : {}),
      ...(d.rollbackMessage ? { rollbackInfo: { rollbackMessage: d.rollbackMessage } } : {}),
    };
  }

  private deploymentTarget(d: Deployment) {
    const { name, alias, current, target } = d.target;
    return {
      deploymentTargetType: "LambdaTarget",
      lambdaTarget: {
        deploymentId: d.id,
        targetId: `${name}:${alias}`,
        targetArn: `arn:aws:lambda:${this.options.lambda.region}:${this.options.lambda.accountId}:function:${name}:${alias}`,
        status: d.status === "Stopped" ? "Failed" : d.status,
        lifecycleEvents: d.events.map((e) => ({ ...e })),
        lambdaFunctionInfo: { functionName: name, functionAlias: alias, currentVersion: current, targetVersion: target, targetVersionWeight: d.weight },
      },
    };
  }

  private list(input: Record<string, any>) {
    if ((input.applicationName === undefined) !== (input.deploymentGroupName === undefined)) {
      throw new AwsError("InvalidInputException", "applicationName and deploymentGroupName go together.");
    }
    const group = input.applicationName === undefined ? undefined : this.group(input.applicationName, input.deploymentGroupName);
    const statuses: string[] | undefined = input.includeOnlyStatuses;
    const { start = 0, end = Infinity } = input.createTimeRange ?? {};
    const ids = [...this.deployments.values()]
      .filter((d) => (!group || d.group === group) && (!statuses || statuses.includes(d.status)) && d.createTime >= start && d.createTime <= end)
      .sort((a, b) => b.createTime - a.createTime)
      .map((d) => d.id);
    return { deployments: ids };
  }

  private stopDeployment(input: Record<string, any>) {
    const d = this.deployment(input.deploymentId);
    if (!ACTIVE_STATUSES.includes(d.status)) throw new AwsError("DeploymentAlreadyCompletedException", `The deployment ${d.id} has already completed.`);
    d.stop = { rollback: input.autoRollbackEnabled === true };
    return { status: "Pending", statusMessage: "Stopping Pending. Stopping to schedule commands in the deployment instances" };
  }

  private config(name: string) {
    const routing = this.configs.get(name);
    if (!routing) throw new AwsError("DeploymentConfigDoesNotExistException", `No deployment configuration found for name: ${name}`);
    const trafficRoutingConfig =
      routing.type === "AllAtOnce"
        ? { type: "AllAtOnce" }
        : routing.type === "TimeBasedCanary"
          ? { type: routing.type, timeBasedCanary: { canaryPercentage: routing.percentage, canaryInterval: routing.minutes } }
          : { type: routing.type, timeBasedLinear: { linearPercentage: routing.percentage, linearInterval: routing.minutes } };
    return { deploymentConfigInfo: { deploymentConfigName: name, computePlatform: "Lambda", trafficRoutingConfig } };
  }

  private report(input: Record<string, any>) {
    const d = this.deployment(input.deploymentId);
    if (!["Succeeded", "Failed"].includes(input.status)) throw new AwsError("InvalidLifecycleEventHookExecutionStatusException", `The status ${input.status} is not valid; report Succeeded or Failed.`);
    if (!d.hook || d.hook.executionId !== input.lifecycleEventHookExecutionId) {
      throw new AwsError("InvalidLifecycleEventHookExecutionIdException", `The lifecycle event hook execution ID ${input.lifecycleEventHookExecutionId} is not valid for deployment ${d.id}.`);
    }
    if (d.hook.status !== undefined || !ACTIVE_STATUSES.includes(d.status)) {
      throw new AwsError("LifecycleEventAlreadyCompletedException", `The lifecycle event of ${input.lifecycleEventHookExecutionId} has already completed.`);
    }
    d.hook.status = input.status;
    return { lifecycleEventHookExecutionId: input.lifecycleEventHookExecutionId };
  }
}
