/**
 * A deployment stage for the runtime's tests: the local CodeDeploy and Lambda control plane
 * on loopback, with the runner and hook handlers run in-process against them through the
 * real SDK clients (the endpoints come from AWS_ENDPOINT_URL_<SERVICE>, as a deployed
 * function's come from the region). One function, `orders-api`, alias `live` on version 1,
 * version 2 published: what `pulumi up` leaves before the runner starts.
 */
import { HOOK_ENVIRONMENT, type DeploymentCheck, type DeploymentRequest, type LifecycleEvent } from "../../components/deployment-runtime/contract";
import { deploymentHookHandler } from "../../components/deployment-runtime/hook";
import { handler, POLL_INTERVAL_ENV, type RunnerContext } from "../../components/deployment-runtime/runner";
import { LocalCodeDeploy, type HookEvent } from "../../local/codedeploy";
import { LocalLambdaControl } from "../../local/lambda-control";

export const FUNCTION = "orders-api";
export const ALIAS = "live";
export const ALARM = "orders-api-errors";
export const BEFORE_HOOK = "orders-api-before-traffic";
export const AFTER_HOOK = "orders-api-after-traffic";

export interface StageOptions {
  /** Milliseconds of a CodeDeploy minute. @default 40 */
  minuteMs?: number;
  deploymentConfigName?: string;
  hookTimeoutMinutes?: number;
  /** The checks of the hook functions, by hook function name. */
  checks?: Record<string, DeploymentCheck>;
  /** Milliseconds a hook function has before its own timeout. @default 2000 */
  hookTimeoutMs?: number;
  /** The partition in the hook functions' own ARNs. @default "aws" */
  partition?: string;
  /** A HOOK_ENVIRONMENT variable left unset on the hook functions (a broken deployment of them). */
  unsetHookVariable?: string;
  /** What a version of orders-api answers when invoked. */
  versionHandler?: (version: string, payload: unknown) => { payload: unknown; functionError?: string };
}

const ENV_NAMES = ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_ENDPOINT_URL_LAMBDA", POLL_INTERVAL_ENV, ...Object.values(HOOK_ENVIRONMENT)];

export class Stage {
  codedeploy!: LocalCodeDeploy;
  lambda!: LocalLambdaControl;
  /** Invocations of orders-api's versions (what the hooks' checks sent). */
  readonly invocations: Array<{ version: string; payload: unknown }> = [];
  /** Hook functions CodeDeploy invoked, in order. */
  readonly hookInvocations: string[] = [];
  /** The JSON lines the runner and hooks logged. */
  readonly logs: Array<Record<string, unknown>> = [];
  private readonly saved = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  private readonly consoleLog = console.log;

  constructor(private readonly options: StageOptions = {}) {}

  async start(): Promise<this> {
    console.log = (line: unknown, ...rest: unknown[]) => {
      if (typeof line === "string" && line.startsWith("{")) this.logs.push(JSON.parse(line));
      else this.consoleLog(line, ...rest);
    };
    this.lambda = new LocalLambdaControl(async (_name, version, payload) => {
      this.invocations.push({ version, payload });
      return this.options.versionHandler?.(version, payload) ?? { payload: { statusCode: 200, version } };
    });
    this.lambda.addFunction(FUNCTION, ["1", "2"], ALIAS, "1");
    this.codedeploy = new LocalCodeDeploy({
      lambda: this.lambda,
      minuteMs: this.options.minuteMs ?? 40,
      hookTimeoutMinutes: this.options.hookTimeoutMinutes,
      invokeHook: (name, event) => this.invokeHook(name, event),
    });
    this.codedeploy.addDeploymentConfig("orders-linear-25-every-1", { type: "TimeBasedLinear", percentage: 25, minutes: 1 });
    this.codedeploy.addDeploymentGroup({
      applicationName: "orders",
      deploymentGroupName: FUNCTION,
      deploymentConfigName: this.options.deploymentConfigName ?? "CodeDeployDefault.LambdaCanary10Percent5Minutes",
      alarms: [ALARM],
    });
    Object.assign(process.env, {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_CODEDEPLOY: await this.codedeploy.start(),
      AWS_ENDPOINT_URL_LAMBDA: await this.lambda.start(),
      [POLL_INTERVAL_ENV]: "10",
    });
    return this;
  }

  async stop(): Promise<void> {
    console.log = this.consoleLog;
    await this.codedeploy.stop();
    await this.lambda.stop();
    for (const [name, value] of Object.entries(this.saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }

  request(overrides: Partial<DeploymentRequest> = {}): DeploymentRequest {
    return { applicationName: "orders", deploymentGroupName: FUNCTION, functionName: FUNCTION, aliasName: ALIAS, targetVersion: "2", waitForCompletion: true, ...overrides };
  }

  /** Runs the runner's handler with `remainingMs` of its own time left. */
  runner(request: unknown, remainingMs = 900_000) {
    const deadline = Date.now() + remainingMs;
    const context: RunnerContext = { getRemainingTimeInMillis: () => deadline - Date.now() };
    return handler(request as DeploymentRequest, context);
  }

  /** CodeDeploy's asynchronous invocation of a hook function: its environment as the component sets it, then its handler. */
  private invokeHook(name: string, event: HookEvent): void {
    this.hookInvocations.push(name);
    const check = this.options.checks?.[name];
    // A hook function with no check here does nothing: it never reports.
    if (!check) return;
    const lifecycleEvent: LifecycleEvent = name === AFTER_HOOK ? "AfterAllowTraffic" : "BeforeAllowTraffic";
    Object.assign(process.env, {
      [HOOK_ENVIRONMENT.functionName]: FUNCTION,
      [HOOK_ENVIRONMENT.aliasName]: ALIAS,
      [HOOK_ENVIRONMENT.targetVersion]: "2",
      [HOOK_ENVIRONMENT.lifecycleEvent]: lifecycleEvent,
    });
    if (this.options.unsetHookVariable) delete process.env[this.options.unsetHookVariable];
    const deadline = Date.now() + (this.options.hookTimeoutMs ?? 2000);
    const context = { invokedFunctionArn: `arn:${this.options.partition ?? "aws"}:lambda:eu-west-1:123456789012:function:${name}`, getRemainingTimeInMillis: () => deadline - Date.now() };
    // Lambda logs an asynchronous invocation's error; CodeDeploy waits for the report either way.
    deploymentHookHandler(check)(event, context).catch(() => undefined);
  }

  /** Every traffic weight of version 2 seen on the alias while `work` runs. */
  async watchWeights<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; weights: number[] }> {
    const weights = new Set<number>();
    let done = false;
    const settled = Promise.allSettled([work]).then(([result]) => ((done = true), result));
    while (!done) {
      weights.add(this.lambda.alias(FUNCTION, ALIAS).weights["2"] ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    return { result: await settled, weights: [...weights].filter((w) => w > 0).sort() };
  }
}
