import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { createDeadLetterQueue, createTlsOnlyPolicy, MAX_RETENTION_SECONDS } from "./dead-letter-queue";
import { checkedKmsKey, KMS_READ_ACTIONS, KMS_SEND_ACTIONS, keyStatement, queueEncryption } from "./kms";
import { NAME_LIMITS, physicalName } from "./naming";
import { PermissionStatement } from "./policy";
import { prepareFunction, SECURE_FUNCTION_DEFAULTS, SecureFunction, SecureFunctionArgs } from "./secure-function";
import { minimumVisibilityTimeoutSeconds } from "./limits";
import { withTags } from "./tags";
import { componentType, withLegacyTypeAlias } from "./tokens";
import { ProblemCollector, ResolvedArgumentChecks, withoutUndefined } from "./validation";

/**
 * The arguments of a {@link QueueWorker}: the consumer function's, plus the queue's. A
 * `kmsKeyArn` also encrypts the queue and the dead-letter queue.
 */
export interface QueueWorkerArgs extends SecureFunctionArgs {
  /**
   * Messages per invocation, 1-10000 (above 10 needs `batchWindowSeconds` >= 1; FIFO at most 10).
   * @default 10
   */
  batchSize?: number;
  /**
   * How long Lambda gathers a batch before invoking, in seconds, 0-300.
   * @default 0
   */
  batchWindowSeconds?: number;
  /**
   * The most concurrent invocations the event source mapping starts, 2-1000.
   * @default 5
   */
  maxConcurrency?: number;
  /**
   * Receives before a message moves to the dead-letter queue, 1-1000.
   * @default 5
   */
  maxReceiveCount?: number;
  /**
   * How long a received message stays hidden, in seconds: at least 6 x the function
   * timeout + batchWindowSeconds, at most 43200.
   * @default 6 x the function timeout + batchWindowSeconds (AWS's recommendation)
   */
  visibilityTimeoutSeconds?: number;
  /**
   * How long the queue keeps a message, in seconds, 60-1209599; the dead-letter queue
   * keeps messages for the 14-day maximum, longer than the source.
   * @default 345600 (4 days)
   */
  messageRetentionSeconds?: number;
  /**
   * A FIFO queue (and FIFO dead-letter queue): ordered, exactly-once processing per group.
   * @default false
   */
  fifo?: boolean;
  /**
   * The age of the oldest message, in seconds, that raises the backlog alarm; below
   * `messageRetentionSeconds`.
   * @default 900, or half the retention when that is shorter
   */
  maxMessageAgeAlarmSeconds?: number;
}

export const QUEUE_WORKER_DEFAULTS = {
  batchSize: 10,
  batchWindowSeconds: 0,
  maxConcurrency: 5,
  maxReceiveCount: 5,
  messageRetentionSeconds: 4 * 24 * 3600,
  fifo: false,
  maxMessageAgeAlarmSeconds: 900,
} as const;

export { MAX_RETENTION_SECONDS };
const MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 3600;

/** What the consumer may do with its queue, and nothing more. */
export const CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];

type QueueSettings = Required<Pick<QueueWorkerArgs, keyof typeof QUEUE_WORKER_DEFAULTS>> & { visibilityTimeoutSeconds: number };

/** The name of a worker's consumer function. */
const consumerName = (workerName: string) => `${workerName}-consumer`;

/** Validates the queue settings (and the consumer's) and resolves every default. */
export function planQueueWorker(name: string, args: QueueWorkerArgs): { settings: QueueSettings; functionArgs: SecureFunctionArgs } {
  const problems = new ProblemCollector();
  const { batchSize, batchWindowSeconds, maxConcurrency, maxReceiveCount, visibilityTimeoutSeconds, messageRetentionSeconds, fifo, maxMessageAgeAlarmSeconds, ...functionArgs } = args;
  const timeout = functionArgs.timeout ?? SECURE_FUNCTION_DEFAULTS.timeout;
  const settings: QueueSettings = {
    ...QUEUE_WORKER_DEFAULTS,
    ...withoutUndefined({ batchSize, batchWindowSeconds, maxConcurrency, maxReceiveCount, messageRetentionSeconds, fifo, maxMessageAgeAlarmSeconds }),
    visibilityTimeoutSeconds: visibilityTimeoutSeconds ?? minimumVisibilityTimeoutSeconds(timeout, batchWindowSeconds ?? QUEUE_WORKER_DEFAULTS.batchWindowSeconds),
  };
  // A short retention lowers the default alarm, so it can fire before messages expire.
  if (maxMessageAgeAlarmSeconds === undefined) {
    settings.maxMessageAgeAlarmSeconds = Math.min(QUEUE_WORKER_DEFAULTS.maxMessageAgeAlarmSeconds, Math.floor(settings.messageRetentionSeconds / 2));
  }

  problems.integerInRange("batchSize", settings.batchSize, 1, settings.fifo ? 10 : 10000, settings.fifo ? "messages (FIFO)" : "messages");
  problems.integerInRange("batchWindowSeconds", settings.batchWindowSeconds, 0, 300, "seconds");
  if (settings.batchSize > 10 && !settings.fifo && settings.batchWindowSeconds < 1) {
    problems.add("batchSize", `${settings.batchSize} is above 10, which needs batchWindowSeconds of 1 or more; set batchWindowSeconds or lower batchSize.`);
  }
  if (settings.fifo && settings.batchWindowSeconds > 0) {
    problems.add("batchWindowSeconds", "FIFO queues do not support a batch window; set it to 0.");
  }
  problems.integerInRange("maxConcurrency", settings.maxConcurrency, 2, 1000, "invocations");
  if (functionArgs.disabled) {
    problems.add("disabled", "throttles every batch; throttled batches go back to the queue and count towards maxReceiveCount, so messages end in the dead-letter queue. Remove disabled: true.");
  } else if (functionArgs.reservedConcurrency !== undefined && settings.maxConcurrency > functionArgs.reservedConcurrency) {
    problems.add("maxConcurrency", `${settings.maxConcurrency} is above reservedConcurrency ${functionArgs.reservedConcurrency}; throttled batches go back to the queue and count towards maxReceiveCount. Lower maxConcurrency or raise reservedConcurrency.`);
  }
  problems.integerInRange("maxReceiveCount", settings.maxReceiveCount, 1, 1000, "receives");
  problems.integerInRange("messageRetentionSeconds", settings.messageRetentionSeconds, 60, MAX_RETENTION_SECONDS - 1, "seconds");
  problems.integerInRange("maxMessageAgeAlarmSeconds", settings.maxMessageAgeAlarmSeconds, 1, MAX_RETENTION_SECONDS, "seconds");
  const retentionValid = Number.isInteger(settings.messageRetentionSeconds) && settings.messageRetentionSeconds >= 60;
  if (retentionValid && settings.maxMessageAgeAlarmSeconds >= settings.messageRetentionSeconds) {
    problems.add("maxMessageAgeAlarmSeconds", `${settings.maxMessageAgeAlarmSeconds} seconds is not below messageRetentionSeconds ${settings.messageRetentionSeconds}; messages expire before the alarm could fire. Lower it.`);
  }
  const minimumVisibility = minimumVisibilityTimeoutSeconds(timeout, settings.batchWindowSeconds);
  if (Number.isInteger(settings.visibilityTimeoutSeconds) && settings.visibilityTimeoutSeconds < minimumVisibility) {
    problems.add("visibilityTimeoutSeconds", `${settings.visibilityTimeoutSeconds} seconds is below ${minimumVisibility}, 6x the function timeout of ${timeout} s plus the batch window of ${settings.batchWindowSeconds} s (AWS's recommendation); a batch still in work, or retried after a throttle, would be delivered again. Use at least ${minimumVisibility}, or leave it out for that default.`);
  } else {
    problems.integerInRange("visibilityTimeoutSeconds", settings.visibilityTimeoutSeconds, 0, MAX_VISIBILITY_TIMEOUT_SECONDS, "seconds");
  }
  prepareFunction(consumerName(name), functionArgs, "", problems);
  problems.throwIfAny("QueueWorker", name);
  return { settings, functionArgs };
}

/**
 * The consumer of each worker, outside the class for the reason `ServerlessApi` keeps its
 * route functions outside: Pulumi's schema analyzer cannot describe our own components.
 */
const consumers = new WeakMap<QueueWorker, SecureFunction>();

/**
 * An SQS queue with its dead-letter queue, consumed by a SecureFunction through an event
 * source mapping that reports partial batch failures, with alarms on the backlog and on
 * dead letters.
 */
export class QueueWorker extends pulumi.ComponentResource {
  /** The queue the consumer reads. */
  readonly queue: aws.sqs.Queue;
  /** Where messages go after `maxReceiveCount` failed receives. */
  readonly deadLetterQueue: aws.sqs.Queue;
  /** The TLS-only policies of the queue and the dead-letter queue. */
  readonly queuePolicies: aws.sqs.QueuePolicy[];
  /** The consumer function's ARN. */
  readonly functionArn: pulumi.Output<string>;
  /** The consumer function's name. */
  readonly functionName: pulumi.Output<string>;
  /** Feeds the consumer batches and reads its partial batch failures. */
  readonly eventSourceMapping: aws.lambda.EventSourceMapping;
  /** Dead letters present, and the age of the oldest waiting message. */
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  /** The queue's URL, for producers. */
  readonly queueUrl: pulumi.Output<string>;
  /** The queue's ARN. */
  readonly queueArn: pulumi.Output<string>;
  /**
   * The statement a producer adds to its own `permissions` to send to this queue.
   * @deprecated With a `kmsKeyArn` sending also needs the key: use `sendPermissions`.
   */
  readonly sendPermission: PermissionStatement;
  /** The statements a producer adds to its own `permissions` to send to this queue (and, with `kmsKeyArn`, to encrypt for it). */
  readonly sendPermissions: PermissionStatement[];

  constructor(name: string, args: QueueWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    const { settings, functionArgs } = planQueueWorker(name, args);
    super(componentType("QueueWorker"), name, {}, withTags("QueueWorker", name, args.tags, withLegacyTypeAlias("QueueWorker", opts)));
    const parent = { parent: this };
    const suffix = settings.fifo ? ".fifo" : "";

    const alarmActions = args.alarmActions ?? [];
    const kmsKey = checkedKmsKey(new ResolvedArgumentChecks("QueueWorker", name, this), "kmsKeyArn", args.kmsKeyArn);
    const deadLetters = createDeadLetterQueue(name, { fifo: settings.fifo, failure: `messages failed ${settings.maxReceiveCount} times`, alarmActions, kmsKeyArn: kmsKey }, this);
    this.deadLetterQueue = deadLetters.queue;

    this.queue = new aws.sqs.Queue(`${name}-queue`, {
      name: physicalName(name, NAME_LIMITS.sqsQueue, suffix),
      fifoQueue: settings.fifo || undefined,
      messageRetentionSeconds: settings.messageRetentionSeconds,
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      ...queueEncryption(kmsKey),
      redrivePolicy: this.deadLetterQueue.arn.apply((deadLetterTargetArn) =>
        JSON.stringify({ deadLetterTargetArn, maxReceiveCount: settings.maxReceiveCount })),
    }, parent);

    this.queuePolicies = [createTlsOnlyPolicy(`${name}-queue`, this.queue, this), deadLetters.policy];

    // The key is handed on checked, so a bad Output is reported once, against the worker.
    const consumer = new SecureFunction(consumerName(name), {
      ...functionArgs,
      kmsKeyArn: kmsKey,
      permissions: [
        ...(functionArgs.permissions ?? []),
        { actions: CONSUMER_ACTIONS, resources: [this.queue.arn] },
        ...(kmsKey !== undefined ? [keyStatement(KMS_READ_ACTIONS, kmsKey)] : []),
      ],
    }, parent);
    consumers.set(this, consumer);
    this.functionArn = consumer.arn;
    this.functionName = consumer.name;

    this.eventSourceMapping = new aws.lambda.EventSourceMapping(`${name}-mapping`, {
      eventSourceArn: this.queue.arn,
      functionName: consumer.targetArn,
      batchSize: settings.batchSize,
      maximumBatchingWindowInSeconds: settings.batchWindowSeconds > 0 ? settings.batchWindowSeconds : undefined,
      scalingConfig: { maximumConcurrency: settings.maxConcurrency },
      functionResponseTypes: ["ReportBatchItemFailures"],
    }, parent);

    this.alarms = [
      deadLetters.alarm,
      createAlarm(`${name}-backlog-age`, {
        description: `${name}: the oldest message has waited ${settings.maxMessageAgeAlarmSeconds} s or more.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: this.queue.name },
        statistic: "Maximum", period: 60, evaluationPeriods: 5, threshold: settings.maxMessageAgeAlarmSeconds,
      }, alarmActions, this),
    ];

    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;
    this.sendPermission = { actions: ["sqs:SendMessage"], resources: [this.queue.arn] };
    this.sendPermissions = [this.sendPermission, ...(kmsKey !== undefined ? [keyStatement(KMS_SEND_ACTIONS, kmsKey)] : [])];
    this.registerOutputs({ queueUrl: this.queueUrl, queueArn: this.queueArn, deadLetterQueueUrl: this.deadLetterQueue.url });
  }

  /** The consumer (TypeScript only; other languages see `functionArn` and `functionName`). */
  get function(): SecureFunction {
    return consumers.get(this)!;
  }
}
