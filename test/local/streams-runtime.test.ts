/**
 * npm run dev's streams, end to end with real SDK v3 clients: writes to a table with a
 * stream (through the local DynamoDB endpoint) and PutRecord(s) to kinesalite reach the
 * consumer functions as Lambda delivers them; failing records are retried, bisected and end
 * in the mapping's on-failure destination as Lambda's failure record: the StreamWorker's
 * queue, which `dlq list` shows, or an SNS topic a function subscribes to.
 */
import { BatchWriteItemCommand, ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { KinesisClient, PutRecordCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as path from "node:path";
import { formatBanner, main, writeState } from "../../local/cli";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { captureLog, eventually, PROJECT_ROOT } from "./support";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/stream-fixture-orders/stream/2026-01-01T00:00:00.000";
const KINESIS_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/stream-fixture-clicks";

describe("local runtime: DynamoDB Streams and Kinesis (real SDK clients)", function () {
  this.timeout(60_000);
  const { lines, log } = captureLog();
  const localDir = path.join(PROJECT_ROOT, ".local", `test-streams-${process.pid}`);
  let runtime: LocalRuntime;
  let dynamo: DynamoDBClient;
  let kinesis: KinesisClient;
  let sqs: SQSClient;

  before(async () => {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      programFile: path.join(__dirname, "fixtures", "stream-program.ts"),
      stackConfig: { project: "stream-fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
      workDir: path.join(localDir, "functions"),
      log,
    });
    dynamo = new DynamoDBClient({ region: "eu-west-1", endpoint: runtime.endpoints.dynamodb, credentials });
    kinesis = new KinesisClient({ region: "eu-west-1", endpoint: runtime.endpoints.kinesis, credentials });
    sqs = new SQSClient({ region: "eu-west-1", endpoint: runtime.endpoints.sqs, credentials });
  });

  after(async () => {
    dynamo?.destroy();
    kinesis?.destroy();
    sqs?.destroy();
    await runtime?.stop();
    fs.rmSync(localDir, { recursive: true, force: true });
  });

  /** The records a consumer was given, in delivery order (one entry per delivery). */
  async function delivered(source: string): Promise<any[]> {
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: "stream-fixture-seen" }));
    return Items.filter((i) => i.source.S === source).sort((a, b) => Number(a.at.N) - Number(b.at.N) || Number(a.delivery.N) - Number(b.delivery.N))
      .map((i) => JSON.parse(i.record.S!));
  }

  async function deadLetters(queue: string, count: number): Promise<any[]> {
    const url = runtime.app.queues.find((q) => q.name === queue)!.url;
    const bodies: any[] = [];
    return eventually(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      bodies.push(...Messages.map((m) => JSON.parse(m.Body!)));
      return bodies.length >= count ? bodies : undefined;
    }, 15_000, `${count} failure record(s) in ${queue}`);
  }

  it("names each stream mapping, its settings and its DLQ in the banner, with the Kinesis endpoint", () => {
    const banner = formatBanner(runtime, "test", 0, new Map());
    expect(banner).to.contain("Stream stream-fixture-orders -> orders-consumer (from TRIM_HORIZON, batch 10, window 0 s, parallelization 1, bisect on, retries 1, max age 3600 s, partial batch responses); DLQ stream-fixture-test-orders-dlq");
    expect(banner).to.contain("Stream stream-fixture-clicks -> clicks-consumer (from 2026-01-01T00:00:00.000Z, batch 10, window 0 s, parallelization 2, bisect on, retries 1, max age 3600 s, partial batch responses, 1 filter(s)); on failure arn:aws:sns:eu-west-1:123456789012:stream-fixture-clicks-failures");
    expect(banner).to.match(/Kinesis http:\/\/127\.0\.0\.1:\d+/);
  });

  it("delivers a table's writes as INSERT, MODIFY and REMOVE with old and new images, and nothing for a refused or idle write", async () => {
    const key = (sk: string) => ({ pk: { S: "order" }, sk: { S: sk } });
    await dynamo.send(new PutItemCommand({ TableName: "stream-fixture-orders", Item: { ...key("1"), status: { S: "new" } } }));
    await dynamo.send(new UpdateItemCommand({ TableName: "stream-fixture-orders", Key: key("1"), UpdateExpression: "SET #s = :s", ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":s": { S: "paid" } } }));
    const refused = await dynamo.send(new PutItemCommand({ TableName: "stream-fixture-orders", Item: { ...key("1"), status: { S: "lost" } }, ConditionExpression: "attribute_not_exists(pk)" })).catch((e) => e);
    expect(refused).to.be.instanceOf(ConditionalCheckFailedException);
    await dynamo.send(new PutItemCommand({ TableName: "stream-fixture-orders", Item: { ...key("1"), status: { S: "paid" } } })); // unchanged: no record
    await dynamo.send(new DeleteItemCommand({ TableName: "stream-fixture-orders", Key: key("1") }));
    await dynamo.send(new DeleteItemCommand({ TableName: "stream-fixture-orders", Key: key("never") })); // nothing to delete: no record
    await dynamo.send(new BatchWriteItemCommand({ RequestItems: { "stream-fixture-orders": [
      { PutRequest: { Item: { ...key("2"), status: { S: "new" } } } },
      { PutRequest: { Item: { ...key("3"), status: { S: "new" } } } },
    ] } }));

    const records = await eventually(async () => {
      const all = await delivered("table");
      return all.length >= 5 ? all : undefined;
    }, 15_000, "five table changes at the consumer");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await delivered("table"), "no further records").to.have.length(5);
    expect(records.map((r) => [r.eventName, r.dynamodb.Keys.sk.S])).to.deep.equal([["INSERT", "1"], ["MODIFY", "1"], ["REMOVE", "1"], ["INSERT", "2"], ["INSERT", "3"]]);
    expect(records[0]).to.deep.include({ eventSource: "aws:dynamodb", eventSourceARN: STREAM_ARN, awsRegion: "eu-west-1", eventVersion: "1.1" });
    expect(records[0].dynamodb).to.not.have.property("OldImage");
    expect(records[0].dynamodb.NewImage).to.deep.equal({ ...key("1"), status: { S: "new" } });
    expect(records[1].dynamodb.OldImage.status).to.deep.equal({ S: "new" });
    expect(records[1].dynamodb.NewImage.status).to.deep.equal({ S: "paid" });
    expect(records[2].dynamodb.OldImage.status).to.deep.equal({ S: "paid" });
    expect(records[2].dynamodb).to.not.have.property("NewImage");
    expect(records[0].dynamodb.StreamViewType).to.equal("NEW_AND_OLD_IMAGES");
    expect(records[0].dynamodb.ApproximateCreationDateTime).to.be.closeTo(Date.now() / 1000, 60);
    const sequence = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
    expect(sequence.every((n, i) => i === 0 || n > sequence[i - 1]), "increasing sequence numbers").to.equal(true);
  });

  it("retries a reported record from its sequence number, then sends Lambda's failure record to the DLQ, listed by dlq list", async () => {
    const before = (await delivered("table")).length;
    await dynamo.send(new PutItemCommand({ TableName: "stream-fixture-orders", Item: { pk: { S: "order" }, sk: { S: "poison" }, status: { S: "poison" } } }));
    const [failure] = await deadLetters("stream-fixture-test-orders-dlq", 1);
    const attempts = (await delivered("table")).slice(before);
    // One invocation and one retry (maximumRetryAttempts 1), each with the poisoned record alone.
    expect(attempts.map((r) => r.dynamodb.Keys.sk.S)).to.deep.equal(["poison", "poison"]);
    const sequenceNumber = attempts[0].dynamodb.SequenceNumber;
    expect(failure.requestContext).to.deep.include({ condition: "RetryAttemptsExhausted", approximateInvokeCount: 2 });
    expect(failure.requestContext.functionArn).to.match(/:function:/);
    expect(failure.DDBStreamBatchInfo).to.deep.include({ startSequenceNumber: sequenceNumber, endSequenceNumber: sequenceNumber, batchSize: 1, streamArn: STREAM_ARN });
    expect(failure.DDBStreamBatchInfo.shardId).to.match(/^shardId-/);
    expect(JSON.stringify(failure), "the failure record carries no data").to.not.contain("poison");

    writeState("test", runtime, localDir);
    const printed: string[] = [];
    await main(["dlq", "list", "--stack", "test"], { localDir, print: (line) => printed.push(line) });
    expect(printed.join("\n")).to.match(/stream-fixture-test-orders-dlq \(DLQ of stream-fixture-orders -> orders-consumer\): \d+ message\(s\)/);
    printed.length = 0;
    await main(["dlq", "redrive", "--stack", "test"], { localDir, print: (line) => printed.push(line) });
    expect(printed).to.include("stream-fixture-test-orders-dlq: holds stream failure records of stream-fixture-orders -> orders-consumer (shard and sequence numbers, not the data); there is nothing to redrive (read the range from the stream again)");
  });

  it("serves Kinesis over HTTP/1.1 and HTTP/2 on one port, to loopback hosts only", async () => {
    const { port } = new URL(runtime.endpoints.kinesis!);
    const target = { "x-amz-target": "Kinesis_20131202.ListStreams", "content-type": "application/x-amz-json-1.1", authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/kinesis/aws4_request, SignedHeaders=host, Signature=0", "x-amz-date": "20260101T000000Z" };
    const overHttp1 = (host: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { ...target, host } }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk)).on("end", () => resolve({ status: response.statusCode!, body }));
      }).on("error", reject);
      request.end("{}");
    });
    const overHttp2 = (authority: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${port}`).on("error", reject);
      const stream = session.request({ ":method": "POST", ":path": "/", ":authority": authority, ...target });
      let status = 0;
      let body = "";
      stream.on("response", (headers) => (status = Number(headers[":status"]))).on("data", (chunk) => (body += chunk)).on("end", () => {
        session.close();
        resolve({ status, body });
      }).on("error", reject);
      stream.end("{}");
    });
    for (const answer of [await overHttp1(`127.0.0.1:${port}`), await overHttp2(`localhost:${port}`)]) {
      expect(answer.status).to.equal(200);
      expect(JSON.parse(answer.body).StreamNames).to.include("stream-fixture-clicks");
    }
    for (const answer of [await overHttp1("attacker.example"), await overHttp2("attacker.example")]) {
      expect(answer.status).to.equal(403);
      expect(answer.body).to.contain("is not a loopback name");
    }
  });

  it("delivers Kinesis records that match the filter, in order per partition key, and bisects a failing batch down to the bad record, whose failure record reaches the on-failure topic", async () => {
    const put = (partitionKey: string, data: object) => ({ PartitionKey: partitionKey, Data: Buffer.from(JSON.stringify(data)) });
    const { SequenceNumber: single } = await kinesis.send(new PutRecordCommand({ StreamName: "stream-fixture-clicks", ...put("a", { kind: "click", n: 0 }) }));
    const { Records: results = [] } = await kinesis.send(new PutRecordsCommand({ StreamName: "stream-fixture-clicks", Records: [
      put("a", { kind: "click", n: 1 }), put("b", { kind: "view", n: 2 }), put("a", { kind: "click", n: 3 }), put("b", { kind: "click", n: 4 }),
    ] }));
    expect(results.every((r) => r.SequenceNumber), "kinesalite accepted every record").to.equal(true);
    const data = (r: any) => JSON.parse(Buffer.from(r.kinesis.data, "base64").toString("utf8"));
    const records = await eventually(async () => {
      const all = await delivered("clicks");
      return all.length >= 4 ? all : undefined;
    }, 15_000, "four clicks at the consumer");
    expect(records.map((r) => data(r).n).sort()).to.deep.equal([0, 1, 3, 4]); // the view was filtered out
    expect(records.filter((r) => r.kinesis.partitionKey === "a").map((r) => data(r).n), "key a in order").to.deep.equal([0, 1, 3]);
    const first = records.find((r) => r.kinesis.sequenceNumber === single)!;
    expect(first).to.deep.include({ eventSource: "aws:kinesis", eventName: "aws:kinesis:record", eventSourceARN: KINESIS_ARN, awsRegion: "eu-west-1" });
    expect(first.eventID).to.match(/^shardId-\d+:\d+$/);

    // Three records in one batch (one shard: same key), the middle one fails the batch.
    const before = (await delivered("clicks")).length;
    const { Records: batch = [] } = await kinesis.send(new PutRecordsCommand({ StreamName: "stream-fixture-clicks", Records: [
      put("c", { kind: "click", n: 5 }), put("c", { kind: "click", n: 6, fail: "throw" }), put("c", { kind: "click", n: 7 }),
    ] }));
    // The on-failure topic hands the failure record to its subscriber.
    const [failure] = await eventually(async () => {
      const all = await delivered("failures");
      return all.length > 0 ? all : undefined;
    }, 15_000, "the failure record at the topic's subscriber");
    expect(failure.requestContext).to.deep.include({ condition: "RetryAttemptsExhausted" });
    expect(failure.responseContext).to.deep.include({ functionError: "Unhandled" });
    expect(failure.KinesisBatchInfo).to.deep.include({ startSequenceNumber: batch[1].SequenceNumber, endSequenceNumber: batch[1].SequenceNumber, batchSize: 1, streamArn: KINESIS_ARN });
    // Whether 5..7 come in one GetRecords decides the first batch; either way the bad record is
    // isolated, invoked alone and retried once, and the shard then reads on to 7.
    const attempts = await eventually(async () => {
      const ns = (await delivered("clicks")).slice(before).map((r) => data(r).n);
      return ns[ns.length - 1] === 7 && ns.filter((n) => n === 6).length >= 2 ? ns : undefined;
    }, 10_000, "record 7 after the bad one");
    expect(attempts.slice(-3), "the bad record alone, its one retry, then the next record").to.deep.equal([6, 6, 7]);
    expect(lines.some((l) => /^STREAM stream-fixture-clicks shardId-\d+ -> clicks-consumer batch of \d+: failed \[Error: cannot process this batch\]/.test(l)), lines.join("\n")).to.equal(true);
  });
});
