/**
 * SQS event source mappings, as Lambda runs them: pollers (one per unit of the mapping's
 * maximum concurrency) receive up to `batchSize` messages, gathering for up to the batching
 * window, and invoke the function with an SQS event. A successful invocation deletes the
 * batch, except the messages named in `batchItemFailures` (ReportBatchItemFailures); a
 * failed one (error, timeout, malformed response) leaves the whole batch to reappear after
 * the visibility timeout. The queue's redrive policy moves a message received
 * `maxReceiveCount` times to the DLQ (see sqs.ts).
 */
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { MappingModel } from "./app";
import type { InvokeResult, LocalFunction } from "./functions";
import type { LocalQueue, LocalSqs, ReceivedMessage } from "./sqs";

/** How long one receive waits for messages (a long poll, as Lambda's pollers do), in ms; stop() ends it at once. */
const POLL_WAIT_MS = 20_000;

export interface BatchLog {
  queue: string;
  functionName: string;
  size: number;
  failed: number;
  ms: number;
  cold: boolean;
  note?: string;
}

/** Lambda's event record for a received message. */
export function toRecord({ message, receiptHandle }: ReceivedMessage, queueArn: string, region: string): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: "AIDALOCALDEVELOPER",
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? message.sentAt),
    },
    messageAttributes: Object.fromEntries(Object.entries(message.messageAttributes ?? {}).map(([name, value]) => [name, {
      dataType: value.DataType,
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
    }])),
    md5OfBody: message.md5OfBody,
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages of a batch failed, by Lambda's rules for ReportBatchItemFailures: a
 * failed invocation fails all; an empty or null response, or an empty list, fails none; a
 * response that is not `{ batchItemFailures: [{ itemIdentifier }] }` with identifiers of this
 * batch fails all.
 */
export function failedMessageIds(result: InvokeResult, messageIds: string[], reportBatchItemFailures: boolean): { failed: Set<string>; note?: string } {
  const all = new Set(messageIds);
  if (result.error) return { failed: all, note: `${result.error.errorType}: ${result.error.errorMessage}` };
  if (!reportBatchItemFailures) return { failed: new Set() };
  const payload = result.payload as any;
  if (payload === null || payload === undefined || payload === "") return { failed: new Set() };
  if (typeof payload !== "object" || Array.isArray(payload)) return { failed: all, note: "response is not a batch response; the whole batch fails" };
  const failures = payload.batchItemFailures;
  if (failures === undefined || failures === null) return { failed: new Set() };
  if (!Array.isArray(failures)) return { failed: all, note: "batchItemFailures is not a list; the whole batch fails" };
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== "string" || !all.has(id)) return { failed: all, note: `itemIdentifier ${JSON.stringify(id)} is not a message of this batch; the whole batch fails` };
    failed.add(id);
  }
  return { failed };
}

export class QueuePoller {
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly sqs: LocalSqs,
    readonly queue: LocalQueue,
    private readonly fn: LocalFunction,
    readonly mapping: MappingModel,
    private readonly region: string,
    private readonly onBatch: (entry: BatchLog) => void,
  ) {}

  start(): void {
    for (let i = 0; i < this.mapping.maxConcurrency; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.notify();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const batch = await this.gather();
        if (batch.length > 0 && !this.stopped) await this.process(batch);
      } catch (error) {
        if (!this.stopped) this.onBatch({ queue: this.queue.name, functionName: this.fn.config.name, size: 0, failed: 0, ms: 0, cold: false, note: `poller error: ${(error as Error).message}` });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private async gather(): Promise<ReceivedMessage[]> {
    const { batchSize, batchWindowSeconds } = this.mapping;
    const visibility = this.queue.visibilityTimeoutMs;
    const first = await this.sqs.receive(this.queue, Math.min(batchSize, 10), visibility, POLL_WAIT_MS, () => this.stopped);
    if (first.length === 0 || batchWindowSeconds === 0) return first;
    const batch = [...first];
    const deadline = Date.now() + batchWindowSeconds * 1000;
    while (batch.length < batchSize && Date.now() < deadline && !this.stopped) {
      batch.push(...await this.sqs.receive(this.queue, Math.min(batchSize - batch.length, 10), visibility, deadline - Date.now(), () => this.stopped));
    }
    return batch;
  }

  private async process(batch: ReceivedMessage[]): Promise<void> {
    const event: SQSEvent = { Records: batch.map((received) => toRecord(received, this.queue.arn, this.region)) };
    const result = await this.fn.invoke(event);
    const { failed, note } = failedMessageIds(result, batch.map((r) => r.message.messageId), this.mapping.reportBatchItemFailures);
    for (const received of batch) {
      if (!failed.has(received.message.messageId)) this.sqs.delete(this.queue, received.receiptHandle);
    }
    this.onBatch({ queue: this.queue.name, functionName: this.fn.config.name, size: batch.length, failed: failed.size, ms: result.durationMs, cold: result.cold, note });
  }
}
