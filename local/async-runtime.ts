/**
 * The asynchronous sources of the local runtime, composed: the SNS, EventBridge and S3
 * endpoints and the Scheduler deliver to functions through one asynchronous invoker per
 * invoked ARN (function or alias), configured by the program's FunctionEventInvokeConfig;
 * the invokers send their records to destinations of the program (queue, topic, function
 * or bus). runtime.ts starts the endpoints before the functions (whose environment names
 * them) and attaches the functions after.
 */
import type { FunctionModel } from "./app";
import { AsyncInvoker, type AsyncOutcome, type Clock, type Condition, type InvocationRecord } from "./async-invoke";
import type { AsyncModel, InvokeConfigModel } from "./async-model";
import { LocalEventBridge } from "./eventbridge";
import type { LocalFunction } from "./functions";
import { LocalS3 } from "./s3";
import { LocalScheduler } from "./scheduler";
import { LocalSns } from "./sns";
import type { LocalSqs } from "./sqs";

export interface LocalAsyncOptions {
  model: AsyncModel;
  functions: FunctionModel[];
  sqs: LocalSqs;
  region: string;
  accountId: string;
  clock?: Clock;
  /** Asynchronous time runs this much faster than AWS's (see async-invoke.ts). */
  timeScale?: number;
  /** Where the local S3 keeps objects (removed on stop). */
  s3Directory: string;
  log: (line: string) => void;
  onOutcome?: (outcome: AsyncOutcome & { functionName: string }) => void;
}

export class LocalAsync {
  readonly sns: LocalSns;
  readonly eventBridge: LocalEventBridge;
  readonly scheduler: LocalScheduler;
  readonly s3: LocalS3;
  readonly endpoints = { sns: "", eventbridge: "", s3: "", scheduler: "" };
  private readonly invokers = new Map<string, AsyncInvoker>();
  private running?: Map<string, LocalFunction>;

  constructor(private readonly options: LocalAsyncOptions) {
    const { model, region, accountId, log } = options;
    this.sns = new LocalSns({
      region, accountId, topics: model.topics, subscriptions: model.subscriptions, log,
      deliver: ({ subscription, event }) => this.invokeAsync(subscription.endpoint, event, () => this.undeliverable(subscription.deadLetterArn, `subscription ${subscription.name}`, event.Records[0].Sns, {
        TARGET_ARN: subscription.endpoint,
      })),
    });
    this.eventBridge = new LocalEventBridge({
      region, accountId, rules: model.rules, targets: model.targets, log,
      deliver: ({ rule, target, payload }) => this.invokeAsync(target.arn, payload, () => this.undeliverable(target.deadLetterArn, `rule target ${target.name}`, payload, {
        RULE_ARN: rule.arn, TARGET_ARN: target.arn,
      })),
    });
    this.s3 = new LocalS3({
      region, buckets: model.buckets, notifications: model.bucketNotifications, directory: options.s3Directory, log,
      deliver: (functionArn, event) => this.invokeAsync(functionArn, event, () => log(`S3   ${functionArn} is not a function of the program; the notification is not delivered`)),
    });
    this.scheduler = new LocalScheduler({
      schedules: model.schedules, clock: options.clock, log,
      fire: ({ schedule, input, executionId }) => this.invokeAsync(schedule.target.arn, input, () => this.undeliverable(schedule.target.deadLetterArn, `schedule ${schedule.name}`, input, {
        SCHEDULE_ARN: schedule.arn, TARGET_ARN: schedule.target.arn, EXECUTION_ID: executionId,
      })),
    });
  }

  /** Serves the SNS, EventBridge and S3 endpoints. */
  async start(): Promise<LocalAsync["endpoints"]> {
    this.endpoints.sns = await this.sns.start();
    this.endpoints.eventbridge = await this.eventBridge.start();
    this.endpoints.s3 = await this.s3.start();
    return this.endpoints;
  }

  /** Connects the running functions; schedules start firing, and the Scheduler's control endpoint answers. */
  async attach(functions: Map<string, LocalFunction>): Promise<void> {
    this.running = functions;
    this.endpoints.scheduler = await this.scheduler.start();
  }

  /** Waits until every queued asynchronous event has reached its end (tests, shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      const invokers = [...this.invokers.values()];
      await Promise.all(invokers.map((i) => i.drain()));
      if (invokers.every((i) => i.idle)) return;
    }
  }

  /** Ends retries and schedules, so nothing more reaches the functions (before they close). */
  async stopDeliveries(): Promise<void> {
    for (const invoker of this.invokers.values()) invoker.stop();
    await this.scheduler.stop();
  }

  async stop(): Promise<void> {
    await this.stopDeliveries();
    await Promise.all([this.sns.stop(), this.eventBridge.stop(), this.s3.stop()]);
  }

  /** Queues an event for the function an ARN names; `missing` handles an ARN that names none. */
  invokeAsync(arn: string, event: unknown, missing: () => void): void {
    const invoker = this.invokerFor(arn);
    if (!invoker) return missing();
    invoker.invokeAsync(event);
  }

  private invokerFor(arn: string): AsyncInvoker | undefined {
    const known = this.invokers.get(arn);
    if (known) return known;
    const fn = this.options.functions.find((f) => f.arns.includes(arn));
    const running = fn && this.running?.get(fn.name);
    if (!fn || !running) return undefined;
    const invoker = new AsyncInvoker(
      { name: fn.name, arn, invoke: (event, requestId) => running.invoke(event, requestId) },
      {
        settings: invokeConfigFor(this.options.model.invokeConfigs, fn, arn),
        deliver: (destination, record, condition) => this.toDestination(destination, record, condition),
        clock: this.options.clock,
        timeScale: this.options.timeScale,
        log: this.options.log,
        onOutcome: (outcome) => this.options.onOutcome?.({ ...outcome, functionName: fn.name }),
      },
    );
    this.invokers.set(arn, invoker);
    return invoker;
  }

  /** Sends an invocation record where Lambda would: a queue, a topic, a function or a bus of the program. */
  private async toDestination(destination: string, record: InvocationRecord, condition: Condition): Promise<void> {
    const service = destination.split(":")[2];
    const body = JSON.stringify(record);
    if (service === "sqs") {
      const queue = this.options.sqs.byArn(destination);
      if (!queue) throw new Error(`${destination} is not a queue of the program`);
      this.options.sqs.send(queue, body);
    } else if (service === "sns") {
      this.sns.publish({ TopicArn: destination, Message: body });
    } else if (service === "lambda") {
      this.invokeAsync(destination, record, () => { throw new Error(`${destination} is not a function of the program`); });
    } else if (service === "events") {
      const result = this.eventBridge.putEvents([{
        Source: "lambda", DetailType: `Lambda Function Invocation Result - ${condition === "Success" ? "Success" : "Failure"}`, Detail: body, EventBusName: destination,
      }]);
      const failed = result.Entries.find((e) => "ErrorCode" in e);
      if (failed) throw new Error(`${destination}: ${"ErrorMessage" in failed ? failed.ErrorMessage : ""}`);
    } else {
      throw new Error(`${destination} is not a queue, topic, function or event bus`);
    }
  }

  /** What SNS, EventBridge and the Scheduler do with an event they cannot deliver: their DLQ (with EventBridge's and the Scheduler's error attributes). */
  private undeliverable(deadLetterArn: string | undefined, source: string, payload: unknown, attributes: Record<string, string>): void {
    const queue = deadLetterArn ? this.options.sqs.byArn(deadLetterArn) : undefined;
    const why = `${attributes.TARGET_ARN} is not a function of the program`;
    if (!queue) {
      this.options.log(`ASYNC ${source}: ${why}; no dead-letter queue, the event is dropped`);
      return;
    }
    const messageAttributes = Object.fromEntries(Object.entries({ ...attributes, ERROR_CODE: "ResourceNotFoundException", ERROR_MESSAGE: why })
      .map(([name, value]) => [name, { DataType: "String", StringValue: value }]));
    this.options.sqs.send(queue, JSON.stringify(payload), { messageAttributes });
    this.options.log(`ASYNC ${source}: ${why}; the event went to its dead-letter queue ${queue.name}`);
  }
}

/** The FunctionEventInvokeConfig for an invoked ARN: the one of its qualifier (alias), else the function's. */
function invokeConfigFor(configs: InvokeConfigModel[], fn: FunctionModel, arn: string): InvokeConfigModel | undefined {
  const ofFunction = configs.filter((c) => c.functionName === fn.functionName || fn.arns.includes(c.functionName));
  const qualifier = arn === fn.arn ? undefined : arn.split(":").pop();
  return ofFunction.find((c) => c.qualifier === qualifier) ?? ofFunction.find((c) => c.qualifier === undefined) ?? ofFunction[0];
}
