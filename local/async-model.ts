/**
 * The asynchronous side of the recorded program, for the local runtime: functions'
 * asynchronous invocation configs (FunctionEventInvokeConfig), SNS topics and their
 * Lambda subscriptions, EventBridge rules and their Lambda targets, Scheduler
 * schedules, and S3 buckets with their Lambda notifications. Read from the registered AWS resources alone, as app.ts reads the rest.
 */
import { revealSecrets, type RecordedResource } from "../tools/mock-engine";
import type { BucketNotificationModel } from "./s3";

/** Lambda's defaults for asynchronous invocation (API reference: FunctionEventInvokeConfig). */
export const LAMBDA_ASYNC_DEFAULTS = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 } as const;

export interface InvokeConfigModel {
  name: string;
  /** The function's name or ARN, as the config names it. */
  functionName: string;
  qualifier?: string;
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  onFailure?: string;
  onSuccess?: string;
}

export interface TopicModel {
  name: string;
  arn: string;
}

export interface SubscriptionModel {
  name: string;
  topicArn: string;
  /** The function (or alias) ARN the subscription invokes. */
  endpoint: string;
  filterPolicy?: unknown;
  filterPolicyScope: "MessageAttributes" | "MessageBody";
  /** The subscription's redrive policy's queue: what SNS could not deliver. */
  deadLetterArn?: string;
}

export interface RuleModel {
  name: string;
  /** The rule's physical name, which its targets name. */
  ruleName: string;
  arn: string;
  eventBusName: string;
  eventPattern?: unknown;
}

export interface RuleTargetModel {
  name: string;
  ruleName: string;
  eventBusName: string;
  arn: string;
  /** Constant JSON the target sends instead of the event. */
  input?: string;
  deadLetterArn?: string;
}

export interface ScheduleModel {
  name: string;
  scheduleName: string;
  arn: string;
  expression: string;
  timezone: string;
  enabled: boolean;
  startDate?: string;
  endDate?: string;
  target: {
    arn: string;
    input?: string;
    maximumRetryAttempts: number;
    maximumEventAgeSeconds: number;
    deadLetterArn?: string;
  };
}

export interface AsyncModel {
  invokeConfigs: InvokeConfigModel[];
  topics: TopicModel[];
  subscriptions: SubscriptionModel[];
  rules: RuleModel[];
  targets: RuleTargetModel[];
  schedules: ScheduleModel[];
  /** Bucket names: the program's buckets and those its notifications name. */
  buckets: string[];
  bucketNotifications: BucketNotificationModel[];
}

/** Whether a recorded ARN is one of the service's (the recording engine writes some ARNs generically). */
const isArnOf = (service: string, arn: unknown): arn is string => typeof arn === "string" && arn.split(":")[2] === service;
const parseJson = (text: unknown): unknown => (typeof text === "string" && text !== "" ? JSON.parse(text) : undefined);

/** The Scheduler's retry defaults (API reference: RetryPolicy). */
const SCHEDULER_RETRY_DEFAULTS = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 } as const;

export function readAsyncModel(recorded: RecordedResource[], region: string, accountId: string): AsyncModel {
  const resources = recorded.map((r) => ({ ...r, inputs: revealSecrets(r.inputs), outputs: revealSecrets(r.outputs) }));
  const ofType = (type: string) => resources.filter((r) => r.type === type);

  const invokeConfigs = ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").map((c): InvokeConfigModel => ({
    name: c.name,
    functionName: c.inputs.functionName,
    qualifier: c.inputs.qualifier,
    maximumRetryAttempts: c.inputs.maximumRetryAttempts ?? LAMBDA_ASYNC_DEFAULTS.maximumRetryAttempts,
    maximumEventAgeSeconds: c.inputs.maximumEventAgeInSeconds ?? LAMBDA_ASYNC_DEFAULTS.maximumEventAgeSeconds,
    onFailure: c.inputs.destinationConfig?.onFailure?.destination,
    onSuccess: c.inputs.destinationConfig?.onSuccess?.destination,
  }));

  const topics = ofType("aws:sns/topic:Topic").map((t): TopicModel => ({ name: t.name, arn: t.outputs.arn }));

  const subscriptions = ofType("aws:sns/topicSubscription:TopicSubscription")
    .filter((s) => s.inputs.protocol === "lambda")
    .map((s): SubscriptionModel => ({
      name: s.name,
      topicArn: s.inputs.topic,
      endpoint: s.inputs.endpoint,
      filterPolicy: parseJson(s.inputs.filterPolicy),
      filterPolicyScope: s.inputs.filterPolicyScope === "MessageBody" ? "MessageBody" : "MessageAttributes",
      deadLetterArn: (parseJson(s.inputs.redrivePolicy) as { deadLetterTargetArn?: string } | undefined)?.deadLetterTargetArn,
    }));

  const rules = ofType("aws:cloudwatch/eventRule:EventRule")
    .filter((r) => r.inputs.eventPattern !== undefined)
    .map((r): RuleModel => {
      const eventBusName = r.inputs.eventBusName ?? "default";
      const ruleName = r.inputs.name ?? r.outputs.name ?? r.name;
      const busPath = eventBusName === "default" ? "" : `${eventBusName}/`;
      const arn = isArnOf("events", r.outputs.arn) ? r.outputs.arn : `arn:aws:events:${region}:${accountId}:rule/${busPath}${ruleName}`;
      return { name: r.name, ruleName, arn, eventBusName, eventPattern: parseJson(r.inputs.eventPattern) };
    });

  const targets = ofType("aws:cloudwatch/eventTarget:EventTarget").map((t): RuleTargetModel => ({
    name: t.name,
    ruleName: t.inputs.rule,
    eventBusName: t.inputs.eventBusName ?? "default",
    arn: t.inputs.arn,
    input: t.inputs.input,
    deadLetterArn: t.inputs.deadLetterConfig?.arn,
  }));

  const schedules = ofType("aws:scheduler/schedule:Schedule").map((s): ScheduleModel => {
    const scheduleName = s.inputs.name ?? s.outputs.name ?? s.name;
    const group = s.inputs.groupName ?? "default";
    const target = s.inputs.target ?? {};
    return {
      name: s.name,
      scheduleName,
      arn: isArnOf("scheduler", s.outputs.arn) ? s.outputs.arn : `arn:aws:scheduler:${region}:${accountId}:schedule/${group}/${scheduleName}`,
      expression: s.inputs.scheduleExpression,
      timezone: s.inputs.scheduleExpressionTimezone ?? "UTC",
      enabled: (s.inputs.state ?? "ENABLED") === "ENABLED",
      startDate: s.inputs.startDate,
      endDate: s.inputs.endDate,
      target: {
        arn: target.arn,
        input: target.input,
        maximumRetryAttempts: target.retryPolicy?.maximumRetryAttempts ?? SCHEDULER_RETRY_DEFAULTS.maximumRetryAttempts,
        maximumEventAgeSeconds: target.retryPolicy?.maximumEventAgeInSeconds ?? SCHEDULER_RETRY_DEFAULTS.maximumEventAgeSeconds,
        deadLetterArn: target.deadLetterConfig?.arn,
      },
    };
  });

  const bucketNotifications = ofType("aws:s3/bucketNotification:BucketNotification").map((n): BucketNotificationModel => ({
    name: n.name,
    bucket: n.inputs.bucket,
    lambdaFunctions: (n.inputs.lambdaFunctions ?? []).map((f: Record<string, any>) => ({
      id: f.id, functionArn: f.lambdaFunctionArn, events: f.events ?? [], filterPrefix: f.filterPrefix, filterSuffix: f.filterSuffix,
    })),
  }));
  const buckets = [...new Set([
    ...resources.filter((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2").map((b) => String(b.inputs.bucket ?? b.outputs.bucket ?? b.name)),
    ...bucketNotifications.map((n) => n.bucket),
  ])];

  return { invokeConfigs, topics, subscriptions, rules, targets, schedules, buckets, bucketNotifications };
}

/** Every DLQ the asynchronous sources name, with what sends to it, for `npm run dev -- dlq`. */
export function asyncDeadLetterSources(model: AsyncModel): Array<{ queueArn: string; source: string }> {
  return [
    ...model.invokeConfigs.flatMap((c) => (c.onFailure ? [{ queueArn: c.onFailure, source: `${c.name} (on-failure)` }] : [])),
    ...model.subscriptions.flatMap((s) => (s.deadLetterArn ? [{ queueArn: s.deadLetterArn, source: `${s.name} (subscription)` }] : [])),
    ...model.targets.flatMap((t) => (t.deadLetterArn ? [{ queueArn: t.deadLetterArn, source: `${t.name} (rule target)` }] : [])),
    ...model.schedules.flatMap((s) => (s.target.deadLetterArn ? [{ queueArn: s.target.deadLetterArn, source: `${s.name} (schedule)` }] : [])),
  ].filter((entry) => /^arn:[^:]+:sqs:/.test(entry.queueArn));
}
