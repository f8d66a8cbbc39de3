import * as pulumi from "@pulumi/pulumi";
import { BundlingOptions } from "./bundling";
import { AsyncInvokeArgs } from "./async-invoke";
import { DeploymentArgs } from "./deployment";
import { LambdaRuntime, NODEJS_RUNTIMES, supportedRuntimes } from "./limits";
import { parameterPath } from "./naming";
import { PermissionStatement } from "./policy";
import { TaggableArgs } from "./tags";
import { ProblemCollector, withoutUndefined } from "./validation";

// A SecureFunction's arguments, their defaults, and the checks that need nothing but them
// (secure-function.ts runs them in prepareFunction, beside bundling the handler).

// Choices are `as const` objects with a type of the same name: TypeScript users write the
// plain string ("nodejs22.x"), and Pulumi's schema analyzer turns them into enums for the
// other languages (it refuses bare literal unions).

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
   * Timeout in seconds, 1-900. The function also receives it in `FUNCTION_TIMEOUT_SECONDS`,
   * so its SDK clients can time out and retry within it.
   * @default 10
   */
  timeout?: number;
  /** A description of the function, shown in the Lambda console. */
  description?: string;
  /**
   * Environment variables. Keys that Lambda reserves (`AWS_REGION`, `_HANDLER`, ...) are
   * refused, and all variables together, with those SecureFunction adds (`PARAMETERS_PATH`,
   * `NODE_OPTIONS`, `FUNCTION_TIMEOUT_SECONDS`), may not exceed 4 KB; Output values are counted once they resolve. Put
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

/** The environment variable that tells a function where its parameters are. */
export const PARAMETERS_PATH_VARIABLE = "PARAMETERS_PATH";

/** The environment variable that tells a function its own timeout, in seconds. */
export const FUNCTION_TIMEOUT_VARIABLE = "FUNCTION_TIMEOUT_SECONDS";

/** The variables SecureFunction sets itself, each with the arguments it comes from. */
const ADDED_VARIABLE_SOURCES: Record<string, string> = {
  [PARAMETERS_PATH_VARIABLE]: "`parameters` and `secrets`",
  NODE_OPTIONS: "`bundling.sourceMap`",
  [FUNCTION_TIMEOUT_VARIABLE]: "`timeout`",
};

/** Variables Lambda sets itself; a function may not set them. */
const RESERVED_VARIABLES = new Set([
  "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
  "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
  "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
]);
const ENVIRONMENT_LIMIT_BYTES = 4096;
const PARAMETER_VALUE_LIMIT_BYTES = 4096;

/** Arguments with every default applied: what the function is built from. */
export type ResolvedFunctionArgs = Omit<SecureFunctionArgs, keyof typeof SECURE_FUNCTION_DEFAULTS> & {
  -readonly [K in keyof typeof SECURE_FUNCTION_DEFAULTS]: NonNullable<SecureFunctionArgs[K]>;
};

export function withFunctionDefaults(args: SecureFunctionArgs): ResolvedFunctionArgs {
  return { ...SECURE_FUNCTION_DEFAULTS, ...withoutUndefined(args) } as ResolvedFunctionArgs;
}

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

export function checkConcurrency(args: ResolvedFunctionArgs, path: (field: string) => string, problems: ProblemCollector): void {
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

/** The variables SecureFunction sets beside the user's: where its parameters are, source maps, its timeout. */
export function addedVariables(name: string, args: ResolvedFunctionArgs, bundling: Required<BundlingOptions>): Record<string, string> {
  const added: Record<string, string> = {};
  if (Object.keys(args.parameters ?? {}).length + Object.keys(args.secrets ?? {}).length > 0) added[PARAMETERS_PATH_VARIABLE] = parameterPath(name);
  if (bundling.sourceMap) added.NODE_OPTIONS = "--enable-source-maps";
  // The handlers' SDK clients size their timeouts and retries from it (handlers/lib/aws-clients.ts).
  added[FUNCTION_TIMEOUT_VARIABLE] = String(args.timeout);
  return added;
}

/** What Lambda counts against its 4 KB: every key and value, in bytes; values not yet known count 0. */
function environmentBytes(variables: Record<string, unknown>): number {
  return Object.entries(variables).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + (typeof value === "string" ? Buffer.byteLength(value) : 0), 0);
}

export function environmentSizeProblem(variables: Record<string, unknown>, added: Record<string, string>): string | undefined {
  const bytes = environmentBytes(variables);
  if (bytes <= ENVIRONMENT_LIMIT_BYTES) return undefined;
  const addedKeys = Object.keys(added);
  const listed = addedKeys.length > 1 ? `${addedKeys.slice(0, -1).join(", ")} and ${addedKeys[addedKeys.length - 1]}` : addedKeys[0];
  const including = addedKeys.length > 0 ? ` (with ${listed}, which SecureFunction adds)` : "";
  return `takes ${bytes} bytes${including}, above Lambda's 4 KB limit; move large values to \`parameters\`.`;
}

export function checkEnvironment(args: ResolvedFunctionArgs, added: Record<string, string>, at: string, problems: ProblemCollector): void {
  for (const key of Object.keys(args.environment ?? {})) {
    if (RESERVED_VARIABLES.has(key) || key.startsWith("AWS_LAMBDA_")) {
      problems.add(`${at}.${key}`, "is reserved by Lambda, which sets it itself; choose another name.");
    } else if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
      problems.add(`${at}.${key}`, "is not a valid variable name; start with a letter and use letters, digits and \"_\".");
    } else if (Object.hasOwn(ADDED_VARIABLE_SOURCES, key)) {
      problems.add(`${at}.${key}`, `is set by SecureFunction from ${ADDED_VARIABLE_SOURCES[key]}; remove it, or choose another name for a variable of your own.`);
    }
  }
  // What is known now; Outputs are counted again once they resolve (createSecureFunction).
  const sizeProblem = environmentSizeProblem({ ...args.environment, ...added }, added);
  if (sizeProblem) problems.add(at, sizeProblem);
}

export function checkParameters(args: ResolvedFunctionArgs, path: (field: string) => string, problems: ProblemCollector): void {
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
