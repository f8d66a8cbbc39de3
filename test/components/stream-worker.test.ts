import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { StreamWorker, StreamWorkerArgs } from "../../components";
import { planStreamWorker, STREAM_READ_ACTIONS } from "../../components/stream-worker";
import { checkPolicies } from "../../tools/policy-check";
import { one, ofType, record, RecordedResource } from "../mocks";
import { ACCOUNT, childrenOf, expectDeploymentFailure, expectRefused, lambdaArn, libraryTags, recordComponent, recordWithoutFailure, sqsArn, statementsBySid, TEST_REGION, TYPES, WORKER } from "./support";

const ALERTS = "arn:aws:sns:eu-west-1:123456789012:alerts";
const TABLE_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000";
const KINESIS_STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks";
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const USER_QUEUE = "arn:aws:sqs:eu-west-1:123456789012:failed-changes";
const USER_TOPIC = "arn:aws:sns:eu-west-1:123456789012:failed-changes";
const STREAM_WORKER = "serverless-components:index:StreamWorker";

function recordWorker(name: string, args: StreamWorkerArgs) {
  return recordComponent(() => new StreamWorker(name, args), (worker) => ({
    functionArn: worker.functionArn,
    functionName: worker.functionName,
    deadLetterArn: worker.deadLetterArn,
    // A stack output may not be undefined (the SDK warns).
    deadLetterQueueUrl: worker.deadLetterQueueUrl ?? "none",
  }));
}

function refuse(args: Partial<StreamWorkerArgs>, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, ...args }), "StreamWorker", "changes", problems);
}

const logsStatement = (fn: string) => ({ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`arn:aws:logs:${TEST_REGION}:${ACCOUNT}:log-group:/aws/lambda/${fn}:*`] });
const tracingStatement = { Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: ["*"] };

describe("StreamWorker", () => {
  describe("on a DynamoDB stream, with the defaults", () => {
    let evaluation: Awaited<ReturnType<typeof recordWorker>>;
    let resources: RecordedResource[];

    before(async () => {
      evaluation = await recordWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM });
      resources = evaluation.resources;
    });

    it("registers the consumer, its dead-letter queue with its policy, the mapping and two alarms under the component", () => {
      const component = one(resources, STREAM_WORKER, "changes");
      expect(childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`).sort()).to.deep.equal([
        `${TYPES.queue}::changes-dlq`,
        `${TYPES.queuePolicy}::changes-dlq-tls-only`,
        `${TYPES.secureFunction}::changes-consumer`,
        `${TYPES.eventSourceMapping}::changes-mapping`,
        `${TYPES.alarm}::changes-dead-letters`,
        `${TYPES.alarm}::changes-iterator-age`,
      ].sort());
      expect(one(resources, TYPES.queue, "changes-dlq").inputs).to.deep.equal({ tags: libraryTags("StreamWorker/changes"), name: "shop-dev-changes-dlq", messageRetentionSeconds: 1209600, sqsManagedSseEnabled: true });
    });

    it("maps the stream with partial batch responses, bisect, 3 retries, a 1 h record age and the DLQ as on-failure destination", () => {
      const mapping = one(resources, TYPES.eventSourceMapping);
      expect(mapping.inputs).to.deep.equal({
        tags: libraryTags("StreamWorker/changes"),
        eventSourceArn: TABLE_STREAM,
        functionName: lambdaArn("shop-dev-changes-consumer"),
        startingPosition: "LATEST",
        batchSize: 100,
        maximumBatchingWindowInSeconds: 0,
        parallelizationFactor: 1,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 3,
        maximumRecordAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destinationArn: sqsArn("shop-dev-changes-dlq") } },
        functionResponseTypes: ["ReportBatchItemFailures"],
      });
      // Created once the consumer (and so its role policy) exists.
      expect(mapping.dependencies).to.include(one(resources, TYPES.function).urn);
    });

    it("lets the consumer read exactly that stream, list only that table's streams, and send only to its DLQ", () => {
      expect(statementsBySid(one(resources, TYPES.rolePolicy))).to.deep.equal({
        WriteOwnLogs: logsStatement("shop-dev-changes-consumer"),
        Tracing: tracingStatement,
        Granted0: { Effect: "Allow", Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"], Resource: [TABLE_STREAM] },
        Granted1: { Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/*"] },
        Granted2: { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [sqsArn("shop-dev-changes-dlq")] },
      });
    });

    it("alarms on the iterator age (in milliseconds) and on dead letters", () => {
      const common = { statistic: "Maximum", period: 60, comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching", alarmActions: [], okActions: [] };
      expect(one(resources, TYPES.alarm, "changes-iterator-age").inputs).to.deep.equal({
        tags: libraryTags("StreamWorker/changes"),
        ...common,
        name: "shop-dev-changes-iterator-age",
        alarmDescription: "changes: the consumer reads records 300 s or more after they were written; it is falling behind.",
        namespace: "AWS/Lambda",
        metricName: "IteratorAge",
        dimensions: { FunctionName: "shop-dev-changes-consumer" },
        evaluationPeriods: 5,
        threshold: 300_000,
      });
      expect(one(resources, TYPES.alarm, "changes-dead-letters").inputs).to.deep.include({
        alarmDescription: "changes: batches failed 4 times or reached 3600 s of age and wait in the dead-letter queue.",
        dimensions: { QueueName: "shop-dev-changes-dlq" },
      });
      expect(evaluation.component.alarms.length).to.equal(2);
    });

    it("exposes the consumer, its function and the dead-letter queue", () => {
      expect(evaluation.outputs).to.deep.equal({
        functionArn: lambdaArn("shop-dev-changes-consumer"),
        functionName: "shop-dev-changes-consumer",
        deadLetterArn: sqsArn("shop-dev-changes-dlq"),
        deadLetterQueueUrl: `https://sqs.${TEST_REGION}.amazonaws.com/${ACCOUNT}/shop-dev-changes-dlq`,
      });
      expect(evaluation.component.function).to.be.instanceOf(Object);
      expect(evaluation.component.deadLetterQueue).not.to.equal(undefined);
      expect(one(resources, TYPES.function).inputs.name).to.equal("shop-dev-changes-consumer");
    });
  });

  describe("on a Kinesis stream, with every option set", () => {
    let resources: RecordedResource[];
    let worker: StreamWorker;

    before(async () => {
      ({ resources, component: worker } = await recordWorker("clicks", {
        handler: WORKER,
        streamArn: KINESIS_STREAM,
        startingPosition: "AT_TIMESTAMP",
        startingPositionTimestamp: "2026-01-01T00:00:00Z",
        batchSize: 500,
        batchWindowSeconds: 5,
        parallelizationFactor: 4,
        filters: [{ data: { type: ["click"] } }, { partitionKey: [{ prefix: "eu-" }] }],
        bisectOnError: false,
        maxRetries: 10,
        maxRecordAgeSeconds: 7200,
        deadLetterQueueArn: USER_QUEUE,
        streamKmsKeyArn: KEY,
        iteratorAgeAlarmSeconds: 60,
        provisionedConcurrency: 2,
        alarmActions: [ALERTS],
        permissions: [{ actions: ["dynamodb:PutItem"], resources: ["arn:aws:dynamodb:eu-west-1:123456789012:table/clicks"] }],
      }));
    });

    it("invokes the alias, with every setting and the filters as JSON patterns, failing to the user's queue", () => {
      expect(one(resources, TYPES.eventSourceMapping).inputs).to.deep.equal({
        tags: libraryTags("StreamWorker/clicks"),
        eventSourceArn: KINESIS_STREAM,
        functionName: lambdaArn("shop-dev-clicks-consumer", "live"),
        startingPosition: "AT_TIMESTAMP",
        startingPositionTimestamp: "2026-01-01T00:00:00Z",
        batchSize: 500,
        maximumBatchingWindowInSeconds: 5,
        parallelizationFactor: 4,
        bisectBatchOnFunctionError: false,
        maximumRetryAttempts: 10,
        maximumRecordAgeInSeconds: 7200,
        destinationConfig: { onFailure: { destinationArn: USER_QUEUE } },
        functionResponseTypes: ["ReportBatchItemFailures"],
        filterCriteria: { filters: [{ pattern: '{"data":{"type":["click"]}}' }, { pattern: '{"partitionKey":[{"prefix":"eu-"}]}' }] },
      });
    });

    it("creates no dead-letter queue of its own, and grants Kinesis reads, the user's queue and kms:Decrypt on the key only", () => {
      expect(ofType(resources, TYPES.queue)).to.deep.equal([]);
      expect(ofType(resources, TYPES.queuePolicy)).to.deep.equal([]);
      expect(worker.deadLetterQueue).to.equal(undefined);
      const statements = statementsBySid(one(resources, TYPES.rolePolicy));
      expect(statements.Granted0.Action).to.deep.equal(["dynamodb:PutItem"]);
      expect(statements.Granted1).to.deep.equal({
        Effect: "Allow",
        Action: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
        Resource: [KINESIS_STREAM],
      });
      expect(statements.Granted2).to.deep.equal({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [USER_QUEUE] });
      expect(statements.Granted3).to.deep.equal({ Effect: "Allow", Action: ["kms:Decrypt"], Resource: [KEY] });
      expect(Object.keys(statements)).to.have.length(6);
    });

    it("alarms on the iterator age only (the user's queue is theirs to alarm), with the alarm actions", () => {
      const alarm = one(resources, TYPES.alarm, "clicks-iterator-age");
      expect(alarm.inputs.threshold).to.equal(60_000);
      expect(alarm.inputs.alarmActions).to.deep.equal([ALERTS]);
      expect(ofType(resources, TYPES.alarm).map((a) => a.name).sort()).to.deep.equal(["clicks-consumer-duration", "clicks-consumer-errors", "clicks-consumer-throttles", "clicks-iterator-age"]);
    });
  });

  describe("settings", () => {
    it("defaults a Kinesis stream's record age to 24 h and grants no kms:Decrypt without a key", async () => {
      const { resources } = await recordWorker("clicks", { handler: WORKER, streamArn: KINESIS_STREAM });
      expect(one(resources, TYPES.eventSourceMapping).inputs.maximumRecordAgeInSeconds).to.equal(86400);
      const actions = Object.values(statementsBySid(one(resources, TYPES.rolePolicy))).flatMap((s) => s.Action);
      expect(actions.filter((a) => a.startsWith("kms:"))).to.deep.equal([]);
      expect(actions).to.include.members(STREAM_READ_ACTIONS.kinesis);
    });

    it("publishes to the user's SNS topic instead of a queue", async () => {
      const { resources, component } = await recordWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, deadLetterTopicArn: USER_TOPIC });
      expect(one(resources, TYPES.eventSourceMapping).inputs.destinationConfig).to.deep.equal({ onFailure: { destinationArn: USER_TOPIC } });
      expect(statementsBySid(one(resources, TYPES.rolePolicy)).Granted2).to.deep.equal({ Effect: "Allow", Action: ["sns:Publish"], Resource: [USER_TOPIC] });
      expect(component.deadLetterQueueUrl).to.equal(undefined);
    });

    it("reads a table's streamArn given as an Output, with streamKind", async () => {
      const { resources } = await recordWithoutFailure(() => {
        new StreamWorker("changes", { handler: WORKER, streamArn: pulumi.output(TABLE_STREAM), streamKind: "dynamodb", deadLetterQueueArn: pulumi.output(USER_QUEUE) });
      });
      const mapping = one(resources, TYPES.eventSourceMapping);
      expect(mapping.inputs.eventSourceArn).to.equal(TABLE_STREAM);
      expect(mapping.inputs.maximumRecordAgeInSeconds).to.equal(3600);
      expect(statementsBySid(one(resources, TYPES.rolePolicy)).Granted1.Resource).to.deep.equal(["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/*"]);
    });

    it("reads a real table's stream and a real Kinesis stream, named by their Outputs", async () => {
      const { resources } = await recordWithoutFailure(() => {
        const table = new aws.dynamodb.Table("orders", { attributes: [{ name: "id", type: "S" }], hashKey: "id", billingMode: "PAY_PER_REQUEST", streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES" });
        const stream = new aws.kinesis.Stream("clicks", { name: "clicks", shardCount: 1 });
        new StreamWorker("changes", { handler: WORKER, streamArn: table.streamArn, streamKind: "dynamodb" });
        new StreamWorker("clicks", { handler: WORKER, streamArn: stream.arn, streamKind: "kinesis" });
      });
      const mappings = ofType(resources, TYPES.eventSourceMapping).sort((a, b) => a.name.localeCompare(b.name));
      expect(mappings.map((m) => [m.name, m.inputs.eventSourceArn, m.inputs.maximumRecordAgeInSeconds])).to.deep.equal([
        ["changes-mapping", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000", 3600],
        ["clicks-mapping", KINESIS_STREAM, 86400],
      ]);
      const table = one(resources, "aws:dynamodb/table:Table");
      expect(mappings[0].dependencies, "the mapping waits for the table").to.include(table.urn);
    });

    it("fails the deployment when an Output streamArn resolves to another kind than streamKind", async () => {
      await expectDeploymentFailure(() => new StreamWorker("changes", { handler: WORKER, streamArn: pulumi.output(KINESIS_STREAM), streamKind: "dynamodb" }), "StreamWorker", "changes",
        ["streamArn", /^"arn:aws:kinesis:eu-west-1:123456789012:stream\/clicks" is a kinesis stream, but streamKind says "dynamodb"; set streamKind: "kinesis"\.$/]);
    });

    it("fails the deployment when an Output dead-letter queue resolves to a FIFO queue", async () => {
      await expectDeploymentFailure(() => new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, deadLetterQueueArn: pulumi.output(`${USER_QUEUE}.fifo`) }), "StreamWorker", "changes",
        ["deadLetterQueueArn", /is FIFO, which Lambda cannot send failed batches to; use a standard queue\.$/]);
    });

    it("fails the deployment when an Output streamKmsKeyArn resolves to an alias", async () => {
      await expectDeploymentFailure(() => new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, streamKmsKeyArn: pulumi.output("arn:aws:kms:eu-west-1:123456789012:alias/stream") }), "StreamWorker", "changes",
        ["streamKmsKeyArn", /is not a KMS key ARN .*not an alias: pass key\.arn\.$/]);
    });

    it("accepts the edges: batch 1 and 10000, window 300, parallelization 10 (and == reserved), -1 for one limit, a DynamoDB age of 24 h, 5 filters, another partition", () => {
      const plan = (args: Partial<StreamWorkerArgs>) => planStreamWorker("s", { handler: WORKER, streamArn: TABLE_STREAM, ...args }).settings;
      expect(plan({ batchSize: 1 }).batchSize).to.equal(1);
      expect(plan({ batchSize: 10000, batchWindowSeconds: 300, parallelizationFactor: 10 }).parallelizationFactor).to.equal(10);
      expect(plan({ maxRetries: -1 }).maxRecordAgeSeconds).to.equal(3600);
      expect(plan({ maxRecordAgeSeconds: -1, iteratorAgeAlarmSeconds: 604800 }).maxRetries).to.equal(3);
      expect(plan({ maxRecordAgeSeconds: 86400, maxRetries: 0 }).maxRecordAgeSeconds).to.equal(86400);
      expect(plan({ streamArn: KINESIS_STREAM, maxRecordAgeSeconds: 604800 }).maxRecordAgeSeconds).to.equal(604800);
      expect(plan({ filters: Array.from({ length: 5 }, (_, i) => ({ eventName: [`E${i}`] })) }).filters).to.have.length(5);
      expect(plan({ parallelizationFactor: 4, reservedConcurrency: 4 }).parallelizationFactor).to.equal(4);
      expect(plan({ streamArn: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d" }).kind).to.equal("kinesis");
    });

    it("passes only the function's arguments on to the consumer", () => {
      const { functionArgs } = planStreamWorker("s", { handler: WORKER, streamArn: TABLE_STREAM, timeout: 20, batchSize: 5, maxRetries: 1, streamKmsKeyArn: KEY, memorySize: 256 });
      expect(functionArgs).to.deep.equal({ handler: WORKER, timeout: 20, memorySize: 256 });
    });

    it("passes the policy pack, with every rule that sees its resources satisfied", async () => {
      const { resources } = await record(() => {
        new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM });
        new StreamWorker("clicks", { handler: WORKER, streamArn: KINESIS_STREAM, provisionedConcurrency: 1, deadLetterTopicArn: USER_TOPIC, streamKmsKeyArn: KEY });
      });
      const verdicts = await checkPolicies(resources);
      expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
      expect(verdicts.find((v) => v.policy === "sqs-visibility-timeout")!.checked, "a rule saw the mappings").to.be.greaterThan(0);
    });
  });

  describe("validation (nothing is registered)", () => {
    const cases: Array<[string, Partial<StreamWorkerArgs>, Array<[string, RegExp]>]> = [
      ["no stream", { streamArn: undefined }, [["streamArn", /^undefined is not an ARN; pass a DynamoDB table's streamArn or a Kinesis stream's arn\.$/]]],
      ["a table's ARN instead of its stream's", { streamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders" }, [["streamArn", /is a DynamoDB table's ARN, not its stream's; enable the table's stream \(streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES"\) and pass table\.streamArn\.$/]]],
      ["a Kinesis consumer", { streamArn: `${KINESIS_STREAM}/consumer/app:1700000000` }, [["streamArn", /is a Kinesis stream consumer \(enhanced fan-out\), which StreamWorker does not read; pass the stream's arn\.$/]]],
      ["an SQS queue", { streamArn: USER_QUEUE }, [["streamArn", /^"arn:aws:sqs:eu-west-1:123456789012:failed-changes" is neither a DynamoDB stream \(arn:aws:dynamodb:<region>:<account>:table\/<table>\/stream\/<label>\) nor a Kinesis stream \(arn:aws:kinesis:<region>:<account>:stream\/<name>\); pass a table's streamArn or a stream's arn\.$/]]],
      ["an Output stream without streamKind", { streamArn: pulumi.output(TABLE_STREAM) }, [["streamKind", /^is required because streamArn is an Output, whose kind cannot be told before it resolves; set streamKind: "dynamodb" \(a table's streamArn\) or "kinesis" \(a stream's arn\)\.$/]]],
      ["a streamKind that contradicts the ARN", { streamKind: "kinesis" }, [["streamArn", /is a dynamodb stream, but streamKind says "kinesis"; set streamKind: "dynamodb"\.$/]]],
      ["an unknown streamKind", { streamArn: pulumi.output(TABLE_STREAM), streamKind: "sqs" as never }, [["streamKind", /^"sqs" is not allowed; use one of "dynamodb", "kinesis"\.$/]]],
      ["an unknown starting position", { startingPosition: "EARLIEST" as never }, [["startingPosition", /^"EARLIEST" is not allowed; use one of "LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"\.$/]]],
      ["AT_TIMESTAMP on a DynamoDB stream", { startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: "2026-01-01T00:00:00Z" }, [["startingPosition", /^AT_TIMESTAMP is for Kinesis streams only; a DynamoDB stream starts at LATEST or TRIM_HORIZON\.$/]]],
      ["AT_TIMESTAMP without a timestamp", { streamArn: KINESIS_STREAM, startingPosition: "AT_TIMESTAMP" }, [["startingPositionTimestamp", /^is required with startingPosition AT_TIMESTAMP/]]],
      ["a timestamp without AT_TIMESTAMP", { streamArn: KINESIS_STREAM, startingPositionTimestamp: "2026-01-01T00:00:00Z" }, [["startingPositionTimestamp", /^is only read with startingPosition AT_TIMESTAMP, not "LATEST"; set that or remove it\.$/]]],
      ["a timestamp without a zone", { streamArn: KINESIS_STREAM, startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: "2026-01-01 00:00" }, [["startingPositionTimestamp", /^"2026-01-01 00:00" is not an ISO 8601 date-time with a zone; write e\.g\. "2026-01-01T00:00:00Z"\.$/]]],
      ["a batch of 0", { batchSize: 0 }, [["batchSize", /^0 records is outside 1-10000 records/]]],
      ["a batch above 10000", { batchSize: 10001 }, [["batchSize", /^10001 records is outside 1-10000 records/]]],
      ["a batch window above 300 s", { batchWindowSeconds: 301 }, [["batchWindowSeconds", /^301 seconds is outside 0-300 seconds/]]],
      ["a parallelization factor of 0", { parallelizationFactor: 0 }, [["parallelizationFactor", /^0 batches per shard is outside 1-10 batches per shard/]]],
      ["a parallelization factor above 10", { parallelizationFactor: 11 }, [["parallelizationFactor", /^11 batches per shard is outside 1-10/]]],
      ["maxRetries below -1", { maxRetries: -2 }, [["maxRetries", /^-2 retries is outside -1-10000 retries/]]],
      ["maxRetries above 10000", { maxRetries: 10001 }, [["maxRetries", /^10001 retries is outside -1-10000/]]],
      ["a fractional maxRetries", { maxRetries: 1.5 }, [["maxRetries", /^1\.5 retries is not a whole number/]]],
      ["both limits infinite", { maxRetries: -1, maxRecordAgeSeconds: -1 }, [["maxRetries", /^-1 with maxRecordAgeSeconds -1 retries a failing batch until its records leave the stream: the shard is blocked meanwhile, and the records are then lost without reaching the dead-letter queue\. Give maxRetries \(e\.g\. 3\) or maxRecordAgeSeconds a finite value\.$/]]],
      ["a record age below 60 s", { maxRecordAgeSeconds: 59 }, [["maxRecordAgeSeconds", /^59 seconds is outside 60-604800 seconds; use a value in that range, or -1 for no limit\.$/]]],
      ["a record age of 0", { maxRecordAgeSeconds: 0 }, [["maxRecordAgeSeconds", /^0 seconds is outside 60-604800/]]],
      ["a Kinesis record age above 7 days", { streamArn: KINESIS_STREAM, maxRecordAgeSeconds: 604801 }, [["maxRecordAgeSeconds", /^604801 seconds is outside 60-604800/]]],
      ["a DynamoDB record age above the stream's 24 h", { maxRecordAgeSeconds: 86401 }, [["maxRecordAgeSeconds", /^86401 seconds is above 86400, the 24 h a DynamoDB stream keeps a record; records would leave the stream first, lost without reaching the dead-letter queue\. Use at most 86400\.$/]]],
      ["an iterator-age alarm of 0 s", { iteratorAgeAlarmSeconds: 0 }, [["iteratorAgeAlarmSeconds", /^0 seconds is outside 1-604800 seconds/]]],
      ["an iterator-age alarm that records are dead-lettered before", { maxRecordAgeSeconds: 600, iteratorAgeAlarmSeconds: 600 }, [["iteratorAgeAlarmSeconds", /^600 seconds is not below maxRecordAgeSeconds 600; records are dead-lettered before the alarm could fire\. Lower it\.$/]]],
      ["a bisectOnError that is not a boolean", { bisectOnError: "yes" as never }, [["bisectOnError", /^"yes" is not true or false\.$/]]],
      ["a queue and a topic", { deadLetterQueueArn: USER_QUEUE, deadLetterTopicArn: USER_TOPIC }, [["deadLetterTopicArn", /^is set with deadLetterQueueArn; a mapping has one on-failure destination: keep one of them\.$/]]],
      ["a topic given as the queue", { deadLetterQueueArn: USER_TOPIC }, [["deadLetterQueueArn", /^"arn:aws:sns:eu-west-1:123456789012:failed-changes" is not the ARN of an SQS queue; pass e\.g\. queue\.arn\.$/]]],
      ["a queue given as the topic", { deadLetterTopicArn: USER_QUEUE }, [["deadLetterTopicArn", /is not the ARN of an SNS topic; pass e\.g\. topic\.arn\.$/]]],
      ["a FIFO queue", { deadLetterQueueArn: `${USER_QUEUE}.fifo` }, [["deadLetterQueueArn", /is FIFO, which Lambda cannot send failed batches to; use a standard queue\.$/]]],
      ["a FIFO topic", { deadLetterTopicArn: `${USER_TOPIC}.fifo` }, [["deadLetterTopicArn", /is FIFO, which Lambda cannot send failed batches to; use a standard topic\.$/]]],
      ["a KMS alias", { streamKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/stream" }, [["streamKmsKeyArn", /^"arn:aws:kms:eu-west-1:123456789012:alias\/stream" is not a KMS key ARN \(arn:aws:kms:<region>:<account>:key\/<id>\); IAM matches kms:Decrypt on the key's ARN, not an alias: pass key\.arn\.$/]]],
      ["every key", { streamKmsKeyArn: "*" }, [["streamKmsKeyArn", /^"\*" is not a KMS key ARN/]]],
      ["more batches per shard than reserved concurrency", { parallelizationFactor: 4, reservedConcurrency: 2 }, [["parallelizationFactor", /^4 batches per shard need that many concurrent invocations, above reservedConcurrency 2; throttled batches block their shard until the records reach maxRecordAgeSeconds\. Lower parallelizationFactor or raise reservedConcurrency \(to at least shards x parallelizationFactor\)\.$/]]],
      ["a disabled consumer", { disabled: true }, [["disabled", /^throttles every batch; Lambda retries throttled batches until the records reach maxRecordAgeSeconds, blocking each shard, then dead-letters them\. Remove disabled: true\.$/]]],
      ["a bad consumer setting", { memorySize: 64 }, [["memorySize", /^64 MB is outside 128-10240 MB/]]],
      ["a consumer with a missing handler file", { handler: "test/fixtures/missing.handler" }, [["handler", /^no file "test\/fixtures\/missing"/]]],
      ["six filters", { filters: Array.from({ length: 6 }, (_, i) => ({ eventName: [`E${i}`] })) }, [["filters", /^has 6 patterns, above AWS's 5 per event source mapping; combine them with "\$or" in one pattern\.$/]]],
      ["a filter that is not an object", { filters: ["INSERT" as never] }, [["filters[0]", /^"INSERT" is not a pattern object; write e\.g\. \{ eventName: \["INSERT"\] \}\.$/]]],
      ["an empty filter", { filters: [{}] }, [["filters[0]", /^is an empty object, which matches nothing useful/]]],
      ["a filter on a field DynamoDB records do not have", { filters: [{ NewImage: { status: { S: ["paid"] } } }] }, [["filters[0].NewImage", /^is not a field of this stream's records \(eventID, eventName, eventVersion, eventSource, awsRegion, dynamodb, userIdentity\), so the pattern matches no record and Lambda would drop every one; use one of those fields\.$/]]],
      ["a filter on a field Kinesis records do not have", { streamArn: KINESIS_STREAM, filters: [{ kinesis: { data: { type: ["click"] } } }] }, [["filters[0].kinesis", /^is not a field of this stream's records \(kinesisSchemaVersion, partitionKey, sequenceNumber, data, approximateArrivalTimestamp\)/]]],
      ["a field the records do not have inside an $or", { filters: [{ $or: [{ eventName: ["INSERT"] }, { NewImage: { id: { S: ["1"] } } }] }] }, [["filters[0].$or[1].NewImage", /^is not a field of this stream's records/]]],
      ["a bare value instead of a list", { filters: [{ eventName: "INSERT" }] }, [["filters[0].eventName", /^"INSERT" is not a list of matchers; wrap the value in a list, e\.g\. \["INSERT"\]\.$/]]],
      ["an empty list", { filters: [{ eventName: [] }] }, [["filters[0].eventName", /^\[\] is not a list of matchers/]]],
      ["an unknown operator", { filters: [{ dynamodb: { NewImage: { sku: { S: [{ contains: "x" }] } } } }] }, [["filters[0].dynamodb.NewImage.sku.S", /^"contains" is not an operator of Lambda event filtering; use "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric" or "exists"\.$/]]],
      ["two operators in one object", { filters: [{ eventName: [{ prefix: "IN", suffix: "RT" }] }] }, [["filters[0].eventName", /has 2 operators; an operator object has exactly one/]]],
      ["a prefix that is not a string", { filters: [{ eventName: [{ prefix: 1 }] }] }, [["filters[0].eventName", /^"prefix" takes a string, not 1\.$/]]],
      ["exists that is not a boolean", { filters: [{ dynamodb: { OldImage: [{ exists: "no" }] } }] }, [["filters[0].dynamodb.OldImage", /^"exists" takes true or false, not "no"\.$/]]],
      ["a bad anything-but", { filters: [{ eventName: [{ "anything-but": [] }] }] }, [["filters[0].eventName", /^"anything-but" takes a string, a number, a non-empty list of them/]]],
      ["a numeric with an unknown operator", { filters: [{ dynamodb: { NewImage: { total: { N: [{ numeric: ["!=", 3] }] } } } }] }, [["filters[0].dynamodb.NewImage.total.N", /^"numeric" takes \[operator, number\] or a range/]]],
      ["a numeric range upside down", { filters: [{ dynamodb: { NewImage: { total: { N: [{ numeric: ["<", 10, ">", 0] }] } } } }] }, [["filters[0].dynamodb.NewImage.total.N", /^a "numeric" range is a lower bound \(> or >=\) then an upper bound \(< or <=\), not \["<",10,">",0\]\.$/]]],
      ["an $or with one pattern", { filters: [{ $or: [{ eventName: ["INSERT"] }] }] }, [["filters[0].$or", /^takes a list of two or more patterns \(objects\); with one, write the pattern itself\.$/]]],
      ["a bad pattern inside an $or", { filters: [{ $or: [{ eventName: ["INSERT"] }, { eventName: "MODIFY" }] }] }, [["filters[0].$or[1].eventName", /^"MODIFY" is not a list of matchers/]]],
      ["a pattern above 4096 characters", { filters: [{ eventName: ["x".repeat(4100)] }] }, [["filters[0]", /^is 4\d{3} characters as JSON, above AWS's 4096; simplify it\.$/]]],
    ];
    for (const [what, args, problems] of cases) {
      it(`refuses ${what}`, async () => {
        await refuse(args, problems);
      });
    }

    it("accepts every matcher AWS documents", () => {
      const filters = [
        { eventName: ["INSERT", "MODIFY"], dynamodb: { NewImage: { status: { S: [{ "anything-but": ["draft"] }] }, total: { N: [{ numeric: [">", 0, "<=", 100] }] } } } },
        { dynamodb: { NewImage: { sku: { S: [{ prefix: "A-" }, { suffix: "-X" }, { "equals-ignore-case": "b" }] }, note: { S: [null, ""] } }, OldImage: [{ exists: false }] } },
        { $or: [{ eventName: ["REMOVE"] }, { dynamodb: { Keys: { id: { S: [{ "anything-but": { prefix: "test-" } }] } } } }] },
      ];
      expect(planStreamWorker("s", { handler: WORKER, streamArn: TABLE_STREAM, filters }).settings.filters).to.deep.equal(filters);
    });

    it("reports every stream and consumer problem in one error", async () => {
      const error = await refuse(
        { streamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", batchSize: 0, parallelizationFactor: 20, maxRetries: -1, maxRecordAgeSeconds: -1, memorySize: 1, permissions: [{ actions: ["kinesis:*"], resources: ["*"] }] },
        [
          ["streamArn", /is a DynamoDB table's ARN, not its stream's/],
          ["batchSize", /0 records/],
          ["parallelizationFactor", /20 batches per shard/],
          ["maxRetries", /-1 with maxRecordAgeSeconds -1/],
          ["memorySize", /1 MB/],
          ["permissions[0].actions", /"kinesis:\*" grants every action/],
          ["permissions[0].resources", /every resource/],
        ],
      );
      expect(error.message).to.match(/^StreamWorker "changes" has invalid arguments:\n/);
    });
  });

  describe("deployment (through the function settings)", () => {
    it("deploys the consumer with CodeDeploy, and the mapping invokes its alias", async () => {
      const { resources } = await recordWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, deployment: { strategy: "allAtOnce" } });
      expect(one(resources, "aws:codedeploy/deploymentGroup:DeploymentGroup").inputs.deploymentConfigName).to.equal("CodeDeployDefault.LambdaAllAtOnce");
      expect(one(resources, TYPES.eventSourceMapping).inputs.functionName).to.equal(one(resources, TYPES.alias).outputs.arn);
    });

    it("reports a bad deployment under the worker", () => refuse({ deployment: { strategy: "allAtOnce", minutes: 5 } }, [
      ["deployment.minutes", /does not apply to strategy "allAtOnce"/],
    ]));
  });
});
