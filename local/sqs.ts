/**
 * A local SQS: standard queues with visibility timeouts, receive counts, long polling,
 * redrive to a dead-letter queue after `maxReceiveCount` receives, and the message-move
 * task that redrives a DLQ, served on loopback in both of SQS's protocols: AWS JSON 1.0
 * (the SDK v3 client) and Query (the SDK v2, older AWS CLIs), over the same queues. Queue
 * URLs are `<endpoint>/<account>/<name>`: the SQS clients send each request to its
 * QueueUrl's host, so these URLs lead here.
 *
 * Implemented: SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
 * ChangeMessageVisibility(Batch), GetQueueUrl, GetQueueAttributes, ListQueues,
 * ListDeadLetterSourceQueues, PurgeQueue, StartMessageMoveTask, ListMessageMoveTasks; any
 * other operation is refused with an error naming it. Not implemented: FIFO ordering
 * guarantees and deduplication, creating, changing or deleting queues (they come from the
 * program).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { jsonCodec } from "./aws-json";
import { queryCodec, type QueryShapes } from "./aws-query";
import { AwsError, awsServer } from "./aws-server";
import { closeServer, listen } from "./loopback";

export const SQS_MAX_MESSAGE_BYTES = 262_144;
const MAX_VISIBILITY_SECONDS = 43_200;

/** The members whose Query names differ from their JSON names (SQS's Smithy model: xmlName, xmlFlattened). */
const SQS_QUERY_SHAPES: QueryShapes = {
  lists: {
    Entries: (operation) => `${operation}RequestEntry`,
    Successful: (operation) => `${operation}ResultEntry`,
    Results: (operation) => `${operation}ResultEntry`,
    Failed: "BatchResultErrorEntry",
    Messages: "Message",
    QueueUrls: "QueueUrl",
    queueUrls: "QueueUrl",
    AttributeNames: "AttributeName",
    MessageAttributeNames: "MessageAttributeName",
    MessageSystemAttributeNames: "MessageSystemAttributeName",
  },
  maps: {
    Attributes: { entry: "Attribute", key: "Name", value: "Value" },
    MessageAttributes: { entry: "MessageAttribute", key: "Name", value: "Value" },
  },
  numbers: new Set(["MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "DelaySeconds", "MaxResults", "MaxNumberOfMessagesPerSecond"]),
};

export interface QueueDefinition {
  name: string;
  arn: string;
  /** Seconds; fractions allowed locally (tests). @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Seconds. @default 345600 */
  messageRetentionSeconds?: number;
  delaySeconds?: number;
  /** `{ deadLetterTargetArn, maxReceiveCount }` */
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
  fifo?: boolean;
}

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  visibleAt: number;
  receiptHandle?: string;
  /** The queue a dead letter came from. */
  deadLetterSourceArn?: string;
  messageGroupId?: string;
}

export interface ReceivedMessage {
  message: StoredMessage;
  receiptHandle: string;
}

const md5 = (data: string | Buffer) => createHash("md5").update(data).digest("hex");

/** SQS's MD5 of message attributes: name, type, transport byte and value, length-prefixed, sorted by name. */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(value.DataType, "utf8"));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, "base64"));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? "", "utf8"));
    }
  }
  return md5(Buffer.concat(parts));
}

// XML 1.0 characters, the only ones SQS accepts in a body.
const INVALID_BODY_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function invalidParameter(message: string): AwsError {
  return new AwsError("com.amazonaws.sqs#InvalidParameterValue", message, 400, "InvalidParameterValue;Sender");
}

function integerIn(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(`Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** One queue and its messages. */
export class LocalQueue {
  readonly messages: StoredMessage[] = [];
  readonly createdAt = Math.floor(Date.now() / 1000);
  private waiters = new Set<() => void>();

  constructor(readonly definition: QueueDefinition, readonly url: string) {}

  get name(): string { return this.definition.name; }
  get arn(): string { return this.definition.arn; }
  // SQS's defaults for what the program left unset.
  get visibilityTimeoutSeconds(): number { return this.definition.visibilityTimeoutSeconds ?? 30; }
  get visibilityTimeoutMs(): number { return this.visibilityTimeoutSeconds * 1000; }
  get messageRetentionSeconds(): number { return this.definition.messageRetentionSeconds ?? 345_600; }
  get delaySeconds(): number { return this.definition.delaySeconds ?? 0; }

  /** Wakes long polls (a message arrived or became visible). */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves when notified or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
    });
  }

  dropExpired(now: number): void {
    const retentionMs = this.messageRetentionSeconds * 1000;
    for (let i = this.messages.length - 1; i >= 0; i--) {
      if (now - this.messages[i].sentAt >= retentionMs) this.messages.splice(i, 1);
    }
  }

  counts(now = Date.now()): { visible: number; inFlight: number; delayed: number } {
    let visible = 0, inFlight = 0, delayed = 0;
    for (const m of this.messages) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }
}

/** Something that happened to a message, for the runtime's log. */
export type SqsEvent = { kind: "dead-lettered"; queue: string; deadLetterQueue: string; messageId: string; receiveCount: number };

export class LocalSqs {
  private readonly queues = new Map<string, LocalQueue>();
  private readonly moveTasks: Array<Record<string, unknown>> = [];
  private server?: Server;
  private closed = false;
  endpoint = "";

  constructor(
    readonly accountId = "123456789012",
    readonly onEvent: (event: SqsEvent) => void = () => {},
  ) {}

  /** Starts the endpoint on loopback (port 0: a free one). Queues can be added before or after. */
  async start(port = 0): Promise<string> {
    this.server = awsServer({
      service: "SQS",
      codecs: [
        jsonCodec({ target: "AmazonSQS", contentType: "application/x-amz-json-1.0", validationErrorType: "com.amazonaws.sqs#InvalidParameterValue" }),
        queryCodec({ xmlNamespace: "http://queue.amazonaws.com/doc/2012-11-05/", shapes: SQS_QUERY_SHAPES }),
      ],
      maxBodyBytes: 2 * 1024 * 1024,
      operations: this.operations(),
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const queue of this.queues.values()) queue.notify();
    if (this.server) await closeServer(this.server);
  }

  addQueue(definition: QueueDefinition, url = `${this.endpoint}/${this.accountId}/${definition.name}`): LocalQueue {
    const queue = new LocalQueue(definition, url);
    this.queues.set(definition.name, queue);
    return queue;
  }

  list(): LocalQueue[] {
    return [...this.queues.values()];
  }

  byArn(arn: string): LocalQueue | undefined {
    return this.list().find((queue) => queue.arn === arn);
  }

  /** The queue a URL names (its last path segment), or QueueDoesNotExist. */
  byUrl(url: unknown): LocalQueue {
    if (typeof url !== "string" || url === "") throw invalidParameter("QueueUrl is required.");
    const name = url.replace(/\/+$/, "").split("/").pop()!;
    const queue = this.queues.get(name);
    if (!queue) throw new AwsError("com.amazonaws.sqs#QueueDoesNotExist", `The specified queue ${name} does not exist.`, 400, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    return queue;
  }

  send(queue: LocalQueue, body: unknown, options: { delaySeconds?: unknown; messageAttributes?: unknown; messageGroupId?: unknown } = {}): StoredMessage {
    if (typeof body !== "string" || body.length === 0) {
      throw new AwsError("com.amazonaws.sqs#MissingParameter", "The request must contain the parameter MessageBody.", 400, "MissingParameter;Sender");
    }
    if (INVALID_BODY_CHARACTER.test(body)) {
      throw new AwsError("com.amazonaws.sqs#InvalidMessageContents", "Invalid characters found in MessageBody; only XML 1.0 characters are allowed.", 400, "InvalidMessageContents;Sender");
    }
    const attributes = this.checkAttributes(options.messageAttributes);
    const bytes = Buffer.byteLength(body, "utf8") + attributesBytes(attributes);
    if (bytes > SQS_MAX_MESSAGE_BYTES) {
      throw invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${SQS_MAX_MESSAGE_BYTES} bytes (it is ${bytes}).`);
    }
    const delay = integerIn("DelaySeconds", options.delaySeconds, 0, 900, queue.delaySeconds);
    if (queue.definition.fifo && typeof options.messageGroupId !== "string") {
      throw new AwsError("com.amazonaws.sqs#MissingParameter", "The request must contain the parameter MessageGroupId.", 400, "MissingParameter;Sender");
    }
    const now = Date.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
      ...(attributes ? { messageAttributes: attributes, md5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
      ...(typeof options.messageGroupId === "string" ? { messageGroupId: options.messageGroupId } : {}),
    };
    queue.messages.push(message);
    queue.notify();
    return message;
  }

  private checkAttributes(value: unknown): Record<string, MessageAttributeValue> | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter("MessageAttributes must be a map.");
    const entries = Object.entries(value as Record<string, any>);
    if (entries.length === 0) return undefined;
    if (entries.length > 10) throw invalidParameter("Number of message attributes cannot exceed 10.");
    for (const [name, attribute] of entries) {
      if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.startsWith("AWS.") || name.startsWith("Amazon.")) throw invalidParameter(`Message attribute name ${JSON.stringify(name)} is invalid.`);
      const type = attribute?.DataType;
      if (typeof type !== "string" || !/^(String|Number|Binary)(\..+)?$/.test(type)) throw invalidParameter(`Message attribute ${name} must have a DataType of String, Number or Binary.`);
      const hasValue = type.startsWith("Binary") ? typeof attribute.BinaryValue === "string" : typeof attribute.StringValue === "string";
      if (!hasValue) throw invalidParameter(`Message attribute ${name} must have a ${type.startsWith("Binary") ? "BinaryValue" : "StringValue"}.`);
    }
    return value as Record<string, MessageAttributeValue>;
  }

  /** Receives up to `max` visible messages, dead-lettering those received too often; waits up to `waitMs`. */
  async receive(queue: LocalQueue, max: number, visibilityMs: number, waitMs: number, cancelled: () => boolean = () => false): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (cancelled()) return [];
      const received = this.take(queue, max, visibilityMs);
      if (received.length > 0 || this.closed || cancelled() || Date.now() >= deadline) return received;
      const now = Date.now();
      const nextVisible = Math.min(...queue.messages.map((m) => m.visibleAt).filter((t) => t > now), deadline);
      await queue.wait(nextVisible - now);
    }
  }

  private take(queue: LocalQueue, max: number, visibilityMs: number): ReceivedMessage[] {
    const now = Date.now();
    queue.dropExpired(now);
    const received: ReceivedMessage[] = [];
    const redrive = queue.definition.redrivePolicy;
    for (let i = 0; i < queue.messages.length && received.length < max; i++) {
      const message = queue.messages[i];
      if (message.visibleAt > now) continue;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        const target = this.byArn(redrive.deadLetterTargetArn);
        if (target) {
          queue.messages.splice(i--, 1);
          target.messages.push({ ...message, visibleAt: now, receiptHandle: undefined, deadLetterSourceArn: queue.arn });
          target.notify();
          this.onEvent({ kind: "dead-lettered", queue: queue.name, deadLetterQueue: target.name, messageId: message.messageId, receiveCount: message.receiveCount });
          continue;
        }
      }
      message.receiveCount += 1;
      message.firstReceiveAt ??= now;
      message.visibleAt = now + visibilityMs;
      message.receiptHandle = Buffer.from(JSON.stringify([queue.name, message.messageId, randomBytes(8).toString("hex")])).toString("base64url");
      received.push({ message, receiptHandle: message.receiptHandle });
    }
    return received;
  }

  private findByHandle(queue: LocalQueue, handle: unknown): StoredMessage | undefined {
    if (typeof handle !== "string" || handle === "") throw invalidParameter("ReceiptHandle is required.");
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(handle, "base64url").toString("utf8"));
    } catch {
      decoded = undefined;
    }
    if (!Array.isArray(decoded) || decoded.length !== 3) {
      throw new AwsError("com.amazonaws.sqs#ReceiptHandleIsInvalid", `The input receipt handle "${handle}" is not a valid receipt handle.`, 400, "ReceiptHandleIsInvalid;Sender");
    }
    // Only the latest receipt handle of a message acts on it, as SQS documents.
    return queue.messages.find((m) => m.receiptHandle === handle);
  }

  /** Deletes a received message; a stale handle (the message was received again) changes nothing. */
  delete(queue: LocalQueue, handle: unknown): void {
    const message = this.findByHandle(queue, handle);
    if (message) queue.messages.splice(queue.messages.indexOf(message), 1);
  }

  changeVisibility(queue: LocalQueue, handle: unknown, seconds: unknown): void {
    const timeout = integerIn("VisibilityTimeout", seconds, 0, MAX_VISIBILITY_SECONDS, 0);
    const message = this.findByHandle(queue, handle);
    if (!message || message.visibleAt <= Date.now()) {
      throw new AwsError("com.amazonaws.sqs#MessageNotInflight", "The message referred to is not in flight.", 400, "AWS.SimpleQueueService.MessageNotInflight;Sender");
    }
    message.visibleAt = Date.now() + timeout * 1000;
    if (timeout === 0) queue.notify();
  }

  /** Moves every message of a dead-letter queue to `destination` or back to its source queue. */
  moveMessages(source: LocalQueue, destination?: LocalQueue): number {
    let moved = 0;
    const now = Date.now();
    for (const message of [...source.messages]) {
      const target = destination ?? (message.deadLetterSourceArn ? this.byArn(message.deadLetterSourceArn) : undefined);
      if (!target) continue;
      source.messages.splice(source.messages.indexOf(message), 1);
      const { deadLetterSourceArn: _source, receiptHandle: _handle, firstReceiveAt: _first, ...rest } = message;
      target.messages.push({ ...rest, receiveCount: 0, visibleAt: now });
      target.notify();
      moved++;
    }
    return moved;
  }

  private operations() {
    const messageOut = ({ message, receiptHandle }: ReceivedMessage, attributeNames: string[], attributeFilter: string[]) => {
      const all: Record<string, string> = {
        SenderId: "AIDALOCALDEVELOPER",
        SentTimestamp: String(message.sentAt),
        ApproximateReceiveCount: String(message.receiveCount),
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? message.sentAt),
        ...(message.deadLetterSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterSourceArn } : {}),
        ...(message.messageGroupId ? { MessageGroupId: message.messageGroupId } : {}),
      };
      const wantAll = attributeNames.includes("All");
      const attributes = Object.fromEntries(Object.entries(all).filter(([key]) => wantAll || attributeNames.includes(key)));
      const wantedMessageAttributes = message.messageAttributes
        ? Object.fromEntries(Object.entries(message.messageAttributes).filter(([name]) =>
            attributeFilter.some((filter) => filter === "All" || filter === ".*" || filter === name || (filter.endsWith(".*") && name.startsWith(filter.slice(0, -1))))))
        : {};
      const hasMessageAttributes = Object.keys(wantedMessageAttributes).length > 0;
      return {
        MessageId: message.messageId,
        ReceiptHandle: receiptHandle,
        MD5OfBody: message.md5OfBody,
        Body: message.body,
        ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
        ...(hasMessageAttributes ? { MessageAttributes: wantedMessageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(wantedMessageAttributes) } : {}),
      };
    };
    const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
    const batch = <T>(entries: unknown, each: (entry: any) => T) => {
      if (!Array.isArray(entries) || entries.length === 0) throw new AwsError("com.amazonaws.sqs#EmptyBatchRequest", "There should be at least one entry in the request.", 400, "AWS.SimpleQueueService.EmptyBatchRequest;Sender");
      if (entries.length > 10) throw new AwsError("com.amazonaws.sqs#TooManyEntriesInBatchRequest", `Maximum number of entries per request are 10. You have sent ${entries.length}.`, 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender");
      const ids = entries.map((e: any) => e?.Id);
      if (new Set(ids).size !== ids.length) throw new AwsError("com.amazonaws.sqs#BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.", 400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct;Sender");
      const Successful: T[] = [];
      const Failed: Array<Record<string, unknown>> = [];
      for (const entry of entries) {
        if (typeof entry?.Id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(entry.Id)) throw new AwsError("com.amazonaws.sqs#InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.", 400, "AWS.SimpleQueueService.InvalidBatchEntryId;Sender");
        try {
          Successful.push(each(entry));
        } catch (error) {
          const aws = error instanceof AwsError ? error : invalidParameter((error as Error).message);
          Failed.push({ Id: entry.Id, SenderFault: true, Code: aws.name, Message: aws.message });
        }
      }
      return { Successful, Failed };
    };
    const sent = (message: StoredMessage) => ({
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    });
    const queueByArn = (arn: unknown, field: string) => {
      const queue = typeof arn === "string" ? this.byArn(arn) : undefined;
      if (!queue) throw new AwsError("com.amazonaws.sqs#ResourceNotFoundException", `${field} ${JSON.stringify(arn)} is not a queue here.`);
      return queue;
    };

    return {
      SendMessage: (input: Record<string, any>) =>
        sent(this.send(this.byUrl(input.QueueUrl), input.MessageBody, { delaySeconds: input.DelaySeconds, messageAttributes: input.MessageAttributes, messageGroupId: input.MessageGroupId })),
      SendMessageBatch: (input: Record<string, any>) => {
        const queue = this.byUrl(input.QueueUrl);
        return batch(input.Entries, (entry) => ({ Id: entry.Id, ...sent(this.send(queue, entry.MessageBody, { delaySeconds: entry.DelaySeconds, messageAttributes: entry.MessageAttributes, messageGroupId: entry.MessageGroupId })) }));
      },
      ReceiveMessage: async (input: Record<string, any>) => {
        const queue = this.byUrl(input.QueueUrl);
        const max = integerIn("MaxNumberOfMessages", input.MaxNumberOfMessages, 1, 10, 1);
        const visibility = integerIn("VisibilityTimeout", input.VisibilityTimeout, 0, MAX_VISIBILITY_SECONDS, -1);
        const wait = integerIn("WaitTimeSeconds", input.WaitTimeSeconds, 0, 20, 0);
        const received = await this.receive(queue, max, visibility >= 0 ? visibility * 1000 : queue.visibilityTimeoutMs, wait * 1000);
        const attributeNames = [...strings(input.AttributeNames), ...strings(input.MessageSystemAttributeNames)];
        return { Messages: received.map((r) => messageOut(r, attributeNames, strings(input.MessageAttributeNames))) };
      },
      DeleteMessage: (input: Record<string, any>) => {
        this.delete(this.byUrl(input.QueueUrl), input.ReceiptHandle);
        return {};
      },
      DeleteMessageBatch: (input: Record<string, any>) => {
        const queue = this.byUrl(input.QueueUrl);
        return batch(input.Entries, (entry) => {
          this.delete(queue, entry.ReceiptHandle);
          return { Id: entry.Id };
        });
      },
      ChangeMessageVisibility: (input: Record<string, any>) => {
        this.changeVisibility(this.byUrl(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
        return {};
      },
      ChangeMessageVisibilityBatch: (input: Record<string, any>) => {
        const queue = this.byUrl(input.QueueUrl);
        return batch(input.Entries, (entry) => {
          this.changeVisibility(queue, entry.ReceiptHandle, entry.VisibilityTimeout);
          return { Id: entry.Id };
        });
      },
      GetQueueUrl: (input: Record<string, any>) => {
        const queue = this.queues.get(String(input.QueueName));
        if (!queue) throw new AwsError("com.amazonaws.sqs#QueueDoesNotExist", `The specified queue ${input.QueueName} does not exist.`, 400, "AWS.SimpleQueueService.NonExistentQueue;Sender");
        return { QueueUrl: queue.url };
      },
      GetQueueAttributes: (input: Record<string, any>) => {
        const queue = this.byUrl(input.QueueUrl);
        const { visible, inFlight, delayed } = queue.counts();
        const d = queue.definition;
        const all: Record<string, string> = {
          QueueArn: queue.arn,
          ApproximateNumberOfMessages: String(visible),
          ApproximateNumberOfMessagesNotVisible: String(inFlight),
          ApproximateNumberOfMessagesDelayed: String(delayed),
          CreatedTimestamp: String(queue.createdAt),
          LastModifiedTimestamp: String(queue.createdAt),
          VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(queue.messageRetentionSeconds),
          DelaySeconds: String(queue.delaySeconds),
          MaximumMessageSize: String(SQS_MAX_MESSAGE_BYTES),
          ReceiveMessageWaitTimeSeconds: "0",
          SqsManagedSseEnabled: "true",
          ...(d.redrivePolicy ? { RedrivePolicy: JSON.stringify(d.redrivePolicy) } : {}),
          ...(d.fifo ? { FifoQueue: "true" } : {}),
        };
        const names = strings(input.AttributeNames);
        return { Attributes: Object.fromEntries(Object.entries(all).filter(([key]) => names.includes("All") || names.includes(key))) };
      },
      ListQueues: (input: Record<string, any>) => ({
        QueueUrls: this.list().filter((q) => !input.QueueNamePrefix || q.name.startsWith(input.QueueNamePrefix)).map((q) => q.url),
      }),
      ListDeadLetterSourceQueues: (input: Record<string, any>) => {
        const deadLetterQueue = this.byUrl(input.QueueUrl);
        return { queueUrls: this.list().filter((q) => q.definition.redrivePolicy?.deadLetterTargetArn === deadLetterQueue.arn).map((q) => q.url) };
      },
      PurgeQueue: (input: Record<string, any>) => {
        this.byUrl(input.QueueUrl).messages.length = 0;
        return {};
      },
      StartMessageMoveTask: (input: Record<string, any>) => {
        const source = queueByArn(input.SourceArn, "SourceArn");
        const destination = input.DestinationArn === undefined ? undefined : queueByArn(input.DestinationArn, "DestinationArn");
        const isDeadLetterQueue = this.list().some((q) => q.definition.redrivePolicy?.deadLetterTargetArn === source.arn);
        if (!isDeadLetterQueue) throw invalidParameter(`Source queue ${source.name} is not a dead-letter queue of any queue.`);
        const toMove = source.messages.length;
        const moved = this.moveMessages(source, destination);
        const TaskHandle = Buffer.from(JSON.stringify({ id: randomUUID(), source: source.arn })).toString("base64url");
        this.moveTasks.unshift({
          TaskHandle, Status: "COMPLETED", SourceArn: source.arn, ...(destination ? { DestinationArn: destination.arn } : {}),
          ApproximateNumberOfMessagesMoved: moved, ApproximateNumberOfMessagesToMove: toMove, StartedTimestamp: Date.now(),
        });
        return { TaskHandle };
      },
      ListMessageMoveTasks: (input: Record<string, any>) => ({
        Results: this.moveTasks.filter((task) => task.SourceArn === input.SourceArn).slice(0, integerIn("MaxResults", input.MaxResults, 1, 10, 1)),
      }),
    };
  }
}

function attributesBytes(attributes: Record<string, MessageAttributeValue> | undefined): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType) + Buffer.byteLength(value.StringValue ?? "") + (value.BinaryValue ? Buffer.from(value.BinaryValue, "base64").length : 0);
  }
  return bytes;
}
