/**
 * Stream event source mappings (DynamoDB Streams, Kinesis), as Lambda runs them. Each shard
 * is read in order; with a parallelization factor above 1 a shard is spread over that many
 * lanes by partition key, so one key's records stay in order while other keys run
 * concurrently. A lane drops the records no filter pattern matches (they count as
 * processed), gathers up to `batchSize` of the others (waiting up to the batching window),
 * and does not read on until the batch is resolved, as AWS's shard iterator does:
 * - success (or, with ReportBatchItemFailures, an empty/null list or response): checkpoint;
 * - a partial batch response: checkpoint before the lowest failed sequence number and retry
 *   from it (with bisect on, that is where the batch is split);
 * - an error, a timeout or an invalid partial response: with bisect on, split in halves and
 *   run each (splitting consumes no retry); otherwise retry the batch;
 * - retries (`maximumRetryAttempts`, -1 = until the records expire) exhausted, or records
 *   older than `maximumRecordAgeInSeconds`: the on-failure destination gets a failure record
 *   that names the shard and the sequence-number range (not the data); the lane reads on.
 */
import { randomUUID } from "node:crypto";
import type { InvokeResult } from "./functions";
import type { RecordFilter } from "./stream-filters";

export type StreamKind = "dynamodb" | "kinesis";

export interface StreamRecord {
  sequenceNumber: string;
  /** Kinesis's partition key; for DynamoDB, the item's partition key value. */
  partitionKey: string;
  arrivalMs: number;
  /** The record as the function receives it. */
  event: unknown;
  /** The record as filter patterns see it. */
  filterView: unknown;
}

export interface StreamMappingSettings {
  batchSize: number;
  batchWindowSeconds: number;
  bisectOnError: boolean;
  /** -1: retry until the records expire. */
  maxRetries: number;
  /** -1: no limit. */
  maxRecordAgeSeconds: number;
  reportBatchItemFailures: boolean;
  parallelizationFactor: number;
}

export type BatchOutcome =
  | { kind: "success" }
  | { kind: "partial"; fromIndex: number }
  | { kind: "failed"; note: string; functionError?: string };

/**
 * How Lambda reads a stream function's result: an error fails the whole batch; without
 * ReportBatchItemFailures any response is a success; with it, an empty or null response or
 * list is a success, identifiers that are sequence numbers of this batch fail from the lowest
 * of them, and anything else (an empty, null or unknown identifier, a list that is not one)
 * fails the whole batch.
 */
export function classifyStreamResult(result: InvokeResult, sequenceNumbers: string[], reportBatchItemFailures: boolean): BatchOutcome {
  if (result.error) return { kind: "failed", functionError: "Unhandled", note: `${result.error.errorType}: ${result.error.errorMessage}` };
  if (!reportBatchItemFailures) return { kind: "success" };
  const payload = result.payload as any;
  if (payload === null || payload === undefined || payload === "") return { kind: "success" };
  if (typeof payload !== "object" || Array.isArray(payload)) return { kind: "failed", note: "response is not a batch response; the whole batch fails" };
  const failures = payload.batchItemFailures;
  if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) return { kind: "success" };
  if (!Array.isArray(failures)) return { kind: "failed", note: "batchItemFailures is not a list; the whole batch fails" };
  let fromIndex = sequenceNumbers.length;
  for (const failure of failures) {
    const index = typeof failure?.itemIdentifier === "string" ? sequenceNumbers.indexOf(failure.itemIdentifier) : -1;
    if (index < 0) return { kind: "failed", note: `itemIdentifier ${JSON.stringify(failure?.itemIdentifier)} is not a sequence number of this batch; the whole batch fails` };
    fromIndex = Math.min(fromIndex, index);
  }
  return { kind: "partial", fromIndex };
}

export type FailureCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

/** Records given up on, for the on-failure destination. */
export interface DiscardedBatch {
  records: StreamRecord[];
  condition: FailureCondition;
  /** Invocations that included these records. */
  invokeCount: number;
  functionError?: string;
}

export interface ProcessorDependencies {
  invoke(records: StreamRecord[]): Promise<InvokeResult>;
  discard(batch: DiscardedBatch): Promise<void>;
  onInvoked?(records: StreamRecord[], outcome: BatchOutcome, result: InvokeResult): void;
  now(): number;
  /** The pause before a retry. */
  backoff(retry: number): Promise<void>;
  /** True once the mapping stops: the batch is left unresolved. */
  cancelled?(): boolean;
}

/** Resolves one batch of a lane by the rules above: returns once every record succeeded or was discarded. */
export async function resolveBatch(batch: StreamRecord[], settings: StreamMappingSettings, deps: ProcessorDependencies): Promise<void> {
  // A stack, so the first half of a split runs (and resolves) before the second.
  const pending = [{ records: batch, retries: 0, invocations: 0 }];
  while (pending.length > 0 && !deps.cancelled?.()) {
    const work = pending.pop()!;
    let records = work.records;
    if (settings.maxRecordAgeSeconds >= 0) {
      const oldest = deps.now() - settings.maxRecordAgeSeconds * 1000;
      const expired = records.filter((r) => r.arrivalMs < oldest);
      if (expired.length > 0) {
        await deps.discard({ records: expired, condition: "RecordAgeExceeded", invokeCount: work.invocations });
        records = records.filter((r) => r.arrivalMs >= oldest);
        if (records.length === 0) continue;
      }
    }
    const result = await deps.invoke(records);
    const invocations = work.invocations + 1;
    const outcome = classifyStreamResult(result, records.map((r) => r.sequenceNumber), settings.reportBatchItemFailures);
    deps.onInvoked?.(records, outcome, result);
    if (outcome.kind === "success") continue;
    if (outcome.kind === "failed" && settings.bisectOnError && records.length > 1) {
      const half = Math.ceil(records.length / 2);
      pending.push({ records: records.slice(half), retries: work.retries, invocations }, { records: records.slice(0, half), retries: work.retries, invocations });
      continue;
    }
    const retry = outcome.kind === "partial" ? records.slice(outcome.fromIndex) : records;
    if (settings.maxRetries < 0 || work.retries < settings.maxRetries) {
      await deps.backoff(work.retries + 1);
      pending.push({ records: retry, retries: work.retries + 1, invocations });
    } else {
      await deps.discard({ records: retry, condition: "RetryAttemptsExhausted", invokeCount: invocations, ...(outcome.kind === "failed" ? { functionError: outcome.functionError } : {}) });
    }
  }
}

/** Where a lane's records come from and where its batches go. */
export interface LaneDependencies extends ProcessorDependencies {
  filter: RecordFilter;
  /** Records dropped by the filters (they count as processed). */
  onFiltered?(count: number): void;
  /** A batch could not be run (not a function error: e.g. the destination refused); it is tried again. */
  onLaneError?(error: Error): void;
}

/**
 * One lane of a shard: records in arrival order, one batch at a time. `push` adds records;
 * the loop runs until `stop`.
 */
export class Lane {
  private readonly queue: StreamRecord[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private resolving = false;

  constructor(private readonly settings: StreamMappingSettings, private readonly deps: LaneDependencies) {
    this.deps = { ...deps, cancelled: () => this.stopped || (deps.cancelled?.() ?? false) };
  }

  push(records: StreamRecord[]): void {
    const matching = records.filter((r) => this.deps.filter(r.filterView));
    if (matching.length < records.length) this.deps.onFiltered?.(records.length - matching.length);
    this.queue.push(...matching);
    this.wake?.();
  }

  /** Nothing waiting and no batch in progress. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.resolving;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  /** Resolves when a record arrives, `ms` pass, or the lane stops. */
  private wait(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.queue.length === 0) {
        await this.wait();
        continue;
      }
      const deadline = this.queue[0].arrivalMs + this.settings.batchWindowSeconds * 1000;
      while (!this.stopped && this.queue.length < this.settings.batchSize && Date.now() < deadline) await this.wait(deadline - Date.now());
      if (this.stopped) break;
      this.resolving = true;
      const batch = this.queue.splice(0, this.settings.batchSize);
      try {
        await resolveBatch(batch, this.settings, this.deps);
      } catch (error) {
        this.queue.unshift(...batch);
        if (!this.stopped) this.deps.onLaneError?.(error as Error);
        await this.deps.backoff(1);
      } finally {
        this.resolving = false;
      }
    }
  }
}

/** The lane of a partition key: a stable hash, so a key always lands in the same lane. */
export function laneOf(partitionKey: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < partitionKey.length; i++) hash = (hash * 31 + partitionKey.charCodeAt(i)) >>> 0;
  return hash % lanes;
}

/** A stream's short name for logs: the table's or the Kinesis stream's. */
export function streamName(arn: string): string {
  return /:table\/([^/]+)\/stream\//.exec(arn)?.[1] ?? /:stream\/(.+)$/.exec(arn)?.[1] ?? arn;
}

/** A stream the local runtime serves: its shards deliver records to a subscriber in order. */
export interface StreamSource {
  kind: StreamKind;
  arn: string;
  /** Starts delivering; returns the stopper. */
  subscribe(startingPosition: "LATEST" | "TRIM_HORIZON", deliver: (shardId: string, records: StreamRecord[]) => void, onError?: (message: string) => void): Promise<() => Promise<void>>;
}

/** Lambda's on-failure record for discarded stream records: the batch's place in the stream, not its data. */
export function failureRecord(batch: DiscardedBatch, context: { kind: StreamKind; shardId: string; streamArn: string; functionArn: string; now: Date }) {
  const first = batch.records[0];
  const last = batch.records[batch.records.length - 1];
  const info = {
    shardId: context.shardId,
    startSequenceNumber: first.sequenceNumber,
    endSequenceNumber: last.sequenceNumber,
    approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
    approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
    batchSize: batch.records.length,
    streamArn: context.streamArn,
  };
  return {
    requestContext: { requestId: randomUUID(), functionArn: context.functionArn, condition: batch.condition, approximateInvokeCount: batch.invokeCount },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", ...(batch.functionError ? { functionError: batch.functionError } : {}) },
    version: "1.0",
    timestamp: context.now.toISOString(),
    [context.kind === "kinesis" ? "KinesisBatchInfo" : "DDBStreamBatchInfo"]: info,
  };
}

export interface StreamBatchLog {
  source: string;
  functionName: string;
  shardId: string;
  size: number;
  outcome: BatchOutcome;
  ms: number;
  cold: boolean;
}

/** The backoff between retries of a failing batch: short locally, doubling up to a second. */
const retryBackoff = (retry: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** retry)));

/** An event source mapping on a stream: lanes per shard, fed by the source. */
export class StreamPoller {
  private readonly lanes = new Map<string, Lane[]>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly source: StreamSource,
    private readonly settings: StreamMappingSettings & { startingPosition: "LATEST" | "TRIM_HORIZON" | "AT_TIMESTAMP"; startingPositionTimestampMs?: number; filter: RecordFilter },
    private readonly target: { functionName: string; functionArn: string; invoke(event: unknown): Promise<InvokeResult> },
    private readonly destination: { describe: string; send(body: string): Promise<void> } | undefined,
    private readonly log: { batch(entry: StreamBatchLog): void; line(text: string): void },
  ) {}

  async start(): Promise<void> {
    // AT_TIMESTAMP reads from the trim horizon and skips what arrived before the timestamp.
    const { startingPosition, startingPositionTimestampMs = 0 } = this.settings;
    this.unsubscribe = await this.source.subscribe(startingPosition === "LATEST" ? "LATEST" : "TRIM_HORIZON", (shardId, records) => {
      const lanes = this.lanesOf(shardId);
      const byLane = new Map<Lane, StreamRecord[]>();
      for (const record of records) {
        if (startingPosition === "AT_TIMESTAMP" && record.arrivalMs < startingPositionTimestampMs) continue;
        const lane = lanes[laneOf(record.partitionKey, lanes.length)];
        byLane.set(lane, [...byLane.get(lane) ?? [], record]);
      }
      for (const [lane, laneRecords] of byLane) lane.push(laneRecords);
    }, (message) => this.log.line(`STREAM ${streamName(this.source.arn)}: reading failed, retrying: ${message}`));
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    await Promise.all([...this.lanes.values()].flat().map((lane) => lane.stop()));
  }

  private lanesOf(shardId: string): Lane[] {
    let lanes = this.lanes.get(shardId);
    if (lanes) return lanes;
    lanes = Array.from({ length: this.settings.parallelizationFactor }, () => new Lane(this.settings, {
      filter: this.settings.filter,
      now: () => Date.now(),
      backoff: retryBackoff,
      invoke: (records) => this.target.invoke({ Records: records.map((r) => r.event) }),
      onInvoked: (records, outcome, result) => this.log.batch({ source: this.source.arn, functionName: this.target.functionName, shardId, size: records.length, outcome, ms: result.durationMs, cold: result.cold }),
      discard: (batch) => this.discard(shardId, batch),
      onLaneError: (error) => this.log.line(`STREAM ${streamName(this.source.arn)} ${shardId}: ${error.message}; trying the batch again`),
    }));
    for (const lane of lanes) lane.start();
    this.lanes.set(shardId, lanes);
    return lanes;
  }

  private async discard(shardId: string, batch: DiscardedBatch): Promise<void> {
    const range = `${batch.records.length} record(s) ${batch.records[0].sequenceNumber}..${batch.records[batch.records.length - 1].sequenceNumber}`;
    if (!this.destination) {
      this.log.line(`STREAM ${streamName(this.source.arn)} -> ${this.target.functionName}: ${range} discarded (${batch.condition}); the mapping has no on-failure destination`);
      return;
    }
    const record = failureRecord(batch, { kind: this.source.kind, shardId, streamArn: this.source.arn, functionArn: this.target.functionArn, now: new Date() });
    await this.destination.send(JSON.stringify(record));
    this.log.line(`STREAM ${streamName(this.source.arn)} -> ${this.target.functionName}: ${range} sent to ${this.destination.describe} (${batch.condition})`);
  }
}
