import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { BUNDLING_DEFAULTS, BundlingOptions, bundleArchive, bundleHandlerCached, Bundle, HandlerWrapper, parseHandler, resolveHandlerFile } from "./bundling";
import { checkDeployment, createDeployment, DeploymentOutcome, DeploymentResources, hookWrapper } from "./deployment";
import {
  addedVariables, ARCHITECTURES, checkCallbackHandler, checkConcurrency, checkEnvironment, checkParameters, checkRuntime,
  environmentSizeProblem, LOG_LEVELS, ResolvedFunctionArgs, SecureFunctionArgs, withFunctionDefaults,
} from "./function-args";
import { createFunctionAlarms, roleStatements } from "./function-role-alarms";
import { NAME_LIMITS, parameterPath, physicalName } from "./naming";
import { checkPermissions, LAMBDA_ASSUME_ROLE_POLICY, policyDocument } from "./policy";
import { checkAsyncInvoke, checkedDestinations, createAsyncInvokeConfig } from "./async-invoke";
import { checkedKmsKey, checkKmsKeyArn } from "./kms";
import { checkTags, withTags } from "./tags";
import { componentType, withLegacyTypeAlias } from "./tokens";
import { LOG_RETENTION_DAYS, ProblemCollector, ResolvedArgumentChecks } from "./validation";

// The component; its arguments and their checks are in function-args.ts, its role
// statements and alarms in function-role-alarms.ts, re-exported here as before.
export { LambdaRuntime } from "./limits";
export { AsyncInvokeArgs, ASYNC_INVOKE_DEFAULTS } from "./async-invoke";
export { DeploymentArgs, DeploymentStrategy, DeploymentHookTarget, DeploymentOutcome } from "./deployment";
export {
  Architecture, ARCHITECTURES, checkCallbackHandler, checkRuntime, FunctionSettings, FunctionVpcArgs, LAMBDA_RUNTIMES, LOG_LEVELS, LogLevel,
  FUNCTION_TIMEOUT_VARIABLE, PARAMETERS_PATH_VARIABLE, SECURE_FUNCTION_DEFAULTS, SecureFunctionArgs, withFunctionDefaults,
} from "./function-args";
export { DURATION_ALARM_SHARE_OF_TIMEOUT } from "./function-role-alarms";

/** A validated function: its resolved arguments, bundling options and bundle. */
export interface PreparedFunction {
  args: ResolvedFunctionArgs;
  exportName: string;
  bundling: Required<BundlingOptions>;
  bundle: Bundle;
}

/**
 * Validates the arguments of the function `name` and bundles its handler, adding every
 * problem to `problems` under the path prefix `at`. Returns the prepared function when it
 * is valid.
 */
export function prepareFunction(name: string, input: SecureFunctionArgs, at: string, problems: ProblemCollector): PreparedFunction | undefined {
  const before = problems.problems.length;
  const args = withFunctionDefaults(input);
  const bundling = { ...BUNDLING_DEFAULTS, ...args.bundling };
  const path = (field: string) => (at ? `${at}.${field}` : field);

  checkRuntime(args.runtime, path("runtime"), problems);
  problems.oneOf(path("architecture"), args.architecture, ARCHITECTURES);
  problems.integerInRange(path("memorySize"), args.memorySize, 128, 10240, "MB");
  problems.integerInRange(path("timeout"), args.timeout, 1, 900, "seconds");
  problems.oneOf(path("logRetentionDays"), args.logRetentionDays, LOG_RETENTION_DAYS);
  problems.oneOf(path("logLevel"), args.logLevel, LOG_LEVELS);
  checkConcurrency(args, path, problems);
  checkEnvironment(args, addedVariables(name, args, bundling), path("environment"), problems);
  checkParameters(args, path, problems);
  checkPermissions(path("permissions"), args.permissions ?? [], problems);
  checkKmsKeyArn(path("kmsKeyArn"), args.kmsKeyArn, problems);
  checkTags(path("tags"), args.tags, problems);
  if (args.asyncInvoke) checkAsyncInvoke(args.asyncInvoke, path("asyncInvoke"), problems);
  if (args.deployment) {
    checkDeployment(args.deployment, args.disabled, path("deployment"), problems, (hook, at) => bundleFunctionHandler(hook, at, problems, bundling, hookWrapper()));
  }
  if (!/^(?!\d+$)[A-Za-z0-9_-]{1,128}$/.test(args.aliasName)) {
    problems.add(path("aliasName"), `${JSON.stringify(args.aliasName)} is not a valid alias name; use letters, digits, "-" and "_", not only digits, e.g. "live".`);
  }
  if (args.vpc) {
    for (const field of ["subnetIds", "securityGroupIds"] as const) {
      const ids = args.vpc[field];
      if (ids === undefined || (Array.isArray(ids) && ids.length === 0)) {
        problems.add(path(`vpc.${field}`), "is empty; give at least one id, or leave out `vpc` to run outside a VPC.");
      }
    }
  }

  const built = bundleFunctionHandler(args.handler, path("handler"), problems, bundling, handlerWrappers.get(input));
  if (!built) return undefined;
  checkCallbackHandler(args.handler, args.runtime, built.bundle.handlerParameters, path("handler"), problems);
  if (problems.problems.length > before) return undefined;
  return { args, bundling, ...built };
}

/**
 * Parses, finds and bundles `handler` (passed through `wrapper` when given), adding its
 * problem at `at`. Bundled even when other arguments are wrong, so a missing export or a
 * syntax error is reported in the same round as the other problems.
 */
function bundleFunctionHandler(handlerText: string, at: string, problems: ProblemCollector, bundling: Required<BundlingOptions>, wrapper?: HandlerWrapper): { exportName: string; bundle: Bundle } | undefined {
  const handler = parseHandler(typeof handlerText === "string" ? handlerText : "");
  if (!handler) {
    problems.add(at, `${JSON.stringify(handlerText)} is not "path/to/file.exportName"; write e.g. "handlers/orders/get-order.handler".`);
    return undefined;
  }
  const projectRoot = process.cwd();
  const entryFile = resolveHandlerFile(handler.modulePath, projectRoot);
  if (!entryFile) {
    problems.add(at, `no file ${JSON.stringify(handler.modulePath)} (.ts, .js, .mjs, ...) under ${projectRoot}; fix the path, relative to the project root.`);
    return undefined;
  }
  try {
    return { exportName: handler.exportName, bundle: bundleHandlerCached(entryFile, handler.exportName, projectRoot, bundling, wrapper) };
  } catch (error) {
    problems.add(at, `${(error as Error).message} Fix the handler ${JSON.stringify(handlerText)}.`);
    return undefined;
  }
}

/**
 * The wrapper of functions whose code is generated around the user's handler (deployment
 * hooks), by their args object: kept out of the args, which stay plain data.
 */
const handlerWrappers = new WeakMap<SecureFunctionArgs, HandlerWrapper>();

/**
 * `value`, failing the deployment when its secretness is not `mustBeSecret`. Secretness of
 * an Output is only known once it resolves, so plain strings are checked at construction
 * and Outputs here.
 */
function checkSecretness(checks: ResolvedArgumentChecks, path: string, value: pulumi.Input<string>, mustBeSecret: boolean): pulumi.Output<string> {
  const checked = checks.checked(path, value, (_, isSecret) => {
    if (mustBeSecret && !isSecret) return "is not a Pulumi secret; read it with config.requireSecret(...) or wrap it in pulumi.secret(...).";
    if (!mustBeSecret && isSecret) return "is a Pulumi secret; environment variables are visible in the Lambda console and API, so pass it in `secrets` instead.";
    return undefined;
  });
  return mustBeSecret ? pulumi.secret(checked) : checked;
}

/** The children of a SecureFunction. */
export interface SecureFunctionResources {
  function: aws.lambda.Function;
  role: aws.iam.Role;
  rolePolicy: aws.iam.RolePolicy;
  logGroup: aws.cloudwatch.LogGroup;
  parameters: aws.ssm.Parameter[];
  alias?: aws.lambda.Alias;
  provisionedConcurrencyConfig?: aws.lambda.ProvisionedConcurrencyConfig;
  asyncInvokeConfig?: aws.lambda.FunctionEventInvokeConfig;
  alarms: aws.cloudwatch.MetricAlarm[];
  deployment?: DeploymentResources;
}

/** Creates the children of a prepared function, in the order they depend on each other. */
export function createSecureFunction(name: string, prepared: PreparedFunction, parent: pulumi.Resource): SecureFunctionResources {
  const { args, bundle, bundling, exportName } = prepared;
  const opts = { parent };
  const checks = new ResolvedArgumentChecks("SecureFunction", name, parent);
  const functionName = physicalName(name, NAME_LIMITS.lambdaFunction);
  const path = parameterPath(name);
  const kmsKey = checkedKmsKey(checks, "kmsKeyArn", args.kmsKeyArn);

  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
    name: `/aws/lambda/${functionName}`,
    retentionInDays: args.logRetentionDays,
    kmsKeyId: kmsKey,
  }, opts);

  const parameters = [
    ...Object.entries(args.parameters ?? {}).map(([key, value]) =>
      new aws.ssm.Parameter(`${name}-parameter-${key}`, { name: `${path}/${key}`, type: "String", tier: "Standard", value }, opts)),
    ...Object.entries(args.secrets ?? {}).map(([key, value]) =>
      new aws.ssm.Parameter(`${name}-secret-${key}`, {
        name: `${path}/${key}`,
        type: "SecureString",
        tier: "Standard",
        keyId: kmsKey,
        value: checkSecretness(checks, `secrets.${key}`, value, true),
      }, opts)),
  ];

  const role = new aws.iam.Role(`${name}-role`, {
    name: physicalName(name, NAME_LIMITS.iamRole),
    description: `Execution role of the Lambda function ${functionName}`,
    assumeRolePolicy: LAMBDA_ASSUME_ROLE_POLICY,
  }, opts);
  const statements = roleStatements(args, logGroup, parameters, kmsKey, checks);
  const destinations = checkedDestinations(args.asyncInvoke, checks);
  const rolePolicy = new aws.iam.RolePolicy(`${name}-policy`, {
    role: role.id,
    // A destination's action depends on its service, known once its ARN resolves.
    policy: pulumi.all(destinations.map(({ statement }) => statement)).apply((sendStatements) => policyDocument([...statements, ...sendStatements])),
  }, opts);

  const added = addedVariables(name, args, bundling);
  const environment: Record<string, pulumi.Input<string>> = {
    ...Object.fromEntries(Object.entries(args.environment ?? {}).map(([key, value]) =>
      [key, typeof value === "string" ? value : checkSecretness(checks, `environment.${key}`, value, false)])),
    ...added,
  };
  const variables = Object.values(environment).every((value) => typeof value === "string")
    ? environment
    : checks.checked("environment", pulumi.all(environment), (resolved) => environmentSizeProblem(resolved, added));
  const deployment = args.deployment;
  // A deployment needs the alias even without provisioned concurrency: CodeDeploy shifts it.
  const useAlias = args.provisionedConcurrency > 0 || deployment !== undefined;

  const fn = new aws.lambda.Function(name, {
    name: functionName,
    description: args.description,
    // The role is handed over only once its policy exists, so the first invocations
    // never run without their permissions.
    role: pulumi.all([role.arn, rolePolicy.id]).apply(([arn]) => arn),
    runtime: args.runtime,
    architectures: [args.architecture],
    handler: `index.${exportName}`,
    code: bundleArchive(bundle),
    memorySize: args.memorySize,
    timeout: args.timeout,
    reservedConcurrentExecutions: args.disabled ? 0 : args.reservedConcurrency,
    publish: useAlias,
    environment: Object.keys(environment).length > 0 ? { variables } : undefined,
    // Lambda decrypts the variables through a grant it takes on the key for the role.
    kmsKeyArn: Object.keys(environment).length > 0 ? kmsKey : undefined,
    tracingConfig: { mode: args.tracing ? "Active" : "PassThrough" },
    loggingConfig: { logFormat: "JSON", logGroup: logGroup.name, applicationLogLevel: args.logLevel, systemLogLevel: "WARN" },
    vpcConfig: args.vpc ? { subnetIds: args.vpc.subnetIds, securityGroupIds: args.vpc.securityGroupIds } : undefined,
  }, { parent, dependsOn: [logGroup, ...parameters] });

  let alias: aws.lambda.Alias | undefined;
  let provisionedConcurrencyConfig: aws.lambda.ProvisionedConcurrencyConfig | undefined;
  if (useAlias) {
    // With a deployment the alias is created at the first version and CodeDeploy moves it
    // from then on: were Pulumi to move it too, it would undo a canary or a rollback.
    alias = new aws.lambda.Alias(`${name}-alias`, {
      name: args.aliasName,
      functionName: fn.name,
      functionVersion: fn.version,
    }, deployment ? { parent, ignoreChanges: ["functionVersion", "routingConfig"] } : opts);
    if (args.provisionedConcurrency > 0) {
      // With a deployment, on the version: each new version's config is READY before the
      // runner shifts traffic, and the old one is deleted only at the end of the update.
      provisionedConcurrencyConfig = new aws.lambda.ProvisionedConcurrencyConfig(`${name}-provisioned`, {
        functionName: fn.name,
        qualifier: deployment ? fn.version : alias.name,
        provisionedConcurrentExecutions: args.provisionedConcurrency,
      }, opts);
    }
  }

  const asyncInvokeConfig = args.asyncInvoke && createAsyncInvokeConfig(name, args.asyncInvoke, destinations, fn, alias, rolePolicy, parent);
  const alarms = createFunctionAlarms(name, fn, args, parent);
  const deploymentResources = deployment && createDeployment(name, deployment, {
    fn, alias: alias!, provisionedConcurrencyConfig,
    functionAlarms: [alarms[0], alarms[2]], // errors and duration: throttles are no sign of a bad version
    timeout: args.timeout, logRetentionDays: args.logRetentionDays, alarmActions: args.alarmActions, kmsKeyArn: kmsKey, bundling,
  }, parent, (childName, childArgs, wrapper) => {
    if (wrapper) handlerWrappers.set(childArgs, wrapper);
    return new SecureFunction(childName, childArgs, { parent });
  });
  return { function: fn, role, rolePolicy, logGroup, parameters, alias, provisionedConcurrencyConfig, asyncInvokeConfig, alarms, deployment: deploymentResources };
}


/**
 * One Lambda function done right: bundled code, its own least-privilege role, a log
 * group with retention, X-Ray, alarms, Parameter Store configuration and secrets, and
 * reserved and provisioned concurrency (through an alias).
 */
export class SecureFunction extends pulumi.ComponentResource {
  /** The Lambda function. */
  readonly function: aws.lambda.Function;
  /** The function's own execution role. */
  readonly role: aws.iam.Role;
  /** The role's one inline, least-privilege policy. */
  readonly rolePolicy: aws.iam.RolePolicy;
  /** The function's log group, with retention. */
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** The String and SecureString parameters, in that order. */
  readonly parameters: aws.ssm.Parameter[];
  /** The alias callers invoke, when the function has provisioned concurrency. */
  readonly alias?: aws.lambda.Alias;
  /** The provisioned concurrency on the alias, when there is any. */
  readonly provisionedConcurrencyConfig?: aws.lambda.ProvisionedConcurrencyConfig;
  /** Retries, event age and destinations of asynchronous invocations, when `asyncInvoke` is set. */
  readonly asyncInvokeConfig?: aws.lambda.FunctionEventInvokeConfig;
  /** Errors, throttles and p99 duration alarms. */
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  /** The CodeDeploy application, when `deployment` is set. */
  readonly deploymentApplication?: aws.codedeploy.Application;
  /** The deployment group that shifts the alias and rolls back on alarm, when `deployment` is set. */
  readonly deploymentGroup?: aws.codedeploy.DeploymentGroup;
  /** CodeDeploy's service role, when `deployment` is set. */
  readonly deploymentRole?: aws.iam.Role;
  /** The runner's invocation that starts each deployment, when `deployment` is set. */
  readonly deploymentInvocation?: aws.lambda.Invocation;
  /**
   * What the last `pulumi up` deployed: `Skipped` (nothing to shift), `Succeeded`, or
   * `InProgress` with the deployment id and a command that follows it (`waitForCompletion: false`).
   */
  readonly deployment?: pulumi.Output<DeploymentOutcome>;
  /** The function's ARN (unqualified). */
  readonly arn: pulumi.Output<string>;
  /** The function's physical name. */
  readonly name: pulumi.Output<string>;
  /** The invoke ARN for API Gateway: the alias's when there is one. */
  readonly invokeArn: pulumi.Output<string>;
  /** What callers invoke: the alias ARN when there is one, else the function ARN. */
  readonly targetArn: pulumi.Output<string>;
  /** The alias name callers must name as qualifier, when there is an alias. */
  readonly qualifier: pulumi.Output<string> | undefined;
  /** The Parameter Store path of the function's parameters and secrets. */
  readonly parameterPath: pulumi.Output<string>;
  /** Size of the bundled code, in bytes. */
  readonly bundleBytes: number;

  constructor(name: string, args: SecureFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = new ProblemCollector();
    const prepared = prepareFunction(name, args, "", problems);
    problems.throwIfAny("SecureFunction", name);
    super(componentType("SecureFunction"), name, {}, withTags("SecureFunction", name, args.tags, withLegacyTypeAlias("SecureFunction", opts)));

    const children = createSecureFunction(name, prepared!, this);
    this.function = children.function;
    this.role = children.role;
    this.rolePolicy = children.rolePolicy;
    this.logGroup = children.logGroup;
    this.parameters = children.parameters;
    this.alias = children.alias;
    this.provisionedConcurrencyConfig = children.provisionedConcurrencyConfig;
    this.asyncInvokeConfig = children.asyncInvokeConfig;
    this.alarms = children.alarms;
    if (children.deployment) {
      deployments.set(this, children.deployment);
      this.deploymentApplication = children.deployment.application;
      this.deploymentGroup = children.deployment.group;
      this.deploymentRole = children.deployment.role;
      this.deploymentInvocation = children.deployment.invocation;
      this.deployment = children.deployment.result;
    }
    this.arn = this.function.arn;
    this.name = this.function.name;
    this.invokeArn = this.alias ? this.alias.invokeArn : this.function.invokeArn;
    this.targetArn = this.alias ? this.alias.arn : this.function.arn;
    this.qualifier = this.alias?.name;
    this.parameterPath = pulumi.output(parameterPath(name));
    this.bundleBytes = prepared!.bundle.bytes;
    // `handler` and `bundling` say which source the code was built from and how, so tools
    // that read the registered resources (the local runtime) can rebuild it exactly.
    this.registerOutputs({
      arn: this.arn, name: this.name, invokeArn: this.invokeArn, parameterPath: this.parameterPath,
      handler: args.handler, bundling: prepared!.bundling,
      ...(this.deployment ? { deployment: this.deployment } : {}),
    });
  }

  /** Every child of the deployment, hooks and runner included, when `deployment` is set (TypeScript only). */
  get deploymentResources(): DeploymentResources | undefined {
    return deployments.get(this);
  }
}

/** The deployment children of each function, outside the class as ServerlessApi keeps its route functions. */
const deployments = new WeakMap<SecureFunction, DeploymentResources>();
