// The shapes of the ARNs the components accept from users, each with the message that says
// what is wrong and what to pass instead. Partitions other than "aws" (aws-cn, aws-us-gov)
// are accepted everywhere.

/** The kind of stream a worker reads. */
export const StreamKind = {
  DynamoDb: "dynamodb",
  Kinesis: "kinesis",
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

/** The partitions an ARN may name (`aws`, `aws-cn`, `aws-us-gov`, ...), as a regular expression's source. */
export const ARN_PARTITION = "aws(?:-[a-z]+)*";
const DYNAMODB_STREAM_ARN = new RegExp(`^arn:${ARN_PARTITION}:dynamodb:[a-z0-9-]+:\\d{12}:table/[A-Za-z0-9_.-]{3,255}/stream/[^/]+$`);
const KINESIS_STREAM_ARN = new RegExp(`^arn:${ARN_PARTITION}:kinesis:[a-z0-9-]+:\\d{12}:stream/[A-Za-z0-9_.-]{1,128}$`);

/** The kind of stream an ARN names, or undefined when it names neither. */
export function streamKindOf(arn: string): StreamKind | undefined {
  if (DYNAMODB_STREAM_ARN.test(arn)) return "dynamodb";
  if (KINESIS_STREAM_ARN.test(arn)) return "kinesis";
  return undefined;
}

/** Why `arn` is not a stream of the kind `declared` (when given), or undefined. */
export function streamArnProblem(arn: unknown, declared: StreamKind | undefined): string | undefined {
  if (typeof arn !== "string" || arn === "") return `${JSON.stringify(arn)} is not an ARN; pass a DynamoDB table's streamArn or a Kinesis stream's arn.`;
  const kind = streamKindOf(arn);
  if (kind === undefined) {
    if (/^arn:[^:]+:dynamodb:[^:]*:\d*:table\/[^/]+$/.test(arn)) {
      return `${JSON.stringify(arn)} is a DynamoDB table's ARN, not its stream's; enable the table's stream (streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES") and pass table.streamArn.`;
    }
    if (/^arn:[^:]+:kinesis:[^:]*:\d*:stream\/[^/]+\/consumer\//.test(arn)) {
      return `${JSON.stringify(arn)} is a Kinesis stream consumer (enhanced fan-out), which StreamWorker does not read; pass the stream's arn.`;
    }
    return `${JSON.stringify(arn)} is neither a DynamoDB stream (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>) nor a Kinesis stream (arn:aws:kinesis:<region>:<account>:stream/<name>); pass a table's streamArn or a stream's arn.`;
  }
  if (declared !== undefined && declared !== kind) {
    return `${JSON.stringify(arn)} is a ${kind} stream, but streamKind says ${JSON.stringify(declared)}; set streamKind: ${JSON.stringify(kind)}.`;
  }
  return undefined;
}

/** Why `arn` cannot take failed records as a destination of `service` (SQS or SNS, not FIFO), or undefined. */
export function destinationProblem(arn: unknown, service: "sqs" | "sns"): string | undefined {
  const what = service === "sqs" ? "an SQS queue" : "an SNS topic";
  if (typeof arn !== "string" || !new RegExp(`^arn:${ARN_PARTITION}:${service}:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_.-]+$`).test(arn)) {
    return `${JSON.stringify(arn)} is not the ARN of ${what}; pass e.g. ${service === "sqs" ? "queue.arn" : "topic.arn"}.`;
  }
  if (arn.endsWith(".fifo")) return `${JSON.stringify(arn)} is FIFO, which Lambda cannot send failed batches to; use a standard ${service === "sqs" ? "queue" : "topic"}.`;
  return undefined;
}

/** Why `arn` is not a KMS key ARN that IAM can match `kms:Decrypt` against, or undefined. */
export function kmsKeyProblem(arn: unknown): string | undefined {
  if (typeof arn === "string" && new RegExp(`^arn:${ARN_PARTITION}:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$`).test(arn)) return undefined;
  return `${JSON.stringify(arn)} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); IAM matches kms:Decrypt on the key's ARN, not an alias: pass key.arn.`;
}
