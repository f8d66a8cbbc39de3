import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { DURATION_ALARM_SHARE_OF_TIMEOUT } from "./function-role-alarms";
import { HandlerWrapper, resolveHandlerFile } from "./bundling";
import { CODEDEPLOY_LAMBDA } from "./limits";
import { NAME_LIMITS, physicalName } from "./naming";
import { PermissionStatement, policyDocument } from "./policy";
import { ProblemCollector } from "./validation";
import { DeploymentRequest, DeploymentResult, HOOK_ACTIONS, HOOK_ENVIRONMENT, LifecycleEvent, RUNNER_ACTIONS, RUNNER_STOP_MARGIN_SECONDS } from "./deployment-runtime/contract";
import type { BundlingOptions } from "./bundling";
import type { SecureFunction, SecureFunctionArgs } from "./secure-function";

export { DeploymentHookTarget } from "./deployment-runtime/contract";

/**
 * The runner's answer as SecureFunction outputs it: {@link DeploymentResult} with `status`
 * as a plain string (`Skipped`, `Succeeded` or `InProgress`), as Pulumi's schema has no
 * literal unions.
 */
export interface DeploymentOutcome {
  status: string;
  deploymentId?: string;
  follow?: string;
}

/** How CodeDeploy moves the alias's traffic to a new version. */
export const DeploymentStrategy = {
  /** All traffic at once (CodeDeploy's `LambdaAllAtOnce`), still with hooks and alarm rollback. */
  AllAtOnce: "allAtOnce",
  /** `percentage` of the traffic for `minutes`, then the rest. */
  Canary: "canary",
  /** `percentage` more of the traffic every `intervalMinutes`. */
  Linear: "linear",
} as const;
export type DeploymentStrategy = (typeof DeploymentStrategy)[keyof typeof DeploymentStrategy];
export const DEPLOYMENT_STRATEGIES: readonly DeploymentStrategy[] = Object.values(DeploymentStrategy);

/** A safe deployment of each new version of a function, run by CodeDeploy on its alias. */
export interface DeploymentArgs {
  /** `allAtOnce`, `canary` (with `percentage` and `minutes`) or `linear` (with `percentage` and `intervalMinutes`). */
  strategy: DeploymentStrategy;
  /** The share of traffic per step, a whole percentage 1-99 (canary and linear). */
  percentage?: number;
  /** Canary: how long the new version takes `percentage` of the traffic before it takes all, in minutes (1-2880). */
  minutes?: number;
  /** Linear: the minutes between two steps (1-2880). */
  intervalMinutes?: number;
  /**
   * A check run before the new version takes any traffic, `path/to/file.exportName`: an
   * `async (target: DeploymentHookTarget) => void` that throws to fail the deployment. It
   * is bundled into its own function, which may invoke only the function being deployed.
   */
  beforeTraffic?: string;
  /** A check run once the new version takes all the traffic, written as `beforeTraffic`. */
  afterTraffic?: string;
  /**
   * More CloudWatch alarm names that roll the deployment back, besides the function's own
   * errors and duration alarms (at most 6: a deployment group watches 10 alarms).
   * @default []
   */
  alarms?: pulumi.Input<string>[];
  /**
   * Whether `pulumi up` waits for the deployment to end (and fails when it rolls back). The
   * strategy must then end within the runner's 900 s. false: `pulumi up` starts it and
   * prints how to follow it (SecureFunction's `deployment` output).
   * @default true
   */
  waitForCompletion?: boolean;
}

export const DEPLOYMENT_DEFAULTS = { waitForCompletion: true } as const;

/** Each hook function's timeout, in seconds. */
export const HOOK_TIMEOUT_SECONDS = 60;
/** The runner's timeout: Lambda's maximum. */
export const RUNNER_TIMEOUT_SECONDS = 900;
/** What a waiting runner has for a deployment: its timeout, less the margin it keeps to stop one with rollback. */
export const WAIT_BUDGET_SECONDS = RUNNER_TIMEOUT_SECONDS - RUNNER_STOP_MARGIN_SECONDS;
/** What a waited-for deployment takes besides shifting and hooks: creating it, polling its status. */
export const DEPLOYMENT_OVERHEAD_SECONDS = 60;
/** The alarms every deployment group watches: the function's errors and duration, and the new version's. */
export const OWN_ROLLBACK_ALARMS = 4;

const FIELDS_OF: Record<DeploymentStrategy, readonly string[]> = {
  allAtOnce: [],
  canary: ["percentage", "minutes"],
  linear: ["percentage", "intervalMinutes"],
};
const COMMON_FIELDS = ["strategy", "beforeTraffic", "afterTraffic", "alarms", "waitForCompletion"];
const STEP_FIELDS = ["percentage", "minutes", "intervalMinutes"] as const;

/**
 * How long the traffic shifting takes, in seconds. A linear deployment is counted as
 * ceil(100 / percentage) intervals: an upper bound of CodeDeploy's steps and waits.
 */
export function shiftingSeconds(deployment: DeploymentArgs): number {
  if (deployment.strategy === "canary") return (deployment.minutes ?? 0) * 60;
  if (deployment.strategy === "linear") return Math.ceil(100 / (deployment.percentage ?? 100)) * (deployment.intervalMinutes ?? 0) * 60;
  return 0;
}

/** The longest a waited-for deployment may take: shifting, each hook's timeout, and the overhead. */
export function deploymentSeconds(deployment: DeploymentArgs): number {
  const hooks = [deployment.beforeTraffic, deployment.afterTraffic].filter(Boolean).length;
  return shiftingSeconds(deployment) + hooks * HOOK_TIMEOUT_SECONDS + DEPLOYMENT_OVERHEAD_SECONDS;
}

/** The predefined CodeDeploy config of a strategy, or undefined when it needs a custom one. */
export function predefinedConfig(deployment: DeploymentArgs): string | undefined {
  if (deployment.strategy === "allAtOnce") return CODEDEPLOY_LAMBDA.allAtOnce;
  const minutes = deployment.strategy === "canary" ? deployment.minutes : deployment.intervalMinutes;
  return CODEDEPLOY_LAMBDA[deployment.strategy][`${deployment.percentage}:${minutes}`];
}

/**
 * Checks `deployment` (at `at`), adding every problem to `problems`; `checkHook` validates
 * and bundles a hook handler the way a function's handler is.
 */
export function checkDeployment(deployment: DeploymentArgs, disabled: boolean | undefined, at: string, problems: ProblemCollector, checkHook: (handler: string, at: string) => void): void {
  const before = problems.problems.length;
  if (typeof deployment !== "object" || Array.isArray(deployment)) {
    problems.add(at, `${JSON.stringify(deployment)} is not a deployment; write e.g. { strategy: "canary", percentage: 10, minutes: 5 }.`);
    return;
  }
  if (disabled) problems.add(at, "is set with disabled: true; a switched-off function has no traffic to shift. Remove one of them.");
  const strategy = deployment.strategy;
  if (strategy === undefined) {
    problems.add(`${at}.strategy`, `is required; use one of ${DEPLOYMENT_STRATEGIES.map((choice) => JSON.stringify(choice)).join(", ")}, e.g. { strategy: "allAtOnce" }.`);
  } else if (!DEPLOYMENT_STRATEGIES.includes(strategy)) {
    problems.oneOf(`${at}.strategy`, strategy, DEPLOYMENT_STRATEGIES);
  } else {
    const needs = FIELDS_OF[strategy];
    for (const field of STEP_FIELDS) {
      const value = deployment[field];
      if (!needs.includes(field)) {
        if (value !== undefined) problems.add(`${at}.${field}`, `does not apply to strategy ${JSON.stringify(strategy)}${needs.length ? `, which takes ${needs.join(" and ")}` : ""}; remove it.`);
      } else if (value === undefined) {
        problems.add(`${at}.${field}`, `is required by strategy ${JSON.stringify(strategy)}; set it, e.g. ${strategy === "canary" ? "percentage: 10, minutes: 5" : "percentage: 10, intervalMinutes: 1"}.`);
      } else if (field === "percentage") {
        problems.integerInRange(`${at}.${field}`, value, CODEDEPLOY_LAMBDA.percentage.min, CODEDEPLOY_LAMBDA.percentage.max, "percent");
      } else {
        problems.integerInRange(`${at}.${field}`, value, CODEDEPLOY_LAMBDA.minutes.min, CODEDEPLOY_LAMBDA.minutes.max, "minutes");
      }
    }
  }
  for (const key of Object.keys(deployment)) {
    if (!COMMON_FIELDS.includes(key) && !(STEP_FIELDS as readonly string[]).includes(key)) {
      problems.add(`${at}.${key}`, `is not a deployment setting; use ${[...COMMON_FIELDS, ...STEP_FIELDS].join(", ")}.`);
    }
  }
  for (const hook of ["beforeTraffic", "afterTraffic"] as const) {
    const handler = deployment[hook];
    if (handler !== undefined) checkHook(handler, `${at}.${hook}`);
  }
  const alarms = deployment.alarms ?? [];
  if (!Array.isArray(alarms)) {
    problems.add(`${at}.alarms`, "is not a list; give alarm names, e.g. [alarm.name].");
  } else {
    const room = CODEDEPLOY_LAMBDA.alarmsPerGroup - OWN_ROLLBACK_ALARMS;
    if (alarms.length > room) problems.add(`${at}.alarms`, `has ${alarms.length} alarms; a deployment group watches ${CODEDEPLOY_LAMBDA.alarmsPerGroup}, ${OWN_ROLLBACK_ALARMS} of them the function's own, so give at most ${room} (combine more with a composite alarm).`);
    alarms.forEach((alarm, index) => {
      if (typeof alarm === "string" ? alarm.trim() === "" : alarm === undefined || alarm === null) {
        problems.add(`${at}.alarms[${index}]`, `${JSON.stringify(alarm)} is not an alarm name; give the name of a CloudWatch alarm, e.g. alarm.name.`);
      }
    });
  }
  const wait = deployment.waitForCompletion ?? DEPLOYMENT_DEFAULTS.waitForCompletion;
  if (typeof wait !== "boolean") problems.add(`${at}.waitForCompletion`, `${JSON.stringify(wait)} is not true or false.`);
  // Timed only once the steps themselves are valid.
  if (wait === true && problems.problems.length === before) {
    const seconds = deploymentSeconds(deployment);
    if (seconds > WAIT_BUDGET_SECONDS) {
      problems.add(`${at}.waitForCompletion`, `is true, but the deployment may take ${seconds} s (${shiftingSeconds(deployment)} s of shifting, ${HOOK_TIMEOUT_SECONDS} s per hook, ${DEPLOYMENT_OVERHEAD_SECONDS} s to start and watch it), above the ${WAIT_BUDGET_SECONDS} s a waiting runner has (its ${RUNNER_TIMEOUT_SECONDS} s less ${RUNNER_STOP_MARGIN_SECONDS} s to stop it with rollback); set waitForCompletion: false (pulumi up starts it and prints how to follow it) or shorten the strategy.`);
    }
  }
}

/** Where the runtime code of the runner and the hooks lives (beside this file, as .ts or compiled .js). */
const RUNTIME_DIR = path.join(__dirname, "deployment-runtime");

/** The runner's handler, absolute (handlers may be). */
export function runnerHandler(): string {
  return `${resolveHandlerFile(path.join(RUNTIME_DIR, "runner"), RUNTIME_DIR)!.replace(/\.[cm]?[jt]s$/, "")}.handler`;
}

/** The wrapper a hook's check is bundled with. */
export function hookWrapper(): HandlerWrapper {
  return { file: resolveHandlerFile(path.join(RUNTIME_DIR, "hook"), RUNTIME_DIR)!, exportName: "deploymentHookHandler" };
}

/** What a deployment is built around: the function's children it deploys and watches. */
export interface DeployedFunction {
  fn: aws.lambda.Function;
  alias: aws.lambda.Alias;
  /** The new version's provisioned concurrency: the runner waits for it. */
  provisionedConcurrencyConfig?: aws.lambda.ProvisionedConcurrencyConfig;
  /** The function-wide errors and duration alarms. */
  functionAlarms: aws.cloudwatch.MetricAlarm[];
  timeout: number;
  logRetentionDays: number;
  alarmActions?: pulumi.Input<pulumi.Input<string>[]>;
  /** The function's key, which encrypts the hooks' and the runner's logs and environments too. */
  kmsKeyArn?: pulumi.Input<string>;
  bundling: Required<BundlingOptions>;
}

/** The children of a deployment. */
export interface DeploymentResources {
  application: aws.codedeploy.Application;
  /** The custom config, when the strategy is not one of CodeDeploy's predefined ones. */
  config?: aws.codedeploy.DeploymentConfig;
  configName: pulumi.Output<string>;
  group: aws.codedeploy.DeploymentGroup;
  role: aws.iam.Role;
  rolePolicy: aws.iam.RolePolicy;
  /** The new version's errors and duration alarms. */
  versionAlarms: aws.cloudwatch.MetricAlarm[];
  hooks: Partial<Record<LifecycleEvent, SecureFunction>>;
  runner: SecureFunction;
  invocation: aws.lambda.Invocation;
  /** What the runner answered. */
  result: pulumi.Output<DeploymentOutcome>;
}

/** The statements granting `actions` (action to resource kind), one per kind, on the resources of that kind. */
function grants<K extends string>(actions: Record<string, K>, resources: Record<K, pulumi.Input<string>[]>): PermissionStatement[] {
  const byKind = new Map<K, string[]>();
  for (const [action, kind] of Object.entries(actions) as [string, K][]) byKind.set(kind, [...(byKind.get(kind) ?? []), action]);
  return [...byKind].map(([kind, granted]) => ({ actions: granted, resources: resources[kind] }));
}

const CODEDEPLOY_ASSUME_ROLE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "codedeploy.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/**
 * Creates the CodeDeploy application, config, group and service role of the function
 * `name`, its hooks, and the runner with the Invocation that starts a deployment whenever
 * a new version is published or the strategy changes. `create` makes a SecureFunction
 * (passed in, as secure-function.ts imports this module).
 */
export function createDeployment(
  name: string,
  deployment: DeploymentArgs,
  target: DeployedFunction,
  parent: pulumi.Resource,
  create: (name: string, args: SecureFunctionArgs, wrapper?: HandlerWrapper) => SecureFunction,
): DeploymentResources {
  const opts = { parent };
  const { fn, alias } = target;
  const partition = aws.getPartitionOutput({}, opts).partition;
  const region = aws.getRegionOutput({}, opts).region;
  const account = aws.getCallerIdentityOutput({}, opts).accountId;
  const codedeployArn = (resource: pulumi.Input<string>) => pulumi.interpolate`arn:${partition}:codedeploy:${region}:${account}:${resource}`;
  const alarmArn = (alarmName: pulumi.Input<string>) => pulumi.interpolate`arn:${partition}:cloudwatch:${region}:${account}:alarm:${alarmName}`;
  const wait = deployment.waitForCompletion ?? DEPLOYMENT_DEFAULTS.waitForCompletion;

  const applicationName = physicalName(name, CODEDEPLOY_LAMBDA.nameLength);
  const groupName = physicalName(name, CODEDEPLOY_LAMBDA.nameLength);
  const application = new aws.codedeploy.Application(`${name}-deployments`, { name: applicationName, computePlatform: "Lambda" }, opts);

  const predefined = predefinedConfig(deployment);
  let config: aws.codedeploy.DeploymentConfig | undefined;
  if (!predefined) {
    const canary = deployment.strategy === "canary";
    const step = { percentage: deployment.percentage!, interval: canary ? deployment.minutes! : deployment.intervalMinutes! };
    // Named from its content: another strategy is another config (a config cannot change).
    config = new aws.codedeploy.DeploymentConfig(`${name}-deployment-config`, {
      deploymentConfigName: physicalName(`${name}-${deployment.strategy}-${step.percentage}pct-${step.interval}min`, CODEDEPLOY_LAMBDA.nameLength),
      computePlatform: "Lambda",
      trafficRoutingConfig: canary ? { type: "TimeBasedCanary", timeBasedCanary: step } : { type: "TimeBasedLinear", timeBasedLinear: step },
    }, opts);
  }
  const configName = config ? config.deploymentConfigName : pulumi.output(predefined!);

  // The new version's own metrics (alias invocations carry ExecutedVersion), so the old
  // version's errors do not roll back a canary that is fine.
  const versionMetric = { namespace: "AWS/Lambda", dimensions: { FunctionName: fn.name, Resource: pulumi.interpolate`${fn.name}:${alias.name}`, ExecutedVersion: fn.version } };
  const actions = target.alarmActions ?? [];
  const versionAlarms = [
    createAlarm(`${name}-version-errors`, {
      ...versionMetric,
      description: `${name}: the version being deployed reported errors (rolls the deployment back).`,
      metricName: "Errors", statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
    }, actions, parent),
    createAlarm(`${name}-version-duration`, {
      ...versionMetric,
      description: `${name}: the version being deployed reached ${DURATION_ALARM_SHARE_OF_TIMEOUT * 100}% of the ${target.timeout} s timeout at p99 (rolls the deployment back).`,
      metricName: "Duration", extendedStatistic: "p99", period: 60, evaluationPeriods: 1, threshold: Math.round(target.timeout * 1000 * DURATION_ALARM_SHARE_OF_TIMEOUT),
    }, actions, parent),
  ];
  const rollbackAlarms: pulumi.Input<string>[] = [...target.functionAlarms, ...versionAlarms].map((alarm) => alarm.name);
  rollbackAlarms.push(...(deployment.alarms ?? []));

  const role = new aws.iam.Role(`${name}-deploy-role`, {
    name: physicalName(`${name}-deploy`, NAME_LIMITS.iamRole),
    description: `CodeDeploy's service role for the deployments of ${name}`,
    assumeRolePolicy: CODEDEPLOY_ASSUME_ROLE_POLICY,
  }, opts);
  const group = new aws.codedeploy.DeploymentGroup(`${name}-deployment-group`, {
    appName: application.name,
    deploymentGroupName: groupName,
    serviceRoleArn: role.arn,
    deploymentConfigName: configName,
    deploymentStyle: { deploymentOption: "WITH_TRAFFIC_CONTROL", deploymentType: "BLUE_GREEN" },
    autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
    alarmConfiguration: { enabled: true, alarms: rollbackAlarms },
  }, opts);
  const groupArn = codedeployArn(`deploymentgroup:${applicationName}/${groupName}`);

  const hooks: Partial<Record<LifecycleEvent, SecureFunction>> = {};
  for (const [event, handler] of [["BeforeAllowTraffic", deployment.beforeTraffic], ["AfterAllowTraffic", deployment.afterTraffic]] as const) {
    if (handler === undefined) continue;
    hooks[event] = create(`${name}-${event === "BeforeAllowTraffic" ? "before" : "after"}-traffic`, {
      handler,
      description: `${event} check of ${name}'s deployments`,
      timeout: HOOK_TIMEOUT_SECONDS,
      memorySize: 256,
      logRetentionDays: target.logRetentionDays,
      alarmActions: target.alarmActions,
      kmsKeyArn: target.kmsKeyArn,
      bundling: target.bundling,
      environment: {
        [HOOK_ENVIRONMENT.functionName]: fn.name,
        [HOOK_ENVIRONMENT.aliasName]: alias.name,
        [HOOK_ENVIRONMENT.targetVersion]: fn.version,
        [HOOK_ENVIRONMENT.lifecycleEvent]: event,
      },
      permissions: grants(HOOK_ACTIONS, { function: [fn.arn, pulumi.interpolate`${fn.arn}:*`], deploymentGroup: [groupArn] }),
    }, hookWrapper());
  }
  const hookFunctions = Object.values(hooks);

  // What CodeDeploy's AWS managed policy for Lambda grants, scoped to this function, its hooks and its alarms.
  const statements: (PermissionStatement & { sid: string })[] = [
    { sid: "ShiftOwnAlias", actions: ["lambda:GetAlias", "lambda:UpdateAlias"], resources: [alias.arn] },
    { sid: "ReadOwnProvisionedConcurrency", actions: ["lambda:GetProvisionedConcurrencyConfig"], resources: [fn.arn, pulumi.interpolate`${fn.arn}:*`] },
    { sid: "WatchRollbackAlarms", actions: ["cloudwatch:DescribeAlarms"], resources: rollbackAlarms.map(alarmArn) },
  ];
  if (hookFunctions.length > 0) {
    statements.push({ sid: "InvokeOwnHooks", actions: ["lambda:InvokeFunction"], resources: hookFunctions.flatMap((hook) => [hook.arn, pulumi.interpolate`${hook.arn}:*`]) });
  }
  const rolePolicy = new aws.iam.RolePolicy(`${name}-deploy-policy`, { role: role.id, policy: policyDocument(statements) }, opts);

  const runner = create(`${name}-deployer`, {
    handler: runnerHandler(),
    description: `Runs the CodeDeploy deployments of ${name}`,
    timeout: RUNNER_TIMEOUT_SECONDS,
    memorySize: 256,
    logRetentionDays: target.logRetentionDays,
    alarmActions: target.alarmActions,
    kmsKeyArn: target.kmsKeyArn,
    permissions: grants(RUNNER_ACTIONS, {
      function: [fn.arn, alias.arn],
      deploymentGroup: [groupArn],
      deploymentConfig: [codedeployArn(pulumi.interpolate`deploymentconfig:${configName}`)],
      application: [codedeployArn(`application:${applicationName}`)],
    }),
  });

  const request: Record<keyof DeploymentRequest, pulumi.Input<string | boolean> | undefined> = {
    applicationName: application.name,
    deploymentGroupName: group.deploymentGroupName,
    functionName: fn.name,
    aliasName: alias.name,
    targetVersion: fn.version,
    beforeTrafficHook: hooks.BeforeAllowTraffic?.name,
    afterTrafficHook: hooks.AfterAllowTraffic?.name,
    waitForCompletion: wait,
  };
  // Runs when a version is published or the strategy changes; then CodeDeploy, not Pulumi, moves the alias.
  const invocation = new aws.lambda.Invocation(`${name}-deployment`, {
    functionName: runner.name,
    input: pulumi.all(request).apply((resolved) => JSON.stringify(Object.fromEntries(Object.entries(resolved).filter(([, value]) => value !== undefined)))),
    triggers: { version: fn.version, deploymentConfig: configName },
  }, {
    parent,
    dependsOn: [group, rolePolicy, ...hookFunctions, ...(target.provisionedConcurrencyConfig ? [target.provisionedConcurrencyConfig] : [])],
  });
  const result = invocation.result.apply((text): DeploymentOutcome => JSON.parse(text) as DeploymentResult);
  if (!wait) {
    result.apply((answer) => {
      if (answer.status === "InProgress") pulumi.log.info(`${name}: CodeDeploy deployment ${answer.deploymentId} is shifting traffic; follow it with: ${answer.follow}`, parent);
    });
  }
  return { application, config, configName, group, role, rolePolicy, versionAlarms, hooks, runner, invocation, result };
}
