import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { BUNDLING_DEFAULTS, BundlingOptions, bundleArchive, bundleHandlerCached, Bundle, HandlerWrapper, parseHandler, resolveHandlerFile } from "./bundling";
import { checkDeployment, createDeployment, DeploymentArgs, DeploymentOutcome, DeploymentResources, hookWrapper } from "./deployment";
import { LambdaRuntime, NODEJS_RUNTIMES, supportedRuntimes } from "./limits";
import { NAME_LIMITS, parameterPath, physicalName } from "./naming";
import { ACTIONS_WITHOUT_RESOURCE_LEVEL, checkPermissions, LAMBDA_ASSUME_ROLE_POLICY, PermissionStatement, policyDocument, wildcardResourceProblem } from "./policy";
import { AsyncInvokeArgs, checkAsyncInvoke, checkedDestinations, createAsyncInvokeConfig } from "./async-invoke";
import { checkedKmsKey, checkKmsKeyArn, KMS_READ_ACTIONS } from "./kms";
import { checkTags, TaggableArgs, withTags } from "./tags";
import { componentType, withLegacyTypeAlias } from "./tokens";
import { LOG_RETENTION_DAYS, ProblemCollector, ResolvedArgumentChecks, withoutUndefined } from "./validation";

// Choices are `as const` objects with a type of the same name: TypeScript users write the
// plain string ("nodejs22.x"), and Pulumi's schema analyzer turns them into enums for the
// other languages (it refuses bare literal unions).

export { LambdaRuntime };
export { AsyncInvokeArgs, ASYNC_INVOKE_DEFAULTS } from "./async-invoke";
export { DeploymentArgs, DeploymentStrategy, DeploymentHookTarget, DeploymentOutcome } from "./deployment";

/** The instruction set a function runs on. */
export const Architecture = {
  /** Graviton: about 20% less per GB-second. */
  Arm64: "arm64",
  X86_64: "x86_64",
} as const;
export type Architecture = (typeof Architecture)[keyof typeof Architecture];

/** The lowest application log level Lambda forwards. */
export const LogLevel = {
  Debug: "DEBUG",
  Info: "INFO",
  Warn: "WARN",
  Error: "ERROR",
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

export const LAMBDA_RUNTIMES: readonly LambdaRuntime[] = Object.values(LambdaRuntime);
export const ARCHITECTURES: readonly Architecture[] = Object.values(Architecture);
export const LOG_LEVELS: readonly LogLevel[] = Object.values(LogLevel);

/** Where a function runs inside a VPC. */
export interface FunctionVpcArgs {
  /** Private subnets for the function's network interfaces (at least two AZs for availability). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups for the function's network interfaces. */
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
}

/** How a function runs: everything about it except its handler. */
export interface FunctionSettings {
  /**
   * The Lambda runtime. One past AWS's deprecation date is refused (AWS then stops patching
   * it, and later blocks creating and updating functions on it).
   * @default "nodejs24.x"
   */
  runtime?: LambdaRuntime;
  /**
   * The instruction set: `arm64` (Graviton) costs about 20% less per GB-second.
   * @default "arm64"
   */
  architecture?: Architecture;
  /**
   * Memory in MB, 128-10240. CPU is allocated in proportion.
   * @default 512
   */
  memorySize?: number;
  /**
   * Timeout in seconds, 1-900.
   * @default 10
   */
  timeout?: number;
  /** A description of the function, shown in the Lambda console. */
  description?: string;
  /**
   * Environment variables. Keys that Lambda reserves (`AWS_REGION`, `_HANDLER`, ...) are
   * refused, and all variables together, with those SecureFunction adds (`PARAMETERS_PATH`,
   * `NODE_OPTIONS`), may not exceed 4 KB; Output values are counted once they resolve. Put
   * secrets in `secrets`.
   * @default {}
   */
  environment?: Record<string, pulumi.Input<string>>;
  /**
   * Plain configuration values, stored as `String` parameters under
   * `/<project>/<stack>/<component name>/<key>`. The function receives that path in
   * `PARAMETERS_PATH` and reads the values at run time.
   * @default {}
   */
  parameters?: Record<string, pulumi.Input<string>>;
  /**
   * Secret values, stored as `SecureString` parameters beside `parameters`. Each value
   * must be a Pulumi secret (`config.requireSecret(...)` or `pulumi.secret(...)`); it never
   * appears in an environment variable or a plain output.
   * @default {}
   */
  secrets?: Record<string, pulumi.Input<string>>;
  /**
   * Extra IAM statements for the function's role. Wildcard actions (`*`, `service:*`)
   * and a bare `*` resource (also an Output that resolves to `*`) are refused.
   * @default []
   */
  permissions?: PermissionStatement[];
  /**
   * Concurrent executions reserved for (and capping) this function, 1 or more. Unset: the
   * function shares the account's unreserved pool. 0 would throttle every invocation, so it
   * is refused: switch a function off with `disabled` instead.
   */
  reservedConcurrency?: number;
  /**
   * Switches the function off: reserves 0 concurrent executions, so Lambda throttles every
   * invocation (callers get a throttling error) until it is set back to false.
   * @default false
   */
  disabled?: boolean;
  /**
   * Pre-initialized execution environments. Publishes a version, points the alias at it
   * and configures provisioned concurrency on the alias (with `deployment`: on the
   * published version, so a new version is warm before it takes traffic); every caller the
   * library wires invokes the alias. At most `reservedConcurrency` when that is set.
   * @default 0 (none, and no alias unless `deployment` is set)
   */
  provisionedConcurrency?: number;
  /**
   * The name of the alias created for provisioned concurrency or a deployment.
   * @default "live"
   */
  aliasName?: string;
  /**
   * How long the function's logs are kept, in days: one of CloudWatch Logs' allowed values.
   * @default 30
   */
  logRetentionDays?: number;
  /**
   * The lowest application log level Lambda forwards (JSON log format).
   * @default "INFO"
   */
  logLevel?: LogLevel;
  /**
   * X-Ray active tracing.
   * @default true
   */
  tracing?: boolean;
  /**
   * Where the function's alarms (errors, throttles, p99 duration) notify, e.g. SNS topic ARNs.
   * @default [] (alarms are created, without actions)
   */
  alarmActions?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Places the function in private subnets; its role gains only the network-interface
   * actions Lambda needs for that.
   */
  vpc?: FunctionVpcArgs;
  /** How the handler is bundled. */
  bundling?: BundlingOptions;
  /**
   * Retries, event age and destinations of asynchronous invocations, configured on the
   * alias when there is one.
   * @default unset: Lambda's own (2 retries, 6 hours, failed events dropped)
   */
  asyncInvoke?: AsyncInvokeArgs;
  /**
   * A customer-managed KMS key (its key ARN, not an alias) that encrypts the function's
   * SecureString parameters, its log group and its environment variables; the role may
   * `kms:Decrypt` with it when there are secrets to read, and with no other key. Its key
   * policy must let CloudWatch Logs use it for the log group (see the docs).
   * @default none: AWS managed keys (`aws/ssm`, `aws/lambda`, CloudWatch Logs' own)
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * Shift traffic to each new version through CodeDeploy (canary, linear or all at once),
   * with before- and after-traffic checks and rollback on the function's alarms. Publishes
   * versions behind the alias, which from then on only CodeDeploy moves.
   * @default unset: `pulumi up` moves the alias (when there is one) at once
   */
  deployment?: DeploymentArgs;
}

/** The arguments of a {@link SecureFunction}. */
export interface SecureFunctionArgs extends FunctionSettings, TaggableArgs {
  /**
   * The handler as `path/to/file.exportName`, relative to the project root (the working
   * directory of `pulumi up`) or absolute, e.g. `handlers/orders/get-order.handler`. The
   * module may be an ES module or CommonJS (`exports.handler = ...`, `.cjs`). On nodejs24.x
   * the handler must not take a callback: `async (event, context) => result`.
   */
  handler: string;
}

export const SECURE_FUNCTION_DEFAULTS = {
  runtime: "nodejs24.x",
  architecture: "arm64",
  memorySize: 512,
  timeout: 10,
  provisionedConcurrency: 0,
  aliasName: "live",
  logRetentionDays: 30,
  logLevel: "INFO",
  tracing: true,
} as const;

/** The p99 duration alarm fires at this share of the timeout. */
export const DURATION_ALARM_SHARE_OF_TIMEOUT = 0.8;

/** The environment variable that tells a function where its parameters are. */
export const PARAMETERS_PATH_VARIABLE = "PARAMETERS_PATH";

/** Variables Lambda sets itself; a function may not set them. */
const RESERVED_VARIABLES = new Set([
  "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
  "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
  "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
]);
const ENVIRONMENT_LIMIT_BYTES = 4096;
const PARAMETER_VALUE_LIMIT_BYTES = 4096;

/** Arguments with every default applied: what the function is built from. */
type ResolvedFunctionArgs = Omit<SecureFunctionArgs, keyof typeof SECURE_FUNCTION_DEFAULTS> & {
  -readonly [K in keyof typeof SECURE_FUNCTION_DEFAULTS]: NonNullable<SecureFunctionArgs[K]>;
};

export function withFunctionDefaults(args: SecureFunctionArgs): ResolvedFunctionArgs {
  return { ...SECURE_FUNCTION_DEFAULTS, ...withoutUndefined(args) } as ResolvedFunctionArgs;
}

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
 * A runtime that no longer calls callback-style handlers (nodejs24.x) fails every invocation
 * of a handler whose `length` is 3 or more; the count is read from the handler's source when
 * it shows it (components/handler-signature.ts), so a wrapped handler is not checked.
 */
export function checkCallbackHandler(handler: string, runtime: LambdaRuntime, parameters: string[] | undefined, at: string, problems: ProblemCollector, today = new Date()): void {
  if (!parameters || parameters.length < 3 || NODEJS_RUNTIMES[runtime]?.callbackHandlers !== false) return;
  const [event = "event", context = "context"] = parameters;
  const older = supportedRuntimes(today).find((runtime) => NODEJS_RUNTIMES[runtime].callbackHandlers);
  const alternative = older ? `, or keep the callback on ${JSON.stringify(older)} until its deprecation on ${NODEJS_RUNTIMES[older].deprecation}` : "";
  problems.add(at, `${JSON.stringify(handler)} takes a callback (${parameters.join(", ")}); ${runtime} no longer calls callback-style handlers, so every invocation would fail. Make it async and return the result: \`async (${event}, ${context}) => result\`${alternative}.`);
}

/** Refuses an unknown runtime, and one past AWS's deprecation date on `today`, with the dates and the fix. */
export function checkRuntime(runtime: LambdaRuntime, at: string, problems: ProblemCollector, today = new Date()): void {
  const supported = supportedRuntimes(today);
  if (!LAMBDA_RUNTIMES.includes(runtime)) {
    problems.oneOf(at, runtime, supported);
  } else if (!supported.includes(runtime)) {
    const { deprecation, blockCreate, blockUpdate } = NODEJS_RUNTIMES[runtime];
    const fix = supported.length > 0 ? `use ${JSON.stringify(supported[0])}` : "upgrade this library for a runtime AWS still supports";
    problems.add(at, `${JSON.stringify(runtime)} is past AWS's deprecation date ${deprecation} (no more security patches); AWS blocks creating functions on it from ${blockCreate} and updating them from ${blockUpdate}: ${fix}.`);
  }
}

function checkConcurrency(args: ResolvedFunctionArgs, path: (field: string) => string, problems: ProblemCollector): void {
  const { reservedConcurrency: reserved, provisionedConcurrency: provisioned, disabled } = args;
  const reservedValid = reserved === undefined || (Number.isInteger(reserved) && reserved >= 1);
  if (disabled && reserved !== undefined) {
    problems.add(path("reservedConcurrency"), `${reserved} is set with disabled: true, which reserves 0 itself; remove one of them.`);
  } else if (reserved === 0) {
    problems.add(path("reservedConcurrency"), "0 throttles every invocation, so nothing can run the function; use 1 or more, leave it out to share the account's pool, or set disabled: true to switch the function off on purpose.");
  } else if (!reservedValid) {
    problems.add(path("reservedConcurrency"), `${reserved} is not a whole number of 1 or more; use e.g. 10, or leave it out to share the account's pool.`);
  }
  if (!Number.isInteger(provisioned) || provisioned < 0) {
    problems.add(path("provisionedConcurrency"), `${provisioned} is not a whole number of 0 or more; use e.g. 2, or 0 for none.`);
  } else if (disabled && provisioned > 0) {
    problems.add(path("provisionedConcurrency"), `${provisioned} environments of a disabled function would be paid for and never run; set it to 0 or remove disabled: true.`);
  } else if (reserved !== undefined && reservedValid && provisioned > reserved) {
    problems.add(path("provisionedConcurrency"), `${provisioned} is above reservedConcurrency ${reserved}; provisioned environments must fit in the reserved ones: lower it or raise reservedConcurrency.`);
  }
}

/** The variables SecureFunction sets beside the user's: where its parameters are, and source maps. */
function addedVariables(name: string, args: ResolvedFunctionArgs, bundling: Required<BundlingOptions>): Record<string, string> {
  const added: Record<string, string> = {};
  if (Object.keys(args.parameters ?? {}).length + Object.keys(args.secrets ?? {}).length > 0) added[PARAMETERS_PATH_VARIABLE] = parameterPath(name);
  if (bundling.sourceMap) added.NODE_OPTIONS = "--enable-source-maps";
  return added;
}

/** What Lambda counts against its 4 KB: every key and value, in bytes; values not yet known count 0. */
function environmentBytes(variables: Record<string, unknown>): number {
  return Object.entries(variables).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + (typeof value === "string" ? Buffer.byteLength(value) : 0), 0);
}

function environmentSizeProblem(variables: Record<string, unknown>, added: Record<string, string>): string | undefined {
  const bytes = environmentBytes(variables);
  if (bytes <= ENVIRONMENT_LIMIT_BYTES) return undefined;
  const addedKeys = Object.keys(added);
  const including = addedKeys.length > 0 ? ` (with ${addedKeys.join(" and ")}, which SecureFunction adds)` : "";
  return `takes ${bytes} bytes${including}, above Lambda's 4 KB limit; move large values to \`parameters\`.`;
}

function checkEnvironment(args: ResolvedFunctionArgs, added: Record<string, string>, at: string, problems: ProblemCollector): void {
  for (const key of Object.keys(args.environment ?? {})) {
    if (RESERVED_VARIABLES.has(key) || key.startsWith("AWS_LAMBDA_")) {
      problems.add(`${at}.${key}`, "is reserved by Lambda, which sets it itself; choose another name.");
    } else if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
      problems.add(`${at}.${key}`, "is not a valid variable name; start with a letter and use letters, digits and \"_\".");
    } else if (key === PARAMETERS_PATH_VARIABLE || key === "NODE_OPTIONS") {
      problems.add(`${at}.${key}`, "is set by SecureFunction (parameters and bundling); choose another name.");
    }
  }
  // What is known now; Outputs are counted again once they resolve (createSecureFunction).
  const sizeProblem = environmentSizeProblem({ ...args.environment, ...added }, added);
  if (sizeProblem) problems.add(at, sizeProblem);
}

function checkParameters(args: ResolvedFunctionArgs, path: (field: string) => string, problems: ProblemCollector): void {
  const keys = new Set<string>();
  for (const field of ["parameters", "secrets"] as const) {
    for (const [key, value] of Object.entries(args[field] ?? {})) {
      const at = path(`${field}.${key}`);
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(key)) {
        problems.add(at, "is not a valid parameter name; use letters, digits, \".\", \"-\" and \"_\".");
      } else if (keys.has(key)) {
        problems.add(at, `is both a parameter and a secret; keep one.`);
      }
      keys.add(key);
      if (typeof value === "string") {
        if (field === "secrets") {
          problems.add(at, "is a plain string, not a Pulumi secret; read it with config.requireSecret(...) or wrap it in pulumi.secret(...).");
        } else if (value.length === 0 || Buffer.byteLength(value) > PARAMETER_VALUE_LIMIT_BYTES) {
          problems.add(at, `is ${Buffer.byteLength(value)} bytes; a standard parameter holds 1 to 4096 bytes.`);
        }
      }
    }
  }
}

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

/** The role's statements: logs, tracing, its own parameters (and their key), VPC networking, then the user's. */
function roleStatements(args: ResolvedFunctionArgs, logGroup: aws.cloudwatch.LogGroup, parameters: aws.ssm.Parameter[], kmsKey: pulumi.Input<string> | undefined, checks: ResolvedArgumentChecks) {
  const statements: (PermissionStatement & { sid: string })[] = [
    { sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [pulumi.interpolate`${logGroup.arn}:*`] },
  ];
  if (args.tracing) {
    statements.push({ sid: "Tracing", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] });
  }
  if (parameters.length > 0) {
    // The path's own ARN is the parent of any parameter's ARN under it.
    const pathArn = parameters[0].arn.apply((arn) => arn.slice(0, arn.lastIndexOf("/")));
    statements.push(
      { sid: "ReadOwnParametersByPath", actions: ["ssm:GetParametersByPath"], resources: [pathArn] },
      { sid: "ReadOwnParameters", actions: ["ssm:GetParameter", "ssm:GetParameters"], resources: parameters.map((p) => p.arn) },
    );
  }
  if (kmsKey !== undefined && Object.keys(args.secrets ?? {}).length > 0) {
    statements.push({ sid: "DecryptOwnSecrets", actions: [...KMS_READ_ACTIONS], resources: [kmsKey] });
  }
  if (args.vpc) {
    statements.push({ sid: "VpcNetworkInterfaces", actions: ACTIONS_WITHOUT_RESOURCE_LEVEL.filter((a) => a.startsWith("ec2:")), resources: ["*"] });
  }
  (args.permissions ?? []).forEach((statement, index) => statements.push({
    sid: `Granted${index}`,
    ...statement,
    // A bare "*" given as an Output only shows once it resolves.
    resources: statement.resources.map((resource, position) => typeof resource === "string"
      ? resource
      : checks.checked(`permissions[${index}].resources[${position}]`, resource, wildcardResourceProblem)),
  }));
  return statements;
}

function createFunctionAlarms(name: string, fn: aws.lambda.Function, args: ResolvedFunctionArgs, parent: pulumi.Resource) {
  const lambdaMetric = { namespace: "AWS/Lambda", dimensions: { FunctionName: fn.name } };
  const actions = args.alarmActions ?? [];
  const durationThresholdMs = Math.round(args.timeout * 1000 * DURATION_ALARM_SHARE_OF_TIMEOUT);
  return [
    createAlarm(`${name}-errors`, {
      ...lambdaMetric,
      description: `${name}: the function reported errors.`,
      metricName: "Errors", statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
    }, actions, parent),
    createAlarm(`${name}-throttles`, {
      ...lambdaMetric,
      description: `${name}: invocations were throttled (reserved concurrency or account limit reached).`,
      metricName: "Throttles", statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
    }, actions, parent),
    createAlarm(`${name}-duration`, {
      ...lambdaMetric,
      description: `${name}: p99 duration reached ${DURATION_ALARM_SHARE_OF_TIMEOUT * 100}% of the ${args.timeout} s timeout.`,
      metricName: "Duration", extendedStatistic: "p99", period: 300, evaluationPeriods: 1, threshold: durationThresholdMs,
    }, actions, parent),
  ];
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
