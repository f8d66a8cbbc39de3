/**
 * The local SQS endpoint, driven by clients nobody here wrote: the SDK v2 SQS client (the
 * Query protocol, as older AWS CLIs and SDKs speak it) and sqs-consumer (the SDK v3, JSON),
 * over the same queues.
 */
import { ChangeMessageVisibilityBatchCommand, CreateQueueCommand, GetQueueAttributesCommand, ListDeadLetterSourceQueuesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { Consumer } from "sqs-consumer";
import { LocalSqs } from "../../local/sqs";

// The SDK v2 announces its maintenance mode on load; the tests use it only as a Query client.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SQSv2: typeof import("aws-sdk/clients/sqs") = require("aws-sdk/clients/sqs");

const arn = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}`;
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("local SQS endpoint with clients we did not write", () => {
  let sqs: LocalSqs;
  let client: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;

  beforeEach(async () => {
    sqs = new LocalSqs();
    await sqs.start();
    dlqUrl = sqs.addQueue({ name: "work-dlq", arn: arn("work-dlq") }).url;
    queueUrl = sqs.addQueue({ name: "work", arn: arn("work"), redrivePolicy: { deadLetterTargetArn: arn("work-dlq"), maxReceiveCount: 3 } }).url;
    client = new SQSClient({ region: "eu-west-1", endpoint: sqs.endpoint, credentials });
  });

  afterEach(async () => {
    client.destroy();
    await sqs.stop();
  });

  const counts = async () => {
    const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
  };

  describe("SDK v2 (Query protocol)", () => {
    let v2: InstanceType<typeof SQSv2>;
    beforeEach(() => {
      // The SDK v2 verifies every body's MD5 on send and receive (computeChecksums is on by default).
      v2 = new SQSv2({ region: "eu-west-1", endpoint: sqs.endpoint, credentials, maxRetries: 0 });
      // From 2.1491.0 on, the SDK v2 speaks JSON to SQS: package.json pins the last one that speaks Query.
      expect((v2 as unknown as { api: { protocol: string } }).api.protocol).to.equal("query");
    });

    it("sends, receives with attributes, changes visibility and deletes in batches, on the queues the JSON clients see", async () => {
      const body = "line one\r\nline <two> & \"three\" é";
      const sent = await v2.sendMessage({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: { kind: { DataType: "String", StringValue: "order" }, blob: { DataType: "Binary", BinaryValue: Buffer.from([0, 1, 2]) } } }).promise();
      const batch = await v2.sendMessageBatch({ QueueUrl: queueUrl, Entries: [{ Id: "a", MessageBody: "2", DelaySeconds: 0 }, { Id: "b", MessageBody: "\u0000bad" }] }).promise();
      expect(batch.Successful.map((s) => s.Id)).to.deep.equal(["a"]);
      expect(batch.Failed.map((f) => [f.Id, f.Code, f.SenderFault])).to.deep.equal([["b", "InvalidMessageContents", true]]);

      // The SDK v3 (JSON) sees what the SDK v2 (Query) sent.
      expect(await counts()).to.deep.equal({ visible: 2, inFlight: 0 });

      const { Messages = [] } = await v2.receiveMessage({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, AttributeNames: ["All"], MessageAttributeNames: ["All"] }).promise();
      expect(Messages.map((m) => m.Body)).to.deep.equal([body, "2"]);
      expect(Messages[0].MessageId).to.equal(sent.MessageId);
      expect(Messages[0].Attributes).to.include({ ApproximateReceiveCount: "1" });
      expect(Messages[0].MessageAttributes?.kind).to.deep.include({ DataType: "String", StringValue: "order" });
      expect(Buffer.from(Messages[0].MessageAttributes?.blob.BinaryValue as Uint8Array)).to.deep.equal(Buffer.from([0, 1, 2]));
      expect(Messages[0].MD5OfMessageAttributes).to.equal(sent.MD5OfMessageAttributes);

      const changed = await v2.changeMessageVisibilityBatch({ QueueUrl: queueUrl, Entries: [{ Id: "first", ReceiptHandle: Messages[0].ReceiptHandle!, VisibilityTimeout: 0 }, { Id: "junk", ReceiptHandle: "garbage", VisibilityTimeout: 0 }] }).promise();
      expect(changed.Successful.map((s) => s.Id)).to.deep.equal(["first"]);
      expect(changed.Failed.map((f) => [f.Id, f.Code])).to.deep.equal([["junk", "ReceiptHandleIsInvalid"]]);
      expect(await counts()).to.deep.equal({ visible: 1, inFlight: 1 });

      const again = await v2.receiveMessage({ QueueUrl: queueUrl, VisibilityTimeout: 30 }).promise();
      const deleted = await v2.deleteMessageBatch({ QueueUrl: queueUrl, Entries: [{ Id: "x", ReceiptHandle: again.Messages![0].ReceiptHandle! }, { Id: "y", ReceiptHandle: Messages[1].ReceiptHandle! }] }).promise();
      expect(deleted.Successful.map((s) => s.Id)).to.deep.equal(["x", "y"]);
      expect(await counts()).to.deep.equal({ visible: 0, inFlight: 0 });

      const attributes = await v2.getQueueAttributes({ QueueUrl: queueUrl, AttributeNames: ["QueueArn", "RedrivePolicy"] }).promise();
      expect(attributes.Attributes).to.deep.equal({ QueueArn: arn("work"), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn("work-dlq"), maxReceiveCount: 3 }) });
      expect((await v2.getQueueUrl({ QueueName: "work" }).promise()).QueueUrl).to.equal(queueUrl);
      expect((await v2.listQueues({ QueueNamePrefix: "work-" }).promise()).QueueUrls).to.deep.equal([dlqUrl]);
      expect((await v2.listDeadLetterSourceQueues({ QueueUrl: dlqUrl }).promise()).queueUrls).to.deep.equal([queueUrl]);
    });

    it("reports errors as SQS's Query protocol does, and names an operation it does not implement", async () => {
      const failure = (request: { promise(): Promise<unknown> }) => request.promise().then(() => expect.fail("should have failed"), (e: { code: string; message: string; statusCode: number }) => e);
      expect(await failure(v2.getQueueUrl({ QueueName: "nope" }))).to.include({ code: "AWS.SimpleQueueService.NonExistentQueue", statusCode: 400 });
      expect((await failure(v2.sendMessage({ QueueUrl: `${sqs.endpoint}/123456789012/nope`, MessageBody: "x" }))).code).to.equal("AWS.SimpleQueueService.NonExistentQueue");
      expect(await failure(v2.receiveMessage({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 }))).to.deep.include({ code: "InvalidParameterValue" });
      const unknown = await failure(v2.createQueue({ QueueName: "new" }));
      expect(unknown.code).to.equal("InvalidAction");
      expect(unknown.message).to.match(/does not implement CreateQueue; it implements .*SendMessage/);
    });
  });

  it("SDK v3 (JSON protocol): ChangeMessageVisibilityBatch and ListDeadLetterSourceQueues, and an unimplemented operation named", async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "1" }));
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 30 }));
    const changed = await client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: "m", ReceiptHandle: Messages[0].ReceiptHandle, VisibilityTimeout: 0 }] }));
    expect(changed.Successful?.map((s) => s.Id)).to.deep.equal(["m"]);
    expect(await counts()).to.deep.equal({ visible: 1, inFlight: 0 });
    expect((await client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }))).queueUrls).to.deep.equal([queueUrl]);
    const unknown = await client.send(new CreateQueueCommand({ QueueName: "new" })).then(() => expect.fail("should have failed"), (e: Error) => e);
    expect(unknown.message).to.match(/does not implement CreateQueue/);
  });

  it("tells a request in neither protocol which ones it speaks", async () => {
    const response = await fetch(sqs.endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { message: string }).message).to.match(/speaks the AWS JSON protocol .*X-Amz-Target: AmazonSQS.* and the AWS Query protocol \(Action=/);
  });

  describe("sqs-consumer (SDK v3)", () => {
    /** Starts a consumer; collects its errors; stops it after the test. */
    let consumers: Consumer[] = [];
    const errors: string[] = [];
    const start = (options: Omit<Parameters<typeof Consumer.create>[0], "queueUrl" | "sqs">) => {
      const consumer = Consumer.create({ queueUrl, sqs: client, waitTimeSeconds: 1, pollingWaitTimeMs: 10, ...options });
      consumer.on("error", (error) => errors.push(error.message));
      consumer.on("processing_error", (error) => errors.push(error.message));
      consumer.start();
      consumers.push(consumer);
      return consumer;
    };
    afterEach(() => {
      for (const consumer of consumers) {
        // Aborting its long poll makes a consumer report "Request aborted": not this test's error.
        consumer.removeAllListeners().on("error", () => {});
        consumer.stop({ abort: true });
      }
      consumers = [];
      errors.length = 0;
    });
    const sendThree = () => Promise.all(["1", "2", "3"].map((body) => client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))));
    const until = async (condition: () => boolean, what: string) => {
      for (let waited = 0; !condition(); waited += 20) {
        if (waited > 10_000) throw new Error(`timed out waiting for ${what}; consumer errors: ${errors.join("; ")}`);
        await sleep(20);
      }
    };

    it("batch mode with a heartbeat keeps a slow batch in flight past its visibility timeout, then deletes it", async () => {
      await sendThree();
      let seenInFlight: { visible: number; inFlight: number } | undefined;
      const handled: string[][] = [];
      start({
        batchSize: 10, visibilityTimeout: 2, heartbeatInterval: 1,
        handleMessageBatch: async (messages: Message[]) => {
          handled.push(messages.map((m) => m.Body!));
          // Past the 2 s visibility timeout: only the heartbeats (ChangeMessageVisibilityBatch) keep the batch hidden.
          await sleep(2600);
          seenInFlight = await counts();
          return messages;
        },
      });
      await until(() => seenInFlight !== undefined, "the batch handler");
      expect(seenInFlight).to.deep.equal({ visible: 0, inFlight: 3 });
      await until(() => errors.length > 0 || sqs.list().find((q) => q.name === "work")!.messages.length === 0, "the batch to be deleted");
      expect(errors).to.deep.equal([]);
      expect(handled.map((bodies) => bodies.sort())).to.deep.equal([["1", "2", "3"]]);
    });

    it("batch mode: a failed batch returns to the queue at once (terminateVisibilityTimeout)", async () => {
      await sendThree();
      let calls = 0;
      start({
        batchSize: 10, visibilityTimeout: 30, terminateVisibilityTimeout: true,
        handleMessageBatch: async (messages: Message[]) => {
          calls++;
          if (calls === 1) throw new Error("first attempt fails");
          return messages;
        },
      });
      await until(() => calls >= 2 || errors.some((e) => !e.includes("first attempt")), "the batch to be received again");
      expect(errors.filter((e) => !e.includes("first attempt fails"))).to.deep.equal([]);
      expect(calls).to.be.at.least(2);
    });

    it("message mode with batchSize > 1: every message handled and deleted", async () => {
      await sendThree();
      const handled: string[] = [];
      start({ batchSize: 3, handleMessage: async (message: Message) => { handled.push(message.Body!); return message; } });
      await until(() => handled.length === 3 && sqs.list().find((q) => q.name === "work")!.messages.length === 0, "three messages handled and deleted");
      expect(handled.sort()).to.deep.equal(["1", "2", "3"]);
      expect(errors).to.deep.equal([]);
    });
  });
});
