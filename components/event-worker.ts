import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { createDeadLetterQueue } from "./dead-letter-queue";
import { ASYNC_INVOKE_DEFAULTS, destinationService } from "./async-invoke";
import {
  bucketNotificationName, BucketTriggerArgs, checkTriggers, EventTriggerArgs, FilterPolicyScope, RuleTriggerArgs, ScheduleTriggerArgs, TopicTriggerArgs, TriggerKind,
} from "./event-triggers";
import { checkedKmsKey, KMS_SEND_ACTIONS, keyStatement } from "./kms";
import { ASYNC_INVOKE_LIMITS, DELIVERY_RETRY_ATTEMPTS } from "./limits";
import { NAME_LIMITS, physicalName } from "./naming";
import { PermissionStatement, policyDocument, QueueSender } from "./policy";
import { prepareFunction, SecureFunction, SecureFunctionArgs } from "./secure-function";
import { withTags } from "./tags";
import { componentType } from "./tokens";
import { ProblemCollector, ResolvedArgumentChecks, withoutUndefined } from "./validation";

export { BucketTriggerArgs, EventTriggerArgs, FilterPolicyScope, RuleTriggerArgs, ScheduleTriggerArgs, TopicTriggerArgs };

/**
 * The arguments of an {@link EventWorker}: the function's, its triggers, and what happens to
 * failed events. A `kmsKeyArn` also encrypts the dead-letter queue the worker creates.
 */
export interface EventWorkerArgs extends SecureFunctionArgs {
  /**
   * The sources that run the function, by name (the name is in each trigger's resource
   * names): each exactly one of `topic`, `rule`, `schedule`, `bucket`.
   */
  triggers: Record<string, EventTriggerArgs>;
  /**
   * Retries after a failed invocation, 0-2.
   * @default 2
   */
  maxRetries?: number;
  /**
   * How long an event is kept for (re)tries, in seconds, 60-21600; also how long
   * EventBridge and the Scheduler keep trying to hand it over.
   * @default 21600 (6 hours)
   */
  maxEventAgeSeconds?: number;
  /**
   * Your own standard SQS queue for failed events, instead of the one the worker creates;
   * its policy must let EventBridge send (see the docs) when a trigger is a `rule`.
   * @default a queue the worker creates (encrypted, TLS-only, 14 days, alarmed)
   */
  deadLetterQueueArn?: pulumi.Input<string>;
  /**
   * Where the record of each successful invocation goes: an SQS queue, SNS topic, Lambda
   * function or EventBridge bus ARN.
   * @default none
   */
  onSuccess?: pulumi.Input<string>;
}

export const EVENT_WORKER_DEFAULTS = {
  maxRetries: ASYNC_INVOKE_DEFAULTS.maxRetries,
  maxEventAgeSeconds: ASYNC_INVOKE_DEFAULTS.maxEventAgeSeconds,
} as const;

type EventSettings = { maxRetries: number; maxEventAgeSeconds: number };

/** The name of a worker's function. */
const functionName = (workerName: string) => `${workerName}-function`;

/** Validates the triggers, the failure handling and the function, and resolves every default. */
export function planEventWorker(name: string, args: EventWorkerArgs): { settings: EventSettings; kinds: Map<string, TriggerKind>; functionArgs: SecureFunctionArgs } {
  const problems = new ProblemCollector();
  const { triggers, maxRetries, maxEventAgeSeconds, deadLetterQueueArn, onSuccess, ...functionArgs } = args;
  const settings: EventSettings = { ...EVENT_WORKER_DEFAULTS, ...withoutUndefined({ maxRetries, maxEventAgeSeconds }) };
  const kinds = checkTriggers(triggers, problems);
  problems.integerInRange("maxRetries", settings.maxRetries, ...ASYNC_INVOKE_LIMITS.maxRetries, "retries");
  problems.integerInRange("maxEventAgeSeconds", settings.maxEventAgeSeconds, ...ASYNC_INVOKE_LIMITS.maxEventAgeSeconds, "seconds");
  // An Output is checked once it resolves (the constructor).
  const deadLetterProblem = typeof deadLetterQueueArn === "string" ? deadLetterQueueProblem(deadLetterQueueArn) : undefined;
  if (deadLetterProblem) problems.add("deadLetterQueueArn", deadLetterProblem);
  if (typeof onSuccess === "string") {
    const found = destinationService(onSuccess);
    if ("problem" in found) problems.add("onSuccess", found.problem);
  }
  if (functionArgs.asyncInvoke !== undefined) {
    problems.add("asyncInvoke", "is set by EventWorker; use maxRetries, maxEventAgeSeconds, deadLetterQueueArn and onSuccess instead.");
  }
  prepareFunction(functionName(name), functionArgs, "", problems);
  problems.throwIfAny("EventWorker", name);
  return { settings, kinds, functionArgs };
}

/** Why `arn` cannot take the worker's failed events, or undefined: it must be a standard SQS queue. */
function deadLetterQueueProblem(arn: string): string | undefined {
  const found = destinationService(arn, ["sqs"]);
  if ("problem" in found) return found.problem;
  if (arn.endsWith(".fifo")) return `${JSON.stringify(arn)} is a FIFO queue; EventBridge and the Scheduler send dead letters only to standard queues: give a standard one.`;
  return undefined;
}

/** The function and the trigger resources of each worker (TypeScript only, as QueueWorker keeps its consumer). */
const functions = new WeakMap<EventWorker, SecureFunction>();
const subscriptionsOf = new WeakMap<EventWorker, Record<string, pulumi.CustomResource>>();

/**
 * A SecureFunction run asynchronously by SNS topics, EventBridge rules, Scheduler schedules
 * and S3 buckets, with bounded retries and event age, a dead-letter queue for every failed
 * event (the function's and the services' own), and alarms on dead letters and dropped events.
 */
export class EventWorker extends pulumi.ComponentResource {
  /** The dead-letter queue the worker created; undefined with `deadLetterQueueArn`. */
  readonly deadLetterQueue?: aws.sqs.Queue;
  /** The ARN of the queue failed events go to. */
  readonly deadLetterQueueArn: pulumi.Output<string>;
  /** The role the Scheduler assumes to invoke the function, when a trigger is a schedule. */
  readonly schedulerRole?: aws.iam.Role;
  /** The resource-based permissions that let SNS, EventBridge and S3 invoke the function, each scoped to its source. */
  readonly permissions: aws.lambda.Permission[];
  /** The EventBridge targets of the rule triggers, by trigger name. */
  readonly ruleTargets: Record<string, aws.cloudwatch.EventTarget>;
  /** Dead letters present (when the worker created the queue), and events dropped after every try. */
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  /** The function's ARN. */
  readonly functionArn: pulumi.Output<string>;
  /** The function's name. */
  readonly functionName: pulumi.Output<string>;
  /** What the triggers invoke: the alias ARN when there is one. */
  readonly targetArn: pulumi.Output<string>;

  constructor(name: string, args: EventWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    const { settings, kinds, functionArgs } = planEventWorker(name, args);
    super(componentType("EventWorker"), name, {}, withTags("EventWorker", name, args.tags, opts));
    const parent = { parent: this };
    const triggers = (kind: TriggerKind) => [...kinds].filter(([, k]) => k === kind).map(([trigger]) => trigger);
    const partition = aws.getPartitionOutput({}, parent).partition;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    // Rules first: the dead-letter queue's policy lets EventBridge send for these rules only.
    const rules = Object.fromEntries(triggers("rule").map((trigger) => {
      const rule = args.triggers[trigger].rule!;
      return [trigger, new aws.cloudwatch.EventRule(`${name}-${trigger}`, {
        name: physicalName(`${name}-${trigger}`, NAME_LIMITS.eventRule),
        description: `Runs ${name} (trigger ${trigger}).`,
        eventBusName: rule.eventBusName,
        eventPattern: rule.eventPattern,
      }, parent)];
    }));
    // EventBridge and SNS send what they could not deliver to the queue themselves, so its policy names each source.
    const topicArns = triggers("topic").map((trigger) => args.triggers[trigger].topic!.topicArn);
    const senders: QueueSender[] = [
      ...(triggers("rule").length > 0 ? [{ sid: "EventBridgeRulesSendUndeliveredEvents", service: "events.amazonaws.com", sourceArns: Object.values(rules).map((rule) => rule.arn) }] : []),
      ...(topicArns.length > 0 ? [{ sid: "TopicsSendUndeliveredMessages", service: "sns.amazonaws.com", sourceArns: topicArns }] : []),
    ];

    const alarmActions = args.alarmActions ?? [];
    const checks = new ResolvedArgumentChecks("EventWorker", name, this);
    const kmsKey = checkedKmsKey(checks, "kmsKeyArn", args.kmsKeyArn);
    const created = args.deadLetterQueueArn === undefined
      ? createDeadLetterQueue(name, { failure: `events failed ${settings.maxRetries + 1} ${settings.maxRetries === 0 ? "try" : "tries"} or expired`, alarmActions, senders, kmsKeyArn: kmsKey }, this)
      : undefined;
    // Lambda (with the function's role) and the Scheduler (with its own) encrypt what they send to our queue; SNS and EventBridge need the key policy.
    const sendToOwnQueue = created && kmsKey !== undefined ? [keyStatement(KMS_SEND_ACTIONS, kmsKey)] : [];
    this.deadLetterQueue = created?.queue;
    this.deadLetterQueueArn = created ? created.queue.arn : checks.checked("deadLetterQueueArn", args.deadLetterQueueArn!, deadLetterQueueProblem);

    const fn = new SecureFunction(functionName(name), {
      ...functionArgs,
      kmsKeyArn: kmsKey,
      permissions: [...(functionArgs.permissions ?? []), ...sendToOwnQueue],
      asyncInvoke: { maxRetries: settings.maxRetries, maxEventAgeSeconds: settings.maxEventAgeSeconds, onFailure: this.deadLetterQueueArn, onSuccess: args.onSuccess },
    }, parent);
    functions.set(this, fn);
    this.functionArn = fn.arn;
    this.functionName = fn.name;
    this.targetArn = fn.targetArn;
    const deliveryRetries = { maximumRetryAttempts: DELIVERY_RETRY_ATTEMPTS, maximumEventAgeInSeconds: settings.maxEventAgeSeconds };

    const permission = (piece: string, principal: string, sourceArn: pulumi.Input<string>, sourceAccount?: pulumi.Input<string>) =>
      new aws.lambda.Permission(`${name}-${piece}-permission`, {
        action: "lambda:InvokeFunction", function: fn.name, qualifier: fn.qualifier, principal, sourceArn, sourceAccount,
      }, parent);
    this.permissions = [];
    const subscriptions: Record<string, pulumi.CustomResource> = {};

    for (const trigger of triggers("topic")) {
      const topic = args.triggers[trigger].topic!;
      const allowed = permission(trigger, "sns.amazonaws.com", topic.topicArn);
      this.permissions.push(allowed);
      subscriptions[trigger] = new aws.sns.TopicSubscription(`${name}-${trigger}`, {
        topic: topic.topicArn, protocol: "lambda", endpoint: fn.targetArn,
        filterPolicy: topic.filterPolicy, filterPolicyScope: topic.filterPolicy !== undefined ? topic.filterPolicyScope ?? FilterPolicyScope.MessageAttributes : undefined,
        // What SNS gives up delivering (after its own retries) goes to the dead-letter queue too.
        redrivePolicy: this.deadLetterQueueArn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn })),
      }, { parent: this, dependsOn: [allowed, ...(created ? [created.policy] : [])] });
    }

    this.ruleTargets = {};
    for (const trigger of triggers("rule")) {
      const rule = rules[trigger];
      this.permissions.push(permission(trigger, "events.amazonaws.com", rule.arn));
      subscriptions[trigger] = rule;
      this.ruleTargets[trigger] = new aws.cloudwatch.EventTarget(`${name}-${trigger}-target`, {
        rule: rule.name, eventBusName: rule.eventBusName, arn: fn.targetArn,
        retryPolicy: deliveryRetries, deadLetterConfig: { arn: this.deadLetterQueueArn },
      }, { parent: this, dependsOn: created ? [created.policy] : [] });
    }

    const schedules = triggers("schedule");
    if (schedules.length > 0) {
      const scheduler = createSchedulerRole(name, fn.targetArn, this.deadLetterQueueArn, sendToOwnQueue, account, this);
      this.schedulerRole = scheduler.role;
      for (const trigger of schedules) {
        const schedule = args.triggers[trigger].schedule!;
        subscriptions[trigger] = new aws.scheduler.Schedule(`${name}-${trigger}`, {
          name: physicalName(`${name}-${trigger}`, NAME_LIMITS.schedule),
          description: `Runs ${name} (trigger ${trigger}).`,
          scheduleExpression: schedule.expression,
          scheduleExpressionTimezone: schedule.timezone,
          flexibleTimeWindow: { mode: "OFF" },
          target: { arn: fn.targetArn, roleArn: scheduler.role.arn, retryPolicy: deliveryRetries, deadLetterConfig: { arn: this.deadLetterQueueArn } },
        }, { parent: this, dependsOn: [scheduler.policy] });
      }
    }

    // One notification per bucket: S3 keeps a single notification configuration per bucket.
    const byBucket = new Map<string, string[]>();
    for (const trigger of triggers("bucket")) {
      const bucketName = args.triggers[trigger].bucket!.bucketName;
      byBucket.set(bucketName, [...(byBucket.get(bucketName) ?? []), trigger]);
    }
    for (const [bucketName, bucketTriggers] of byBucket) {
      const piece = bucketNotificationName(bucketName);
      const allowed = permission(piece, "s3.amazonaws.com", pulumi.interpolate`arn:${partition}:s3:::${bucketName}`, account);
      this.permissions.push(allowed);
      const notification = new aws.s3.BucketNotification(`${name}-${piece}`, {
        bucket: bucketName,
        lambdaFunctions: bucketTriggers.map((trigger) => {
          const { events, prefix, suffix } = args.triggers[trigger].bucket!;
          return { id: trigger, lambdaFunctionArn: fn.targetArn, events, filterPrefix: prefix, filterSuffix: suffix };
        }),
      }, { parent: this, dependsOn: [allowed] });
      for (const trigger of bucketTriggers) subscriptions[trigger] = notification;
    }
    subscriptionsOf.set(this, subscriptions);

    this.alarms = [
      ...(created ? [created.alarm] : []),
      createAlarm(`${name}-async-events-dropped`, {
        description: `${name}: events failed every try or expired; Lambda sent them to the dead-letter queue, or dropped them if it could not.`,
        namespace: "AWS/Lambda",
        metricName: "AsyncEventsDropped",
        dimensions: { FunctionName: fn.name },
        statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
      }, alarmActions, this),
    ];

    this.registerOutputs({ functionArn: this.functionArn, functionName: this.functionName, targetArn: this.targetArn, deadLetterQueueArn: this.deadLetterQueueArn });
  }

  /** The function (TypeScript only; other languages see `functionArn` and `functionName`). */
  get function(): SecureFunction {
    return functions.get(this)!;
  }

  /**
   * Each trigger's resource, by trigger name: its topic subscription, EventBridge rule,
   * schedule, or its bucket's notification (TypeScript only).
   */
  get subscriptions(): Readonly<Record<string, pulumi.CustomResource>> {
    return subscriptionsOf.get(this)!;
  }
}

/**
 * The role the Scheduler assumes for this worker's schedules, in this account only: it may
 * invoke the function's target and send to the dead-letter queue, nothing else.
 */
function createSchedulerRole(name: string, targetArn: pulumi.Output<string>, deadLetterQueueArn: pulumi.Output<string>, keyStatements: PermissionStatement[], account: pulumi.Output<string>, parent: pulumi.Resource) {
  const role = new aws.iam.Role(`${name}-scheduler-role`, {
    name: physicalName(`${name}-scheduler`, NAME_LIMITS.iamRole),
    description: `Lets EventBridge Scheduler run the schedules of ${name}`,
    assumeRolePolicy: account.apply((accountId) => JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": accountId } } }],
    })),
  }, { parent });
  const policy = new aws.iam.RolePolicy(`${name}-scheduler-policy`, {
    role: role.id,
    policy: policyDocument([
      { sid: "InvokeTarget", actions: ["lambda:InvokeFunction"], resources: [targetArn] },
      { sid: "SendDeadLetters", actions: ["sqs:SendMessage"], resources: [deadLetterQueueArn] },
      ...keyStatements.map((statement) => ({ sid: "EncryptDeadLetters", ...statement })),
    ]),
  }, { parent });
  return { role, policy };
}
