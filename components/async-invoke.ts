// Asynchronous invocation of a function: its arguments and checks, where Lambda may send
// the record of an event, what the role must be allowed for each kind of destination, and
// the FunctionEventInvokeConfig that puts it together.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ASYNC_INVOKE_LIMITS } from "./limits";
import { PermissionStatement } from "./policy";
import { ProblemCollector, ResolvedArgumentChecks, withoutUndefined } from "./validation";

/**
 * How Lambda handles the function's asynchronous invocations (SNS, EventBridge, S3, the
 * Scheduler, `InvocationType: "Event"`): Lambda queues the event, retries a failed one,
 * and then sends a record of it to `onFailure`, or drops it when there is none.
 */
export interface AsyncInvokeArgs {
  /**
   * Retries after a failed attempt, 0-2.
   * @default 2
   */
  maxRetries?: number;
  /**
   * How long Lambda keeps an event for (re)tries, in seconds, 60-21600; older events go to
   * `onFailure`.
   * @default 21600 (6 hours)
   */
  maxEventAgeSeconds?: number;
  /**
   * Where the record of an event that failed every try (or expired) goes: the ARN of an SQS
   * queue, SNS topic, Lambda function or EventBridge bus. The role may send there, and only there.
   * @default none: the event is dropped
   */
  onFailure?: pulumi.Input<string>;
  /**
   * Where the record of each successful invocation goes: an ARN of the same kinds.
   * @default none
   */
  onSuccess?: pulumi.Input<string>;
}

export const ASYNC_INVOKE_DEFAULTS = {
  maxRetries: 2,
  maxEventAgeSeconds: 21600,
} as const;

/** The destination services Lambda accepts, with the one action the role needs on each. */
export const DESTINATION_ACTIONS = {
  sqs: "sqs:SendMessage",
  sns: "sns:Publish",
  lambda: "lambda:InvokeFunction",
  events: "events:PutEvents",
} as const;
export type DestinationService = keyof typeof DESTINATION_ACTIONS;

/** What each service's ARN looks like after `arn:<partition>:<service>:<region>:<account>:`. */
const RESOURCE_PATTERNS: Record<DestinationService, { pattern: RegExp; example: string }> = {
  sqs: { pattern: /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/, example: "arn:aws:sqs:eu-west-1:123456789012:failures" },
  sns: { pattern: /^[A-Za-z0-9_-]{1,256}(\.fifo)?$/, example: "arn:aws:sns:eu-west-1:123456789012:failures" },
  lambda: { pattern: /^function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, example: "arn:aws:lambda:eu-west-1:123456789012:function:on-failure" },
  events: { pattern: /^event-bus\/[A-Za-z0-9._\-/]{1,256}$/, example: "arn:aws:events:eu-west-1:123456789012:event-bus/default" },
};

const ARN_PATTERN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;

/** The service of a destination ARN, or why it is not one Lambda accepts. */
export function destinationService(arn: string, allowed: readonly DestinationService[] = Object.keys(DESTINATION_ACTIONS) as DestinationService[]): { service: DestinationService } | { problem: string } {
  const kinds = allowed.map((service) => ({ sqs: "an SQS queue", sns: "an SNS topic", lambda: "a Lambda function", events: "an EventBridge bus" })[service]);
  const expected = `${kinds.length > 1 ? `${kinds.slice(0, -1).join(", ")} or ${kinds[kinds.length - 1]}` : kinds[0]} ARN, e.g. ${JSON.stringify(RESOURCE_PATTERNS[allowed[0]].example)}`;
  const match = typeof arn === "string" ? ARN_PATTERN.exec(arn) : null;
  if (!match) return { problem: `${JSON.stringify(arn)} is not an ARN; give ${expected}.` };
  const [, , service, region, , resource] = match;
  if (!(allowed as readonly string[]).includes(service)) return { problem: `${JSON.stringify(arn)} is an ARN of the ${service} service; give ${expected}.` };
  const kind = service as DestinationService;
  if (!region || !RESOURCE_PATTERNS[kind].pattern.test(resource)) return { problem: `${JSON.stringify(arn)} is not a valid ${kind} ARN; give ${expected}.` };
  return { service: kind };
}

const DESTINATIONS = ["onFailure", "onSuccess"] as const;

/** Adds every problem of `asyncInvoke` (ranges, plain-string destinations) under the path `at`. */
export function checkAsyncInvoke(asyncInvoke: AsyncInvokeArgs, at: string, problems: ProblemCollector): void {
  problems.integerInRange(`${at}.maxRetries`, asyncInvoke.maxRetries, ...ASYNC_INVOKE_LIMITS.maxRetries, "retries");
  problems.integerInRange(`${at}.maxEventAgeSeconds`, asyncInvoke.maxEventAgeSeconds, ...ASYNC_INVOKE_LIMITS.maxEventAgeSeconds, "seconds");
  for (const field of DESTINATIONS) {
    const destination = asyncInvoke[field];
    // An Output is checked once it resolves (createSecureFunction).
    if (typeof destination !== "string") continue;
    const found = destinationService(destination);
    if ("problem" in found) problems.add(`${at}.${field}`, found.problem);
  }
}

interface CheckedDestination {
  field: (typeof DESTINATIONS)[number];
  arn: pulumi.Output<string>;
  /** The role's statement that allows sending there, known once the ARN resolves. */
  statement: pulumi.Output<PermissionStatement & { sid: string }>;
}

/** The destinations of asynchronous invocations, each checked once it resolves, with the send statement its service needs. */
export function checkedDestinations(asyncInvoke: AsyncInvokeArgs | undefined, checks: ResolvedArgumentChecks): CheckedDestination[] {
  return DESTINATIONS.filter((field) => asyncInvoke?.[field] !== undefined).map((field) => {
    const arn = checks.checked(`asyncInvoke.${field}`, asyncInvoke![field]!, (resolved) => {
      const found = destinationService(resolved);
      return "problem" in found ? found.problem : undefined;
    });
    const statement = arn.apply((resolved) => {
      const { service } = destinationService(resolved) as { service: keyof typeof DESTINATION_ACTIONS };
      const sid = field === "onFailure" ? "SendFailedAsyncEvents" : "SendSucceededAsyncEvents";
      return { sid, actions: [DESTINATION_ACTIONS[service]], resources: [resolved] };
    });
    return { field, arn, statement };
  });
}

/**
 * Retries, event age and destinations of asynchronous invocations, on the alias when there
 * is one. After the role's policy: Lambda refuses a destination the role may not send to.
 */
export function createAsyncInvokeConfig(name: string, asyncInvoke: AsyncInvokeArgs, destinations: CheckedDestination[], fn: aws.lambda.Function, alias: aws.lambda.Alias | undefined, rolePolicy: aws.iam.RolePolicy, parent: pulumi.Resource) {
  const settings = { ...ASYNC_INVOKE_DEFAULTS, ...withoutUndefined({ maxRetries: asyncInvoke.maxRetries, maxEventAgeSeconds: asyncInvoke.maxEventAgeSeconds }) };
  const destination = (field: CheckedDestination["field"]) => {
    const found = destinations.find((d) => d.field === field);
    return found && { destination: found.arn };
  };
  return new aws.lambda.FunctionEventInvokeConfig(`${name}-async-invoke`, {
    functionName: fn.name,
    qualifier: alias?.name,
    maximumRetryAttempts: settings.maxRetries,
    maximumEventAgeInSeconds: settings.maxEventAgeSeconds,
    destinationConfig: destinations.length > 0 ? { onFailure: destination("onFailure"), onSuccess: destination("onSuccess") } : undefined,
  }, { parent, dependsOn: [rolePolicy] });
}
