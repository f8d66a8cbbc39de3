/**
 * The local SQS endpoint, driven by the real SDK v3 SQS client over loopback: what the
 * handlers, the event source mappings and the dlq command rely on.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient, StartMessageMoveTaskCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { createHash } from "node:crypto";
import { LocalSqs, md5OfMessageAttributes } from "../../local/sqs";

const arn = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}`;

describe("local SQS endpoint (real SQS client)", () => {
  let sqs: LocalSqs;
  /** Endpoint set in code, as the dlq command does (the calls without a QueueUrl need it). */
  let client: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;
  const deadLettered: string[] = [];

  beforeEach(async () => {
    sqs = new LocalSqs("123456789012", (event) => deadLettered.push(event.messageId));
    await sqs.start();
    dlqUrl = sqs.addQueue({ name: "work-dlq", arn: arn("work-dlq") }).url;
    queueUrl = sqs.addQueue({ name: "work", arn: arn("work"), visibilityTimeoutSeconds: 0.05, redrivePolicy: { deadLetterTargetArn: arn("work-dlq"), maxReceiveCount: 2 } }).url;
    client = new SQSClient({ region: "eu-west-1", endpoint: sqs.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  });

  afterEach(async () => {
    client.destroy();
    await sqs.stop();
  });

  it("sends and receives with checked digests, attributes and message attributes, then deletes", async () => {
    // No endpoint in code: this client reaches the queue through its URL alone, as create-order does.
    // (It warns that the URL's host differs from AWS's endpoint; in a function AWS_ENDPOINT_URL_SQS matches.)
    const urlOnly = new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, logger: { ...console, warn: () => {}, debug: () => {}, info: () => {} } });
    const sent = await urlOnly.send(new SendMessageCommand({
      QueueUrl: queueUrl, MessageBody: "{\"orderId\":\"1\"} é",
      MessageAttributes: { kind: { DataType: "String", StringValue: "order" }, n: { DataType: "Number", StringValue: "7" } },
    }));
    urlOnly.destroy();
    expect(sent.MessageId).to.be.a("string");
    // The digest's algorithm is checked on its own below; here: SendMessage answers the same one ReceiveMessage does.
    expect(sent.MD5OfMessageAttributes).to.equal(md5OfMessageAttributes({ kind: { DataType: "String", StringValue: "order" }, n: { DataType: "Number", StringValue: "7" } }));
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"], VisibilityTimeout: 30 }));
    expect(Messages).to.have.length(1);
    expect(Messages[0].Body).to.equal("{\"orderId\":\"1\"} é");
    expect(Messages[0].Attributes).to.include({ ApproximateReceiveCount: "1" });
    expect(Messages[0].MessageAttributes?.kind).to.deep.include({ DataType: "String", StringValue: "order" });
    expect(Messages[0].MD5OfMessageAttributes).to.equal(sent.MD5OfMessageAttributes);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages ?? [], "invisible while in flight").to.have.length(0);
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages[0].ReceiptHandle }));
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
    expect(Attributes).to.include({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0", QueueArn: arn("work") });
  });

  it("computes the message-attribute digest as SQS does", async () => {
    // From the SQS developer guide's algorithm, computed independently of this implementation.
    expect(md5OfMessageAttributes({ a: { DataType: "String", StringValue: "b" } })).to.equal(
      createHash("md5").update(Buffer.concat([
        Buffer.from([0, 0, 0, 1]), Buffer.from("a"), Buffer.from([0, 0, 0, 6]), Buffer.from("String"), Buffer.from([1]), Buffer.from([0, 0, 0, 1]), Buffer.from("b"),
      ])).digest("hex"),
    );
  });

  it("returns a message after its visibility timeout, and moves it to the DLQ after maxReceiveCount receives", async () => {
    const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "poison" }));
    for (let receive = 1; receive <= 2; receive++) {
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));
      expect(Messages.map((m) => m.Attributes?.ApproximateReceiveCount), `receive ${receive}`).to.deep.equal([String(receive)]);
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages ?? []).to.have.length(0);
    expect(deadLettered).to.include(MessageId);
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageSystemAttributeNames: ["All"] }));
    expect(Messages[0]).to.deep.include({ MessageId, Body: "poison" });
    expect(Messages[0].Attributes?.DeadLetterQueueSourceArn).to.equal(arn("work"));

    const { TaskHandle } = await client.send(new StartMessageMoveTaskCommand({ SourceArn: arn("work-dlq") }));
    const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: arn("work-dlq") }));
    expect(Results[0]).to.include({ TaskHandle, Status: "COMPLETED", ApproximateNumberOfMessagesMoved: 1 });
    const back = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));
    expect(back.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).to.deep.equal([["poison", "1"]]);
  });

  it("long-polls: a receive waits for the next message", async () => {
    const started = Date.now();
    const receiving = client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5 }));
    setTimeout(() => void client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "late" })), 100);
    const { Messages = [] } = await receiving;
    expect(Messages.map((m) => m.Body)).to.deep.equal(["late"]);
    expect(Date.now() - started).to.be.within(90, 2000);
  });

  it("handles batches, visibility changes and stale receipt handles", async () => {
    const batch = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: "a", MessageBody: "1" }, { Id: "b", MessageBody: "\u0000bad" }, { Id: "c", MessageBody: "3" }] }));
    expect(batch.Successful?.map((s) => s.Id)).to.deep.equal(["a", "c"]);
    expect(batch.Failed?.map((f) => [f.Id, f.Code])).to.deep.equal([["b", "InvalidMessageContents"]]);
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }));
    expect(Messages.map((m) => m.Body)).to.deep.equal(["1", "3"]);
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages[0].ReceiptHandle, VisibilityTimeout: 0 }));
    const again = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 30 }));
    expect(again.Messages?.map((m) => m.Body)).to.deep.equal(["1"]);
    // The first handle of "1" is stale now: deleting with it changes nothing.
    const deleted = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: "old", ReceiptHandle: Messages[0].ReceiptHandle }, { Id: "new", ReceiptHandle: Messages[1].ReceiptHandle }] }));
    expect(deleted.Successful?.map((s) => s.Id)).to.deep.equal(["old", "new"]);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessagesNotVisible"] }));
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).to.equal("1");
  });

  it("names the problem for bad requests, as SQS's exceptions", async () => {
    const error = async (promise: Promise<unknown>) => promise.then(() => expect.fail("should have failed"), (e: Error) => e);
    expect((await error(client.send(new GetQueueUrlCommand({ QueueName: "nope" })))).name).to.equal("QueueDoesNotExist");
    expect((await error(client.send(new SendMessageCommand({ QueueUrl: `${sqs.endpoint}/123456789012/nope`, MessageBody: "x" })))).name).to.equal("QueueDoesNotExist");
    expect((await error(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "x".repeat(262_145) })))).message).to.match(/shorter than 262144/);
    expect((await error(client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 })))).message).to.match(/MaxNumberOfMessages .* 1 to 10/);
    expect((await error(client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: "garbage" })))).name).to.equal("ReceiptHandleIsInvalid");
    expect((await error(client.send(new StartMessageMoveTaskCommand({ SourceArn: arn("work") })))).message).to.match(/not a dead-letter queue/);
  });
});
