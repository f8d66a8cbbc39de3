import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { destinationProblem, StreamKind, streamArnProblem, streamKindOf } from "./arns";
import { DESTINATION_ACTIONS } from "./async-invoke";
import { createDeadLetterQueue } from "./dead-letter-queue";
import { checkFilterPatterns } from "./event-filters";
import { checkedKmsKey, checkKmsKeyArn, KMS_READ_ACTIONS, KMS_SEND_ACTIONS, keyStatement } from "./kms";
import { STREAM_MAPPING_LIMITS } from "./limits";
import { PermissionStatement } from "./policy";
import { prepareFunction, SecureFunction, SecureFunctionArgs } from "./secure-function";
import { withTags } from "./tags";
import { componentType } from "./tokens";
import { ProblemCollector, ResolvedArgumentChecks, withoutUndefined } from "./validation";

export { StreamKind };

/** Where a new mapping starts reading each shard. */
export const StreamStartingPosition = {
  /** Only records written after the mapping is created. */
  Latest: "LATEST",
  /** Every record still in the stream, oldest first. */
  TrimHorizon: "TRIM_HORIZON",
  /** Records from `startingPositionTimestamp` on (Kinesis only). */
  AtTimestamp: "AT_TIMESTAMP",
} as const;
export type StreamStartingPosition = (typeof StreamStartingPosition)[keyof typeof StreamStartingPosition];

/** The arguments of a {@link StreamWorker}: the consumer function's, plus the stream mapping's. */
export interface StreamWorkerArgs extends SecureFunctionArgs {
  /**
   * The stream to read: a DynamoDB table's `streamArn`
   * (`arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`) or a Kinesis
   * stream's `arn` (`arn:aws:kinesis:<region>:<account>:stream/<name>`). The kind is told
   * from the ARN; when it is an Output (e.g. `table.streamArn`), say it in `streamKind`.
   */
  streamArn: pulumi.Input<string>;
  /**
   * `"dynamodb"` or `"kinesis"`: required when `streamArn` is an Output, whose kind cannot be
   * told before it resolves; it must agree with the ARN (checked once the ARN is known).
   * @default told from `streamArn`
   */
  streamKind?: StreamKind;
  /**
   * Where a new mapping starts in each shard: `LATEST`, `TRIM_HORIZON`, or (Kinesis only)
   * `AT_TIMESTAMP` with `startingPositionTimestamp`.
   * @default "LATEST"
   */
  startingPosition?: StreamStartingPosition;
  /** With `AT_TIMESTAMP`: the time to start from, as an ISO 8601 date-time such as `2026-01-01T00:00:00Z`. */
  startingPositionTimestamp?: string;
  /**
   * Records per invocation, 1-10000 (the payload is also capped at 6 MB).
   * @default 100
   */
  batchSize?: number;
  /**
   * How long Lambda gathers records before invoking, in seconds, 0-300.
   * @default 0
   */
  batchWindowSeconds?: number;
  /**
   * Batches processed at once per shard, 1-10 (records with the same key stay in order).
   * @default 1
   */
  parallelizationFactor?: number;
  /**
   * Event filter patterns, at most 5: a record is delivered when any pattern matches it;
   * the others are dropped and never retried. Each is a JSON object over the record's
   * fields, e.g. `{ eventName: ["INSERT"] }` (DynamoDB) or `{ data: { type: ["order"] } }`
   * (Kinesis, JSON data only).
   * @default [] (every record)
   */
  // `any`: the schema's free-form JSON; the patterns are checked at construction.
  filters?: Record<string, any>[];
  /**
   * On a function error, split the failing batch in two and retry each half, so one bad
   * record does not fail its neighbours.
   * @default true
   */
  bisectOnError?: boolean;
  /**
   * Retries of a failing batch before its records go to the dead-letter queue, 0-10000, or
   * -1 (until the records reach `maxRecordAgeSeconds`). Not -1 with `maxRecordAgeSeconds`
   * -1: a failing record would then block its shard until it leaves the stream.
   * @default 3
   */
  maxRetries?: number;
  /**
   * Records older than this, in seconds, are not retried but go to the dead-letter queue:
   * 60-604800 (DynamoDB at most 86400, the stream's retention), or -1 (until they leave the
   * stream).
   * @default 86400 for Kinesis, 3600 for DynamoDB (leaving most of the stream's 24 h to read a failed batch back)
   */
  maxRecordAgeSeconds?: number;
  /**
   * Your own SQS queue for failed batches, instead of the one the worker creates (not
   * FIFO). The worker then creates no queue and no dead-letter alarm: alarm on it yourself.
   * At most one of `deadLetterQueueArn` and `deadLetterTopicArn`.
   */
  deadLetterQueueArn?: pulumi.Input<string>;
  /** Your own SNS topic for failed batches, instead of a queue the worker creates (not FIFO). */
  deadLetterTopicArn?: pulumi.Input<string>;
  /**
   * The customer managed KMS key (its key ARN, not an alias) that encrypts the stream; the
   * consumer is granted `kms:Decrypt` on it, and on no other key. (`kmsKeyArn` is the key of
   * what the worker creates: its dead-letter queue and the consumer's logs and secrets.)
   * @default none (the stream uses an AWS owned or managed key)
   */
  streamKmsKeyArn?: pulumi.Input<string>;
  /**
   * The age of the newest record read, in seconds, that raises the iterator-age alarm (the
   * consumer is falling behind); below `maxRecordAgeSeconds`.
   * @default 300
   */
  iteratorAgeAlarmSeconds?: number;
}

export const STREAM_WORKER_DEFAULTS = {
  startingPosition: "LATEST",
  batchSize: 100,
  batchWindowSeconds: 0,
  parallelizationFactor: 1,
  bisectOnError: true,
  maxRetries: 3,
  iteratorAgeAlarmSeconds: 300,
} as const;

/** The default `maxRecordAgeSeconds` per kind of stream. */
export const DEFAULT_MAX_RECORD_AGE_SECONDS: Record<StreamKind, number> = { kinesis: 24 * 3600, dynamodb: 3600 };

/** What the consumer may do with its stream, and nothing more, per kind. */
export const STREAM_READ_ACTIONS: Record<StreamKind, string[]> = {
  dynamodb: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
  kinesis: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
};

/** The fields of each kind's records, which a filter pattern's top level names. */
export const STREAM_RECORD_FIELDS: Record<StreamKind, string[]> = {
  dynamodb: ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "userIdentity"],
  kinesis: ["kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp"],
};

const STREAM_KINDS: readonly StreamKind[] = Object.values(StreamKind);
const STARTING_POSITIONS: readonly StreamStartingPosition[] = Object.values(StreamStartingPosition);
type StreamSettings = Required<Pick<StreamWorkerArgs, keyof typeof STREAM_WORKER_DEFAULTS | "maxRecordAgeSeconds">> & {
  kind: StreamKind;
  startingPositionTimestamp?: string;
  filters: Record<string, any>[];
};

/** The name of a worker's consumer function. */
const consumerName = (workerName: string) => `${workerName}-consumer`;

/** Validates the stream settings (and the consumer's) and resolves every default. */
export function planStreamWorker(name: string, args: StreamWorkerArgs): { settings: StreamSettings; functionArgs: SecureFunctionArgs } {
  const problems = new ProblemCollector();
  const {
    streamArn, streamKind, startingPosition, startingPositionTimestamp, batchSize, batchWindowSeconds, parallelizationFactor, filters,
    bisectOnError, maxRetries, maxRecordAgeSeconds, deadLetterQueueArn, deadLetterTopicArn, streamKmsKeyArn, iteratorAgeAlarmSeconds, ...functionArgs
  } = args;
  const kind = checkStream(streamArn, streamKind, problems);
  const settings: StreamSettings = {
    ...STREAM_WORKER_DEFAULTS,
    ...withoutUndefined({ startingPosition, batchSize, batchWindowSeconds, parallelizationFactor, bisectOnError, maxRetries, iteratorAgeAlarmSeconds }),
    // An unknown kind is already a problem; "kinesis" only fills the gap until the throw.
    kind: kind ?? "kinesis",
    maxRecordAgeSeconds: maxRecordAgeSeconds ?? DEFAULT_MAX_RECORD_AGE_SECONDS[kind ?? "kinesis"],
    startingPositionTimestamp,
    filters: filters ?? [],
  };
  const limits = STREAM_MAPPING_LIMITS;

  checkStartingPosition(settings, kind, problems);
  problems.integerInRange("batchSize", settings.batchSize, limits.batchSize.min, limits.batchSize.max, "records");
  problems.integerInRange("batchWindowSeconds", settings.batchWindowSeconds, limits.batchWindowSeconds.min, limits.batchWindowSeconds.max, "seconds");
  problems.integerInRange("parallelizationFactor", settings.parallelizationFactor, limits.parallelizationFactor.min, limits.parallelizationFactor.max, "batches per shard");
  checkFilterPatterns("filters", filters, kind ? STREAM_RECORD_FIELDS[kind] : undefined, { maxFilters: limits.filters, maxLength: limits.filterPatternLength }, problems);
  checkFailureHandling(settings, kind, problems);
  if (deadLetterQueueArn !== undefined && deadLetterTopicArn !== undefined) {
    problems.add("deadLetterTopicArn", "is set with deadLetterQueueArn; a mapping has one on-failure destination: keep one of them.");
  }
  // Outputs are checked once they resolve (StreamWorker's constructor).
  if (typeof deadLetterQueueArn === "string") addIf(problems, "deadLetterQueueArn", destinationProblem(deadLetterQueueArn, "sqs"));
  if (typeof deadLetterTopicArn === "string") addIf(problems, "deadLetterTopicArn", destinationProblem(deadLetterTopicArn, "sns"));
  checkKmsKeyArn("streamKmsKeyArn", streamKmsKeyArn, problems);

  // Throttled batches are retried, uncounted, until the records reach maxRecordAgeSeconds.
  if (functionArgs.disabled) {
    problems.add("disabled", "throttles every batch; Lambda retries throttled batches until the records reach maxRecordAgeSeconds, blocking each shard, then dead-letters them. Remove disabled: true.");
  } else if (functionArgs.reservedConcurrency !== undefined && Number.isInteger(settings.parallelizationFactor) && functionArgs.reservedConcurrency < settings.parallelizationFactor) {
    problems.add("parallelizationFactor", `${settings.parallelizationFactor} batches per shard need that many concurrent invocations, above reservedConcurrency ${functionArgs.reservedConcurrency}; throttled batches block their shard until the records reach maxRecordAgeSeconds. Lower parallelizationFactor or raise reservedConcurrency (to at least shards x parallelizationFactor).`);
  }
  prepareFunction(consumerName(name), functionArgs, "", problems);
  problems.throwIfAny("StreamWorker", name);
  return { settings, functionArgs };
}

/** Checks the stream and its declared kind; returns the kind, when it is known now. */
function checkStream(streamArn: pulumi.Input<string>, streamKind: StreamKind | undefined, problems: ProblemCollector): StreamKind | undefined {
  problems.oneOf("streamKind", streamKind, STREAM_KINDS);
  const declared = STREAM_KINDS.includes(streamKind as StreamKind) ? streamKind : undefined;
  if (typeof streamArn === "object" && streamArn !== null) {
    // An Output (or a promise): checked against streamKind once it resolves.
    if (streamKind === undefined) problems.add("streamKind", "is required because streamArn is an Output, whose kind cannot be told before it resolves; set streamKind: \"dynamodb\" (a table's streamArn) or \"kinesis\" (a stream's arn).");
    return declared;
  }
  addIf(problems, "streamArn", streamArnProblem(streamArn, declared));
  return (typeof streamArn === "string" ? streamKindOf(streamArn) : undefined) ?? declared;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkStartingPosition(settings: StreamSettings, kind: StreamKind | undefined, problems: ProblemCollector): void {
  const { startingPosition, startingPositionTimestamp: timestamp } = settings;
  problems.oneOf("startingPosition", startingPosition, STARTING_POSITIONS);
  if (startingPosition === "AT_TIMESTAMP") {
    if (kind === "dynamodb") problems.add("startingPosition", "AT_TIMESTAMP is for Kinesis streams only; a DynamoDB stream starts at LATEST or TRIM_HORIZON.");
    if (timestamp === undefined) problems.add("startingPositionTimestamp", "is required with startingPosition AT_TIMESTAMP; give an ISO 8601 date-time such as \"2026-01-01T00:00:00Z\".");
  }
  if (timestamp === undefined) return;
  if (startingPosition !== "AT_TIMESTAMP") {
    problems.add("startingPositionTimestamp", `is only read with startingPosition AT_TIMESTAMP, not ${JSON.stringify(startingPosition)}; set that or remove it.`);
  } else if (typeof timestamp !== "string" || !ISO_DATE_TIME.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
    problems.add("startingPositionTimestamp", `${JSON.stringify(timestamp)} is not an ISO 8601 date-time with a zone; write e.g. "2026-01-01T00:00:00Z".`);
  }
}

/** Bisect, retries, record age and the iterator-age alarm: together they bound how long a shard waits. */
function checkFailureHandling(settings: StreamSettings, kind: StreamKind | undefined, problems: ProblemCollector): void {
  const limits = STREAM_MAPPING_LIMITS;
  if (typeof settings.bisectOnError !== "boolean") problems.add("bisectOnError", `${JSON.stringify(settings.bisectOnError)} is not true or false.`);
  problems.integerInRange("maxRetries", settings.maxRetries, limits.maxRetries.min, limits.maxRetries.max, "retries");
  const validMaxRecordAge = checkMaxRecordAge(settings, kind, problems);
  if (settings.maxRetries === -1 && settings.maxRecordAgeSeconds === -1) {
    problems.add("maxRetries", "-1 with maxRecordAgeSeconds -1 retries a failing batch until its records leave the stream: the shard is blocked meanwhile, and the records are then lost without reaching the dead-letter queue. Give maxRetries (e.g. 3) or maxRecordAgeSeconds a finite value.");
  }
  problems.integerInRange("iteratorAgeAlarmSeconds", settings.iteratorAgeAlarmSeconds, 1, limits.maxRecordAgeSeconds.max, "seconds");
  if (Number.isInteger(settings.iteratorAgeAlarmSeconds) && validMaxRecordAge && settings.maxRecordAgeSeconds > 0 && settings.iteratorAgeAlarmSeconds >= settings.maxRecordAgeSeconds) {
    problems.add("iteratorAgeAlarmSeconds", `${settings.iteratorAgeAlarmSeconds} seconds is not below maxRecordAgeSeconds ${settings.maxRecordAgeSeconds}; records are dead-lettered before the alarm could fire. Lower it.`);
  }
}

function addIf(problems: ProblemCollector, path: string, reason: string | undefined): void {
  if (reason) problems.add(path, reason);
}

/** Checks `maxRecordAgeSeconds`; returns whether it is valid. */
function checkMaxRecordAge(settings: StreamSettings, kind: StreamKind | undefined, problems: ProblemCollector): boolean {
  const age = settings.maxRecordAgeSeconds;
  const { min, max } = STREAM_MAPPING_LIMITS.maxRecordAgeSeconds;
  const retention = STREAM_MAPPING_LIMITS.dynamodbStreamRetentionSeconds;
  if (age === -1) return true;
  if (!Number.isInteger(age) || age < min || age > max) {
    problems.add("maxRecordAgeSeconds", `${age} seconds is outside ${min}-${max} seconds; use a value in that range, or -1 for no limit.`);
    return false;
  }
  if (kind === "dynamodb" && age > retention) {
    problems.add("maxRecordAgeSeconds", `${age} seconds is above ${retention}, the 24 h a DynamoDB stream keeps a record; records would leave the stream first, lost without reaching the dead-letter queue. Use at most ${retention}.`);
    return false;
  }
  return true;
}

/** Consumers outside the class, as QueueWorker keeps them: the schema analyzer cannot describe our own components. */
const consumers = new WeakMap<StreamWorker, SecureFunction>();

/**
 * A SecureFunction consuming a DynamoDB stream or a Kinesis stream through an event source
 * mapping that reports partial batch failures, bisects failing batches, bounds retries and
 * record age, and sends what still fails to a dead-letter queue, with alarms on the
 * iterator age and on dead letters.
 */
export class StreamWorker extends pulumi.ComponentResource {
  /** Feeds the consumer batches from each shard and reads its partial batch failures. */
  readonly eventSourceMapping: aws.lambda.EventSourceMapping;
  /** The queue failed batches go to, when the worker created it (undefined when you gave your own). */
  readonly deadLetterQueue?: aws.sqs.Queue;
  /** The TLS-only policy of the dead-letter queue the worker created. */
  readonly deadLetterQueuePolicy?: aws.sqs.QueuePolicy;
  /** The iterator age (the consumer falling behind) and, with the worker's own queue, dead letters present. */
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  /** The consumer function's ARN. */
  readonly functionArn: pulumi.Output<string>;
  /** The consumer function's name. */
  readonly functionName: pulumi.Output<string>;
  /** Where failed batches go: the worker's dead-letter queue, or your queue or topic. */
  readonly deadLetterArn: pulumi.Output<string>;
  /** The URL of the worker's dead-letter queue (undefined when you gave your own destination). */
  readonly deadLetterQueueUrl?: pulumi.Output<string>;

  constructor(name: string, args: StreamWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    const { settings, functionArgs } = planStreamWorker(name, args);
    // A new component: no token from before 1.0.0 to alias.
    super(componentType("StreamWorker"), name, {}, withTags("StreamWorker", name, args.tags, opts));
    const parent = { parent: this };
    const checks = new ResolvedArgumentChecks("StreamWorker", name, this);
    const alarmActions = args.alarmActions ?? [];
    const streamArn = typeof args.streamArn === "string" ? pulumi.output(args.streamArn) : checks.checked("streamArn", args.streamArn, (arn) => streamArnProblem(arn, settings.kind));

    const kmsKey = checkedKmsKey(checks, "kmsKeyArn", args.kmsKeyArn);
    const destination = this.failureDestination(name, args, settings, checks, alarmActions, kmsKey);
    this.deadLetterQueue = destination.queue;
    this.deadLetterQueuePolicy = destination.policy;
    this.deadLetterArn = destination.arn;
    this.deadLetterQueueUrl = destination.queue?.url;

    const consumer = new SecureFunction(consumerName(name), {
      ...functionArgs,
      kmsKeyArn: kmsKey,
      permissions: [...(functionArgs.permissions ?? []), ...consumerStatements(settings.kind, streamArn, destination.statements, args.streamKmsKeyArn, checks)],
    }, parent);
    consumers.set(this, consumer);
    this.functionArn = consumer.arn;
    this.functionName = consumer.name;

    this.eventSourceMapping = new aws.lambda.EventSourceMapping(`${name}-mapping`, {
      eventSourceArn: streamArn,
      functionName: consumer.targetArn,
      startingPosition: settings.startingPosition,
      startingPositionTimestamp: settings.startingPositionTimestamp,
      batchSize: settings.batchSize,
      maximumBatchingWindowInSeconds: settings.batchWindowSeconds,
      parallelizationFactor: settings.parallelizationFactor,
      bisectBatchOnFunctionError: settings.bisectOnError,
      maximumRetryAttempts: settings.maxRetries,
      maximumRecordAgeInSeconds: settings.maxRecordAgeSeconds,
      destinationConfig: { onFailure: { destinationArn: destination.arn } },
      functionResponseTypes: ["ReportBatchItemFailures"],
      filterCriteria: settings.filters.length > 0 ? { filters: settings.filters.map((pattern) => ({ pattern: JSON.stringify(pattern) })) } : undefined,
    }, parent);

    this.alarms = [
      ...(destination.alarm ? [destination.alarm] : []),
      createAlarm(`${name}-iterator-age`, {
        description: `${name}: the consumer reads records ${settings.iteratorAgeAlarmSeconds} s or more after they were written; it is falling behind.`,
        namespace: "AWS/Lambda",
        metricName: "IteratorAge",
        dimensions: { FunctionName: consumer.name },
        // IteratorAge is reported in milliseconds.
        statistic: "Maximum", period: 60, evaluationPeriods: 5, threshold: settings.iteratorAgeAlarmSeconds * 1000,
      }, alarmActions, this),
    ];

    this.registerOutputs({ functionArn: this.functionArn, functionName: this.functionName, deadLetterArn: this.deadLetterArn, deadLetterQueueUrl: this.deadLetterQueueUrl });
  }

  /** The user's queue or topic, checked once it resolves, or a dead-letter queue of our own. */
  private failureDestination(name: string, args: StreamWorkerArgs, settings: StreamSettings, checks: ResolvedArgumentChecks, alarmActions: pulumi.Input<pulumi.Input<string>[]>, kmsKey: pulumi.Input<string> | undefined) {
    const given = args.deadLetterQueueArn !== undefined ? { path: "deadLetterQueueArn", arn: args.deadLetterQueueArn, service: "sqs" as const }
      : args.deadLetterTopicArn !== undefined ? { path: "deadLetterTopicArn", arn: args.deadLetterTopicArn, service: "sns" as const }
      : undefined;
    if (given) {
      const arn = checks.checked(given.path, given.arn, (resolved) => destinationProblem(resolved, given.service));
      return { arn, statements: [{ actions: [DESTINATION_ACTIONS[given.service]], resources: [arn] }], queue: undefined, policy: undefined, alarm: undefined };
    }
    const retries = settings.maxRetries === -1 ? "were retried" : `failed ${settings.maxRetries + 1} times`;
    const age = settings.maxRecordAgeSeconds === -1 ? "" : ` or reached ${settings.maxRecordAgeSeconds} s of age`;
    const deadLetters = createDeadLetterQueue(name, { failure: `batches ${retries}${age}`, alarmActions, kmsKeyArn: kmsKey }, this);
    // Lambda sends failed batches with the consumer's role, which must then encrypt for the queue.
    const statements: PermissionStatement[] = [{ actions: [DESTINATION_ACTIONS.sqs], resources: [deadLetters.queue.arn] }];
    if (kmsKey !== undefined) statements.push(keyStatement(KMS_SEND_ACTIONS, kmsKey));
    return { arn: deadLetters.queue.arn, statements, ...deadLetters };
  }

  /** The consumer (TypeScript only; other languages see `functionArn` and `functionName`). */
  get function(): SecureFunction {
    return consumers.get(this)!;
  }
}

/**
 * The consumer's statements: read exactly its stream, send to its failure destination, and
 * decrypt with the stream's key when one is named.
 */
function consumerStatements(kind: StreamKind, streamArn: pulumi.Output<string>, destination: PermissionStatement[], streamKmsKeyArn: pulumi.Input<string> | undefined, checks: ResolvedArgumentChecks): PermissionStatement[] {
  const statements: PermissionStatement[] = [{ actions: STREAM_READ_ACTIONS[kind], resources: [streamArn] }];
  if (kind === "dynamodb") {
    // AWS lists ListStreams among what Lambda needs for a DynamoDB stream, and scopes it in
    // its own example to the table's streams: the narrowest resource it documents.
    statements.push({ actions: ["dynamodb:ListStreams"], resources: [streamArn.apply((arn) => arn.replace(/\/stream\/[^/]+$/, "/stream/*"))] });
  }
  statements.push(...destination);
  const streamKey = checkedKmsKey(checks, "streamKmsKeyArn", streamKmsKeyArn);
  if (streamKey !== undefined) statements.push(keyStatement(KMS_READ_ACTIONS, streamKey));
  return statements;
}
