/**
 * The asynchronous sources of `npm run dev`, driven by the real SDK v3 clients: SNS
 * (Publish, PublishBatch, filter policies), EventBridge (PutEvents, event patterns), S3
 * (s3rver's writes as notifications), the
 * Scheduler (firing, `npm run dev -- fire`), and asynchronous invocation (retries, event
 * age, on-failure and on-success destinations), with `npm run dev -- dlq` listing the
 * DLQ. Retry waits run on an injected clock, so nothing sleeps for minutes.
 */
import * as fs from "node:fs";
import { request } from "node:http";
import * as path from "node:path";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { formatBanner, main, writeState } from "../../local/cli";
import type { Clock } from "../../local/async-invoke";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { captureLog, PROJECT_ROOT } from "./support";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

/** A clock whose sleeps pass at once, moving its time on. */
function steppingClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, sleep: async (ms) => { now += ms; }, advance: (ms) => { now += ms; } };
}

describe("local runtime: SNS, EventBridge, the Scheduler and asynchronous invocation (fixture program)", function () {
  let runtime: LocalRuntime;
  let sns: SNSClient;
  let events: EventBridgeClient;
  let sqs: SQSClient;
  const clock = steppingClock(Date.parse("2026-03-01T00:00:00Z"));
  const { lines, log } = captureLog();
  const localDir = path.join(PROJECT_ROOT, ".local", `test-async-${process.pid}`);

  before(async function () {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: path.join(__dirname, "fixtures", "async-program.ts"),
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
      workDir: path.join(localDir, "functions"),
      asyncClock: clock,
      log,
    });
    sns = new SNSClient({ region: "eu-west-1", endpoint: runtime.endpoints.sns, credentials });
    events = new EventBridgeClient({ region: "eu-west-1", endpoint: runtime.endpoints.eventbridge, credentials });
    sqs = new SQSClient({ region: "eu-west-1", endpoint: runtime.endpoints.sqs, credentials });
  });

  after(async () => {
    for (const client of [sns, events, sqs]) client?.destroy();
    await runtime?.stop();
    fs.rmSync(localDir, { recursive: true, force: true });
  });

  const topicArn = () => runtime.asyncModel.topics[0].arn;
  const queueUrl = (suffix: string) => runtime.app.queues.find((q) => q.name.endsWith(suffix))!.url;
  /** Every record waiting in a queue, removed from it. */
  const drainQueue = async (suffix: string): Promise<Array<{ body: any; attributes: Record<string, string> }>> => {
    await runtime.asyncSources.drain();
    const found: Array<{ body: any; attributes: Record<string, string> }> = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl(suffix), MaxNumberOfMessages: 10, VisibilityTimeout: 30, MessageAttributeNames: ["All"] }));
      if (Messages.length === 0) return found;
      for (const m of Messages) {
        found.push({ body: JSON.parse(m.Body!), attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue!])) });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl(suffix), ReceiptHandle: m.ReceiptHandle }));
      }
    }
  };

  it("delivers what SNS publishes to the subscribed function as SNS's event, through its filter policy, and records the success", async () => {
    const { MessageId } = await sns.send(new PublishCommand({ TopicArn: topicArn(), Message: JSON.stringify({ orderId: "o-1" }), Subject: "new order", MessageAttributes: { kind: { DataType: "String", StringValue: "order" } } }));
    await sns.send(new PublishCommand({ TopicArn: topicArn(), Message: JSON.stringify({ orderId: "o-2" }), MessageAttributes: { kind: { DataType: "String", StringValue: "newsletter" } } }));
    const batch = await sns.send(new PublishBatchCommand({
      TopicArn: topicArn(),
      PublishBatchRequestEntries: [
        { Id: "a", Message: JSON.stringify({ orderId: "o-3" }), MessageAttributes: { kind: { DataType: "String", StringValue: "refund-partial" } } },
        { Id: "b", Message: JSON.stringify({ orderId: "o-4" }) },
      ],
    }));
    expect(batch.Successful?.map((s) => s.Id)).to.deep.equal(["a", "b"]);
    expect(batch.Failed ?? []).to.deep.equal([]);

    const successes = await drainQueue("consumer-succeeded");
    const delivered = successes.map((s) => JSON.parse(s.body.requestPayload.Records[0].Sns.Message).orderId).sort();
    expect(delivered, "the policy passes order and refund-*, not newsletter nor a message without the attribute").to.deep.equal(["o-1", "o-3"]);
    const first = successes.find((s) => s.body.requestPayload.Records[0].Sns.MessageId === MessageId)!.body;
    expect(first.requestContext).to.include({ condition: "Success", approximateInvokeCount: 1 });
    expect(first.requestContext.functionArn).to.match(/:function:[^:]+consumer:\$LATEST$/);
    expect(first.responseContext).to.deep.equal({ statusCode: 200, executedVersion: "$LATEST" });
    expect(first.responsePayload).to.deep.equal({ consumed: { orderId: "o-1" } });
    const record = first.requestPayload.Records[0];
    expect(record).to.include({ EventSource: "aws:sns", EventVersion: "1.0" });
    expect(record.Sns).to.include({ Type: "Notification", TopicArn: topicArn(), Subject: "new order" });
    expect(record.Sns.MessageAttributes).to.deep.equal({ kind: { Type: "String", Value: "order" } });
  });

  it("retries a failing event maximumRetryAttempts times, then sends Lambda's failure record to the on-failure queue", async () => {
    await sns.send(new PublishCommand({ TopicArn: topicArn(), Message: JSON.stringify({ fail: true, orderId: "o-5" }), MessageAttributes: { kind: { DataType: "String", StringValue: "order" } } }));
    const [failure, ...more] = await drainQueue("consumer-dlq");
    expect(more).to.deep.equal([]);
    expect(failure.body.requestContext).to.include({ condition: "RetriesExhausted", approximateInvokeCount: 2 });
    expect(failure.body.responseContext).to.deep.equal({ statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" });
    expect(failure.body.responsePayload).to.include({ errorType: "Error" }).and.have.property("errorMessage").that.match(/asked to fail/);
    expect(JSON.parse(failure.body.requestPayload.Records[0].Sns.Message)).to.deep.equal({ fail: true, orderId: "o-5" });
    expect(lines.some((l) => /retry 1 of 1 in 60 s \(locally 1\.0 s\)/.test(l)), "the retry is logged with AWS's wait and the local one").to.equal(true);
  });

  it("matches EventBridge events to rules by pattern and delivers the event's shape; an undeliverable target goes to its DLQ", async () => {
    const put = await events.send(new PutEventsCommand({
      Entries: [
        { Source: "fixture.shipping", DetailType: "Shipped", Detail: JSON.stringify({ weight: 12, orderId: "o-6" }) },
        { Source: "fixture.shipping", DetailType: "Shipped", Detail: JSON.stringify({ weight: 3, orderId: "o-7" }) },
        { Source: "fixture.orphan", DetailType: "Lost", Detail: JSON.stringify({ orderId: "o-8" }) },
        { Source: "fixture.shipping", DetailType: "Shipped", Detail: "not json" },
      ],
    }));
    expect(put.FailedEntryCount).to.equal(1);
    expect(put.Entries?.[3]).to.deep.equal({ ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." });

    const successes = await drainQueue("consumer-succeeded");
    expect(successes.map((s) => s.body.requestPayload.detail.orderId)).to.deep.equal(["o-6"]);
    const event = successes[0].body.requestPayload;
    expect(event).to.include({ version: "0", "detail-type": "Shipped", source: "fixture.shipping", account: "123456789012", region: "eu-west-1", id: put.Entries![0].EventId });
    expect(event.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const [orphaned] = await drainQueue("consumer-dlq");
    expect(orphaned.body.detail).to.deep.equal({ orderId: "o-8" });
    expect(orphaned.attributes).to.include({ ERROR_CODE: "ResourceNotFoundException", TARGET_ARN: "arn:aws:lambda:eu-west-1:123456789012:function:not-in-the-program" });
    expect(orphaned.attributes.RULE_ARN).to.equal("arn:aws:events:eu-west-1:123456789012:rule/fixture-orphan");
  });

  it("redrives what SNS cannot deliver (a subscription to no function of the program) to the subscription's DLQ", async () => {
    const { MessageId } = await sns.send(new PublishCommand({ TopicArn: topicArn(), Message: "lost", MessageAttributes: { kind: { DataType: "String", StringValue: "orphan" } } }));
    const [redriven, ...more] = await drainQueue("consumer-dlq");
    expect(more).to.deep.equal([]);
    expect(redriven.body).to.include({ Type: "Notification", MessageId, TopicArn: topicArn(), Message: "lost" });
  });

  it("drops an event older than maximumEventAgeInSeconds with the EventAgeExceeded record", async () => {
    // The consumer allows an hour (3600 s): one failure, then 60 s of retry wait, then the clock jumps past the hour.
    const original = clock.sleep;
    clock.sleep = async (ms) => { clock.advance(ms + 3_600_000 / 60); };
    try {
      await sns.send(new PublishCommand({ TopicArn: topicArn(), Message: JSON.stringify({ fail: true, orderId: "o-9" }), MessageAttributes: { kind: { DataType: "String", StringValue: "order" } } }));
      const [expired] = await drainQueue("consumer-dlq");
      expect(expired.body.requestContext).to.include({ condition: "EventAgeExceeded", approximateInvokeCount: 1 });
    } finally {
      clock.sleep = original;
    }
  });

  it("fires schedules on their expression in their timezone, and now with npm run dev -- fire", async () => {
    const nightly = runtime.asyncSources.scheduler.nextFirings().find((s) => s.name === "consumer-nightly")!;
    // 02:00 in Paris on 1 March 2026 is 01:00 UTC.
    expect(nightly.next?.toISOString()).to.equal("2026-03-01T01:00:00.000Z");
    clock.advance(2 * 3_600_000);
    expect(runtime.asyncSources.scheduler.fireDue()).to.equal(1);
    const [fired] = await drainQueue("consumer-succeeded");
    expect(fired.body.requestPayload).to.deep.equal({ job: "nightly" });

    writeState("test", runtime, localDir);
    const printed: string[] = [];
    await main(["fire", "failing", "--stack", "test"], { localDir, print: (line) => printed.push(line) });
    expect(printed[0]).to.match(/^consumer-failing: fired now \(execution [0-9a-f-]{36}\) -> arn:aws:lambda:/);
    const [failed] = await drainQueue("consumer-dlq");
    expect(failed.body.requestPayload).to.deep.equal({ fail: true, job: "failing" });
    const unknown = await main(["fire", "weekly", "--stack", "test"], { localDir, print: () => undefined }).then(() => undefined, (error: Error) => error);
    expect(unknown?.message).to.equal('No schedule "weekly": the schedules are consumer-nightly, consumer-failing.');
  });

  it("prints each source, its function and where its failures end in the banner", () => {
    const banner = formatBanner(runtime, "test", 0, new Map());
    expect(banner).to.include("Topic orders-topic -> consumer (filter policy on MessageAttributes)");
    expect(banner).to.include("Rule fixture-shipped on bus default -> consumer");
    expect(banner).to.include("Rule fixture-orphan on bus default -> arn:aws:lambda:eu-west-1:123456789012:function:not-in-the-program (not in the program)");
    expect(banner).to.include("Bucket fixture-uploads (s3:ObjectCreated:*, prefix uploads/, suffix .json) -> consumer");
    expect(banner).to.match(/Schedule consumer-failing rate\(7 days\) \(Europe\/Paris\) -> consumer, next \S+; Scheduler retries 3 within 600 s, DLQ fixture-consumer-dlq/);
  });

  it("lets functions publish through AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_EVENTBRIDGE, and npm run dev -- dlq lists the asynchronous DLQ", async () => {
    const result = await runtime.functions.get("publisher")!.invoke({ message: JSON.stringify({ orderId: "o-10" }), kind: "order" });
    expect(result.error).to.equal(undefined);
    expect((result.payload as { endpoint: string }).endpoint).to.equal(runtime.endpoints.sns);
    const [delivered] = await drainQueue("consumer-succeeded");
    expect(JSON.parse(delivered.body.requestPayload.Records[0].Sns.Message)).to.deep.equal({ orderId: "o-10" });

    const emitted = await runtime.functions.get("emitter")!.invoke({ source: "fixture.shipping", detail: { weight: 20, orderId: "o-15" } });
    expect(emitted.payload).to.deep.equal({ failed: 0, endpoint: runtime.endpoints.eventbridge });
    const [shipped] = await drainQueue("consumer-succeeded");
    expect(shipped.body.requestPayload.detail).to.deep.equal({ weight: 20, orderId: "o-15" });

    await sns.send(new PublishCommand({ TopicArn: topicArn(), Message: JSON.stringify({ fail: true, orderId: "o-11" }), MessageAttributes: { kind: { DataType: "String", StringValue: "order" } } }));
    await runtime.asyncSources.drain();
    writeState("test", runtime, localDir);
    const printed: string[] = [];
    await main(["dlq", "list", "--stack", "test"], { localDir, print: (line) => printed.push(line) });
    expect(printed[0]).to.match(/^fixture-consumer-dlq \(DLQ of .*\): 1 message\(s\)$/);
    for (const source of ["orphan-orders (subscription)", "consumer-async-invoke (on-failure)", "consumer-shipped-target (rule target)", "orphan-rule-target (rule target)", "consumer-nightly (schedule)", "consumer-failing (schedule)"]) {
      expect(printed[0]).to.include(source);
    }
    expect(printed[1]).to.include('{"version":"1.0"');
    const redriven: string[] = [];
    await main(["dlq", "redrive", "--stack", "test"], { localDir, print: (line) => redriven.push(line) });
    expect(redriven).to.have.length(1);
    expect(redriven[0]).to.match(/^fixture-consumer-dlq: holds failed asynchronous events of .*; there is no source queue to redrive them to \(replay them by publishing again\)$/);
  });

  it("stores objects in the local S3 and notifies the function of writes its notification's type, prefix and suffix select, in S3's event shape", async () => {
    // As a function's client does with AWS_ENDPOINT_URL_S3: the local endpoint is an IP address, so the SDK addresses buckets by path.
    const s3 = new S3Client({ region: "eu-west-1", endpoint: runtime.endpoints.s3, credentials });
    try {
      await s3.send(new PutObjectCommand({ Bucket: "fixture-uploads", Key: "uploads/order 12.json", Body: JSON.stringify({ orderId: "o-12" }) }));
      await s3.send(new PutObjectCommand({ Bucket: "fixture-uploads", Key: "uploads/order-13.txt", Body: "not selected" }));
      await s3.send(new PutObjectCommand({ Bucket: "fixture-uploads", Key: "elsewhere/order-14.json", Body: "{}" }));
    } finally {
      s3.destroy();
    }
    const notified = await drainQueue("consumer-succeeded");
    expect(notified.map((n) => n.body.requestPayload.Records[0].s3.object.key)).to.deep.equal(["uploads/order+12.json"]);
    const record = notified[0].body.requestPayload.Records[0];
    expect(record).to.include({ eventSource: "aws:s3", eventName: "ObjectCreated:Put", awsRegion: "eu-west-1" });
    expect(record.s3.bucket).to.include({ name: "fixture-uploads", arn: "arn:aws:s3:::fixture-uploads" });
    expect(record.s3.object).to.include({ size: 18 }).and.have.property("eTag").that.match(/^[0-9a-f]{32}$/);
  });

  it("refuses a request to the SNS endpoint whose Host is not a loopback name", async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const call = request(`${runtime.endpoints.sns}/`, { method: "POST", headers: { host: "attacker.example", "content-type": "application/x-www-form-urlencoded" } }, (response) => { response.resume(); resolve(response.statusCode); });
      call.on("error", reject);
      call.end("Action=Publish");
    });
    expect(status).to.equal(403);
  });
});
