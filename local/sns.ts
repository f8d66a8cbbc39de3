/**
 * A local SNS endpoint for the program's topics: Publish and PublishBatch in the AWS Query
 * protocol, which the SDK v3 SNS client speaks. Each message goes to the topic's Lambda
 * subscriptions whose filter policy it passes (MessageAttributes or MessageBody scope,
 * see event-patterns.ts), as the SNS event Lambda receives, one record per invocation.
 * SNS invokes Lambda asynchronously: delivery hands the event to the function's
 * asynchronous invocation (async-invoke.ts). Other protocols (SQS, HTTP, email) and topic
 * management are not emulated.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { SNSEvent, SNSMessageAttributes } from "aws-lambda";
import type { SubscriptionModel, TopicModel } from "./async-model";
import { queryCodec } from "./aws-query";
import { AwsError, awsServer } from "./aws-server";
import { matchesFilterPolicy, type SnsMessageAttribute } from "./event-patterns";
import { closeServer, listen } from "./loopback";

/** SNS's limit on a message (and on a whole batch), in bytes. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
const MAX_BATCH_ENTRIES = 10;

export interface PublishInput {
  TopicArn?: string;
  Message?: string;
  Subject?: string;
  MessageStructure?: string;
  MessageAttributes?: Record<string, SnsMessageAttribute>;
  MessageGroupId?: string;
}

export interface SnsDelivery {
  subscription: SubscriptionModel;
  event: SNSEvent;
}

export interface LocalSnsOptions {
  region: string;
  accountId: string;
  topics: TopicModel[];
  subscriptions: SubscriptionModel[];
  /** Hands an event to the subscribed function (asynchronously, as SNS invokes Lambda). */
  deliver: (delivery: SnsDelivery) => void;
  log?: (line: string) => void;
}

const invalid = (message: string) => new AwsError("InvalidParameter", message, 400, "InvalidParameter;Sender");

const SNS_QUERY_SHAPES = {
  lists: {},
  maps: {},
  numbers: new Set<string>(),
  wrapped: { lists: new Set(["PublishBatchRequestEntries", "Successful", "Failed"]), maps: { MessageAttributes: { key: "Name", value: "Value" } } },
};

export class LocalSns {
  private server?: Server;
  endpoint = "";

  constructor(private readonly options: LocalSnsOptions) {}

  async start(port = 0): Promise<string> {
    this.server = awsServer({
      service: "SNS",
      codecs: [queryCodec({ xmlNamespace: "http://sns.amazonaws.com/doc/2010-03-31/", shapes: SNS_QUERY_SHAPES })],
      operations: {
        Publish: (input) => ({ MessageId: this.publish(input) }),
        PublishBatch: (input) => this.publishBatch(input.TopicArn, input.PublishBatchRequestEntries),
      },
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  /** Publishes one message to a topic of the program; returns its message id. */
  publish(input: PublishInput): string {
    const topic = this.topic(input.TopicArn);
    this.check(topic, input);
    return this.fanOut(topic, input);
  }

  private publishBatch(topicArn: unknown, given: unknown) {
    const topic = this.topic(topicArn);
    const entries = (Array.isArray(given) ? given : []) as Array<PublishInput & { Id?: string }>;
    if (entries.length === 0) throw new AwsError("EmptyBatchRequest", "The batch request doesn't contain any entries.", 400, "EmptyBatchRequest;Sender");
    if (entries.length > MAX_BATCH_ENTRIES) throw new AwsError("TooManyEntriesInBatchRequest", `The batch request contains more entries than permissible (${MAX_BATCH_ENTRIES}).`, 400, "TooManyEntriesInBatchRequest;Sender");
    const ids = entries.map((e) => e.Id);
    if (new Set(ids).size !== ids.length) throw new AwsError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.", 400, "BatchEntryIdsNotDistinct;Sender");
    const total = entries.reduce((sum, e) => sum + Buffer.byteLength(e.Message ?? ""), 0);
    if (total > SNS_MAX_MESSAGE_BYTES) throw new AwsError("BatchRequestTooLong", `The length of all the messages put together is more than the limit (${SNS_MAX_MESSAGE_BYTES} bytes).`, 400, "BatchRequestTooLong;Sender");
    const successful: Array<{ Id: string; MessageId: string }> = [];
    const failed: Array<{ Id: string; Code: string; Message: string; SenderFault: boolean }> = [];
    for (const entry of entries) {
      try {
        this.check(topic, entry);
        successful.push({ Id: String(entry.Id), MessageId: this.fanOut(topic, entry) });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        failed.push({ Id: String(entry.Id), Code: error.name, Message: error.message, SenderFault: true });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  private topic(arn: unknown): TopicModel {
    if (typeof arn !== "string" || arn === "") throw invalid("Invalid parameter: TopicArn");
    const topic = this.options.topics.find((t) => t.arn === arn);
    if (!topic) throw new AwsError("NotFound", `Topic does not exist: ${arn} is not a topic of the program (topics: ${this.options.topics.map((t) => t.arn).join(", ") || "none"})`, 404, "NotFound;Sender");
    return topic;
  }

  private check(topic: TopicModel, input: PublishInput): void {
    if (typeof input.Message !== "string" || input.Message === "") throw invalid("Invalid parameter: Message: a message is required (1 byte to 256 KiB).");
    if (Buffer.byteLength(input.Message) > SNS_MAX_MESSAGE_BYTES) throw invalid(`Invalid parameter: Message too long: ${Buffer.byteLength(input.Message)} bytes; the limit is ${SNS_MAX_MESSAGE_BYTES}.`);
    if (input.Subject !== undefined && (input.Subject.length > 100 || /[\r\n]/.test(input.Subject))) throw invalid("Invalid parameter: Subject: up to 100 printable characters, no line breaks.");
    if (topic.arn.endsWith(".fifo") && !input.MessageGroupId) throw invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics.");
    if (input.MessageStructure !== undefined) {
      if (input.MessageStructure !== "json") throw invalid(`Invalid parameter: MessageStructure: only "json" is allowed, got ${JSON.stringify(input.MessageStructure)}.`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.Message);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== "object" || parsed === null || typeof (parsed as Record<string, unknown>).default !== "string") {
        throw invalid("Invalid parameter: Message Structure - JSON message body failed to parse, or has no \"default\" string.");
      }
    }
    for (const [name, attribute] of Object.entries(input.MessageAttributes ?? {})) {
      if (!/^(String|Number|Binary)(\.\S+)?$/.test(attribute?.DataType ?? "")) throw invalid(`Invalid parameter: MessageAttributes: ${name} has DataType ${JSON.stringify(attribute?.DataType)}; use String, String.Array, Number or Binary.`);
    }
  }

  /** The message as Lambda receives it, to each subscription it passes. */
  private fanOut(topic: TopicModel, input: PublishInput): string {
    const messageId = randomUUID();
    // A JSON-structured message sends each protocol its own text: Lambda's, else the default.
    const message = input.MessageStructure === "json" ? (JSON.parse(input.Message!).lambda ?? JSON.parse(input.Message!).default) : input.Message!;
    const attributes = input.MessageAttributes ?? {};
    const timestamp = new Date().toISOString();
    for (const subscription of this.options.subscriptions.filter((s) => s.topicArn === topic.arn)) {
      if (subscription.filterPolicy !== undefined && !matchesFilterPolicy(subscription.filterPolicy, { body: message, attributes }, subscription.filterPolicyScope)) {
        this.options.log?.(`SNS  ${topic.name}: message ${messageId} filtered out for ${subscription.name} (filter policy, ${subscription.filterPolicyScope})`);
        continue;
      }
      const subscriptionArn = `${topic.arn}:${subscription.name}`;
      const event: SNSEvent = {
        Records: [{
          EventSource: "aws:sns",
          EventVersion: "1.0",
          EventSubscriptionArn: subscriptionArn,
          Sns: {
            Type: "Notification",
            MessageId: messageId,
            TopicArn: topic.arn,
            // SNS sends null for a message without a subject.
            Subject: (input.Subject ?? null) as string,
            Message: message,
            Timestamp: timestamp,
            SignatureVersion: "1",
            Signature: "LOCAL",
            SigningCertUrl: `https://sns.${this.options.region}.amazonaws.com/local.pem`,
            UnsubscribeUrl: `https://sns.${this.options.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`,
            MessageAttributes: lambdaAttributes(attributes),
          },
        }],
      };
      this.options.log?.(`SNS  ${topic.name}: message ${messageId} -> ${subscription.name}`);
      this.options.deliver({ subscription, event });
    }
    return messageId;
  }
}

/** Message attributes as the Lambda event carries them: `{ Type, Value }`, binary values base64. */
function lambdaAttributes(attributes: Record<string, SnsMessageAttribute>): SNSMessageAttributes {
  return Object.fromEntries(Object.entries(attributes).map(([name, a]) => [name, {
    Type: a.DataType,
    Value: a.StringValue ?? (a.BinaryValue !== undefined ? String(a.BinaryValue) : ""),
  }]));
}
