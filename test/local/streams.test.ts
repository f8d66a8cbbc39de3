/**
 * The stream pollers' rules, against a reference model written from AWS's documentation
 * ("Configuring partial batch response", "Retain discarded batch records"): a property
 * test over any failing records, batch size, bisect, retries, and the three ways a batch
 * fails (a thrown error, a partial batch response, an invalid response). Also the
 * response rules one by one, record age, parallelization order, the failure record, the
 * DynamoDB stream's view types and the filter patterns.
 */
import { expect } from "chai";
import fc from "fast-check";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { startDynamo } from "../../local/dynamodb";
import { startStreamingProxy, TableStream, type StreamViewType } from "../../local/dynamodb-streams";
import type { InvokeResult } from "../../local/functions";
import { recordFilter } from "../../local/stream-filters";
import { startStreamPollers } from "../../local/stream-runtime";
import type { AppModel, TableModel } from "../../local/app";
import { LocalSqs } from "../../local/sqs";
import { classifyStreamResult, failureRecord, Lane, laneOf, resolveBatch, StreamPoller, type DiscardedBatch, type StreamMappingSettings, type StreamRecord, type StreamSource } from "../../local/streams";

const ok = (payload?: unknown): InvokeResult => ({ payload, timedOut: false, cold: false, durationMs: 1, requestId: "r" });
const thrown = (): InvokeResult => ({ error: { errorType: "Error", errorMessage: "boom" }, timedOut: false, cold: false, durationMs: 1, requestId: "r" });
const record = (i: number, partitionKey = "k", arrivalMs = 0): StreamRecord => ({ sequenceNumber: String(1000 + i), partitionKey, arrivalMs, event: { i }, filterView: { i } });
const SETTINGS: StreamMappingSettings = { batchSize: 10, batchWindowSeconds: 0, bisectOnError: false, maxRetries: 2, maxRecordAgeSeconds: -1, reportBatchItemFailures: true, parallelizationFactor: 1 };

type Mode = "throw" | "report" | "invalid";

/**
 * The function under test: record i fails its first `failures[i]` invocations (Infinity:
 * always), and a batch with a failing record fails in `mode`.
 */
function fakeFunction(failures: number[], mode: Mode) {
  const attempts = failures.map(() => 0);
  return (indexes: number[]): InvokeResult => {
    const failing = indexes.filter((i) => ++attempts[i] <= failures[i]);
    if (failing.length === 0) return ok(null);
    if (mode === "throw") return thrown();
    if (mode === "invalid") return ok({ batchItemFailures: [{ itemIdentifier: "" }] });
    return ok({ batchItemFailures: failing.map((i) => ({ itemIdentifier: String(1000 + i) })) });
  };
}

interface Trace {
  invocations: number[][];
  discarded: Array<{ indexes: number[]; invokeCount: number }>;
}

/**
 * AWS's rules, as the documentation states them, written as a recursion over one batch:
 * a complete success checkpoints; a partial response (ReportBatchItemFailures) checkpoints
 * before the lowest reported sequence number and retries from it; any other failure splits
 * the batch in two when bisect is on (a split uses no retry) or retries it; a batch whose
 * retries are used up goes to the on-failure destination. Batches are the records in order,
 * `batchSize` at a time, each started once the one before is resolved.
 */
function referenceModel(count: number, settings: StreamMappingSettings, invoke: (indexes: number[]) => InvokeResult): Trace {
  const trace: Trace = { invocations: [], discarded: [] };
  const run = (batch: number[], retriesUsed: number, invokedBefore: number): void => {
    trace.invocations.push(batch);
    const result = invoke(batch);
    const invoked = invokedBefore + 1;
    const failures: any[] | null | undefined = result.error ? undefined : (result.payload as any)?.batchItemFailures;
    const reported = !result.error && settings.reportBatchItemFailures && Array.isArray(failures) && failures.length > 0;
    const valid = reported && failures!.every((f) => batch.some((i) => String(1000 + i) === f.itemIdentifier));
    const success = !result.error && (!settings.reportBatchItemFailures || !failures || failures.length === 0);
    if (success) return;
    const giveUpOrRetry = (rest: number[]) => {
      if (settings.maxRetries === -1 || retriesUsed < settings.maxRetries) run(rest, retriesUsed + 1, invoked);
      else trace.discarded.push({ indexes: rest, invokeCount: invoked });
    };
    if (valid) {
      const lowest = Math.min(...failures!.map((f) => Number(f.itemIdentifier) - 1000));
      return giveUpOrRetry(batch.filter((i) => i >= lowest));
    }
    if (settings.bisectOnError && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      run(batch.slice(0, half), retriesUsed, invoked);
      run(batch.slice(half), retriesUsed, invoked);
      return;
    }
    giveUpOrRetry(batch);
  };
  const all = Array.from({ length: count }, (_, i) => i);
  for (let start = 0; start < count; start += settings.batchSize) run(all.slice(start, start + settings.batchSize), 0, 0);
  return trace;
}

/** The local poller's lane, fed every record at once, until it has resolved them all. */
async function lanePoller(count: number, settings: StreamMappingSettings, invoke: (indexes: number[]) => InvokeResult): Promise<Trace> {
  const trace: Trace = { invocations: [], discarded: [] };
  const index = (r: StreamRecord) => Number(r.sequenceNumber) - 1000;
  const lane = new Lane(settings, {
    filter: () => true,
    now: () => 0,
    backoff: async () => undefined,
    invoke: async (records) => {
      trace.invocations.push(records.map(index));
      return invoke(records.map(index));
    },
    discard: async (batch: DiscardedBatch) => void trace.discarded.push({ indexes: batch.records.map(index), invokeCount: batch.invokeCount }),
  });
  lane.start();
  lane.push(Array.from({ length: count }, (_, i) => record(i)));
  while (!lane.idle) await new Promise((resolve) => setImmediate(resolve));
  await lane.stop();
  return trace;
}

describe("local runtime: stream pollers (Lambda's rules for stream batches)", () => {
  it("retries and dead-letters any batch exactly as AWS's partial-batch, bisect and retry rules say (property)", async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.constant(Infinity)), { minLength: 1, maxLength: 24 }),
      fc.record({
        batchSize: fc.integer({ min: 1, max: 10 }),
        bisectOnError: fc.boolean(),
        maxRetries: fc.integer({ min: 0, max: 3 }),
        reportBatchItemFailures: fc.boolean(),
      }),
      fc.constantFrom<Mode>("throw", "report", "invalid"),
      async (failures, options, mode) => {
        const settings = { ...SETTINGS, ...options };
        const local = await lanePoller(failures.length, settings, fakeFunction(failures, mode));
        const expected = referenceModel(failures.length, settings, fakeFunction(failures, mode));
        expect(local).to.deep.equal(expected);
        // And what that means for the records: none is discarded twice; one that always fails is
        // discarded unless a response the mapping does not read hid its failure; bisecting on
        // errors isolates bad records, so a good one is never discarded with them.
        const discarded = local.discarded.flatMap((d) => d.indexes);
        expect(new Set(discarded).size).to.equal(discarded.length);
        const hidden = mode !== "throw" && !settings.reportBatchItemFailures;
        failures.forEach((f, i) => {
          if (f === Infinity && !hidden) expect(discarded, `record ${i} always fails`).to.include(i);
          if (f === 0 && settings.bisectOnError && mode !== "report") expect(discarded, `record ${i} never fails`).to.not.include(i);
        });
      },
    ), { numRuns: 300 });
  });

  it("reads responses as Lambda does: empty and null lists succeed, bad identifiers fail the whole batch, and without ReportBatchItemFailures any response succeeds", () => {
    const seqs = ["1", "2", "3"];
    expect(classifyStreamResult(ok(null), seqs, true)).to.deep.equal({ kind: "success" });
    expect(classifyStreamResult(ok(""), seqs, true)).to.deep.equal({ kind: "success" });
    expect(classifyStreamResult(ok({}), seqs, true)).to.deep.equal({ kind: "success" });
    expect(classifyStreamResult(ok({ batchItemFailures: [] }), seqs, true)).to.deep.equal({ kind: "success" });
    expect(classifyStreamResult(ok({ batchItemFailures: null }), seqs, true)).to.deep.equal({ kind: "success" });
    expect(classifyStreamResult(ok({ batchItemFailures: [{ itemIdentifier: "3" }, { itemIdentifier: "2" }] }), seqs, true)).to.deep.equal({ kind: "partial", fromIndex: 1 });
    for (const bad of [{ itemIdentifier: "" }, { itemIdentifier: null }, { itemIdentifer: "2" }, { itemIdentifier: "9" }]) {
      expect(classifyStreamResult(ok({ batchItemFailures: [bad] }), seqs, true).kind, JSON.stringify(bad)).to.equal("failed");
    }
    expect(classifyStreamResult(ok({ batchItemFailures: "2" }), seqs, true).kind).to.equal("failed");
    expect(classifyStreamResult(ok({ batchItemFailures: [{ itemIdentifier: "2" }] }), seqs, false)).to.deep.equal({ kind: "success" });
    expect(classifyStreamResult(thrown(), seqs, true)).to.deep.include({ kind: "failed", functionError: "Unhandled" });
  });

  it("sends records older than maximumRecordAgeInSeconds to the destination without invoking, and invokes the rest", async () => {
    const invoked: string[][] = [];
    const discarded: DiscardedBatch[] = [];
    await resolveBatch([record(1, "k", 0), record(2, "k", 50_000), record(3, "k", 70_000)], { ...SETTINGS, maxRecordAgeSeconds: 60 }, {
      now: () => 120_000, backoff: async () => undefined,
      invoke: async (records) => { invoked.push(records.map((r) => r.sequenceNumber)); return ok(null); },
      discard: async (batch) => void discarded.push(batch),
    });
    expect(discarded.map((d) => [d.condition, d.records.map((r) => r.sequenceNumber)])).to.deep.equal([["RecordAgeExceeded", ["1001", "1002"]]]);
    expect(invoked).to.deep.equal([["1003"]]);
  });

  it("starts AT_TIMESTAMP from the trim horizon, skipping what arrived before the timestamp; LATEST asks the source for new records only", async () => {
    const asked: string[] = [];
    const source: StreamSource = {
      kind: "kinesis", arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
      subscribe: async (position, deliver) => {
        asked.push(position);
        deliver("shardId-000000000000", [record(1, "k", 1_000), record(2, "k", 2_000), record(3, "k", 3_000)]);
        return async () => undefined;
      },
    };
    const invoked: number[][] = [];
    const target = { functionName: "f", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f", invoke: async (event: any) => { invoked.push(event.Records.map((r: { i: number }) => r.i)); return ok(null); } };
    const log = { batch: () => undefined, line: () => undefined };
    const poller = new StreamPoller(source, { ...SETTINGS, startingPosition: "AT_TIMESTAMP", startingPositionTimestampMs: 2_000, filter: () => true }, target, undefined, log);
    await poller.start();
    while (invoked.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await poller.stop();
    expect(asked).to.deep.equal(["TRIM_HORIZON"]);
    expect(invoked).to.deep.equal([[2, 3]]);
    const latest = new StreamPoller(source, { ...SETTINGS, startingPosition: "LATEST", filter: () => true }, target, undefined, log);
    await latest.start();
    await latest.stop();
    expect(asked).to.deep.equal(["TRIM_HORIZON", "LATEST"]);
  });

  it("keeps each partition key in order across lanes (parallelizationFactor) while other keys run beside it", async () => {
    const settings = { ...SETTINGS, batchSize: 2, parallelizationFactor: 3 };
    const seen: Array<[string, number]> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const lanes = Array.from({ length: 3 }, () => new Lane(settings, {
      filter: () => true, now: () => 0, backoff: async () => undefined, discard: async () => undefined,
      invoke: async (records) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const r of records) seen.push([r.partitionKey, (r.event as { i: number }).i]);
        inFlight--;
        return ok(null);
      },
    }));
    lanes.forEach((lane) => lane.start());
    const keys = ["a", "b", "c", "d", "e", "f"];
    const records = Array.from({ length: 36 }, (_, i) => record(i, keys[i % keys.length]));
    for (const r of records) lanes[laneOf(r.partitionKey, 3)].push([r]);
    while (!lanes.every((lane) => lane.idle)) await new Promise((resolve) => setTimeout(resolve, 2));
    await Promise.all(lanes.map((lane) => lane.stop()));
    expect(new Set(keys.map((k) => laneOf(k, 3))).size, "the keys spread over more than one lane").to.be.greaterThan(1);
    expect(maxInFlight, "lanes run concurrently").to.be.greaterThan(1);
    for (const key of keys) {
      const order = seen.filter(([k]) => k === key).map(([, i]) => i);
      expect(order, key).to.deep.equal([...order].sort((x, y) => x - y)).and.to.have.length(6);
    }
  });

  it("writes Lambda's failure record: the shard and sequence range, counts and condition, not the data", () => {
    const body = failureRecord({ records: [record(1, "k", Date.UTC(2026, 0, 1)), record(4, "k", Date.UTC(2026, 0, 2))], condition: "RetryAttemptsExhausted", invokeCount: 3, functionError: "Unhandled" },
      { kind: "kinesis", shardId: "shardId-000000000001", streamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f", now: new Date(Date.UTC(2026, 0, 3)) });
    expect(body).to.deep.include({ version: "1.0", timestamp: "2026-01-03T00:00:00.000Z" });
    expect(body.requestContext).to.deep.include({ functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f", condition: "RetryAttemptsExhausted", approximateInvokeCount: 3 });
    expect(body.responseContext).to.deep.equal({ statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" });
    expect((body as any).KinesisBatchInfo).to.deep.equal({
      shardId: "shardId-000000000001", startSequenceNumber: "1001", endSequenceNumber: "1004",
      approximateArrivalOfFirstRecord: "2026-01-01T00:00:00.000Z", approximateArrivalOfLastRecord: "2026-01-02T00:00:00.000Z",
      batchSize: 2, streamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
    });
  });

  it("gives each DynamoDB view type its keys and images", () => {
    const table = (view: StreamViewType) => new TableStream({ name: "t", hashKey: "pk", attributes: [], globalSecondaryIndexes: [], localSecondaryIndexes: [], streamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x", streamViewType: view }, "eu-west-1");
    const keys = { pk: { S: "1" } };
    const before = { ...keys, v: { N: "1" } };
    const after = { ...keys, v: { N: "2" } };
    const images = (view: StreamViewType) => {
      const { Keys, NewImage, OldImage } = (table(view).append(keys, before, after)!.event as any).dynamodb;
      return { Keys, NewImage, OldImage };
    };
    expect(images("KEYS_ONLY")).to.deep.equal({ Keys: keys, NewImage: undefined, OldImage: undefined });
    expect(images("NEW_IMAGE")).to.deep.equal({ Keys: keys, NewImage: after, OldImage: undefined });
    expect(images("OLD_IMAGE")).to.deep.equal({ Keys: keys, NewImage: undefined, OldImage: before });
    expect(images("NEW_AND_OLD_IMAGES")).to.deep.equal({ Keys: keys, NewImage: after, OldImage: before });
    const stream = table("NEW_AND_OLD_IMAGES");
    expect(stream.append(keys, undefined, undefined), "nothing there before or after").to.equal(undefined);
    expect(stream.append(keys, { ...keys, s: { SS: ["a", "b"] } }, { s: { SS: ["b", "a"] }, ...keys }), "same item, other order").to.equal(undefined);
  });

  it("says so, and starts the rest, when a mapping reads a stream the program does not define", async () => {
    const app = { functions: [], deploymentFunctions: [], apis: [], restApis: [], queues: [], mappings: [], parameters: [], tables: [], kinesisStreams: [], streamMappings: [{
      name: "orders-mapping", streamArn: "arn:aws:kinesis:eu-west-1:999999999999:stream/elsewhere", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f",
      startingPosition: "LATEST", batchSize: 100, batchWindowSeconds: 0, parallelizationFactor: 1, bisectOnError: true, maxRetries: 3, maxRecordAgeSeconds: -1, reportBatchItemFailures: true, filterPatterns: [],
    }] } satisfies AppModel;
    const lines: string[] = [];
    const stop = await startStreamPollers(app, { dynamodbEndpoint: "http://127.0.0.1:1", sources: [], stop: async () => undefined }, new Map(), { sqs: new LocalSqs("123456789012", () => undefined) }, (line) => lines.push(line));
    await stop();
    expect(lines).to.deep.equal(["Note: mapping orders-mapping reads arn:aws:kinesis:eu-west-1:999999999999:stream/elsewhere, which is not a table stream or Kinesis stream of the program; it does not run locally."]);
  });

  it("filters stream records by their patterns (any of them), and refuses a bad pattern at start", () => {
    const change = { eventName: "MODIFY", dynamodb: { NewImage: { status: { S: "paid" }, total: { N: "12" } } } };
    const matches = (pattern: object, document: unknown) => recordFilter([JSON.stringify(pattern)], "m")(document);
    expect(matches({ eventName: ["INSERT", "MODIFY"] }, change)).to.equal(true);
    expect(matches({ eventName: ["REMOVE"] }, change)).to.equal(false);
    expect(matches({ dynamodb: { NewImage: { status: { S: [{ prefix: "pa" }] } } } }, change)).to.equal(true);
    expect(matches({ dynamodb: { OldImage: [{ exists: false }] } }, change)).to.equal(true);
    expect(matches({ data: { n: [{ numeric: [">", 1, "<=", 5] }] } }, { data: { n: 5 } })).to.equal(true);
    expect(matches({ data: { kind: ["click"] } }, { data: undefined }), "Kinesis data that is not JSON").to.equal(false);
    const either = recordFilter([JSON.stringify({ eventName: ["INSERT"] }), JSON.stringify({ eventName: ["MODIFY"] })], "m");
    expect(either(change), "any of the filters").to.equal(true);
    expect(recordFilter([], "m")(change), "no filters: every record").to.equal(true);
    expect(() => recordFilter(["{nope"], "orders-mapping")).to.throw(/Mapping orders-mapping: filter pattern \{nope is not a valid pattern/);
    expect(() => recordFilter(["[1]"], "orders-mapping")).to.throw(/Mapping orders-mapping: filter pattern \[1\] is not a valid pattern/);
    expect(() => recordFilter([JSON.stringify({ eventName: [{ "starts-with": "IN" }] })], "orders-mapping"), "an unknown operator, found without a record").to.throw(/unknown operator "starts-with"/);
  });
});

describe("local runtime: the DynamoDB streams proxy", () => {
  it("answers a request above DynamoDB's 16 MB with a validation error instead of holding it, and forwards the rest", async () => {
    const table: TableModel = { name: "big", hashKey: "id", attributes: [{ name: "id", type: "S" }], globalSecondaryIndexes: [], localSecondaryIndexes: [] };
    const dynamo = await startDynamo([table], { region: "eu-west-1" });
    const proxy = await startStreamingProxy(dynamo.endpoint, [{ ...table, streamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/big/stream/1", streamViewType: "KEYS_ONLY" }], "eu-west-1");
    const streamed = async () => {
      let count = 0;
      const unsubscribe = await proxy.streams[0].subscribe("TRIM_HORIZON", (_, records) => { count += records.length; });
      await unsubscribe();
      return count;
    };
    try {
      const post = (body: string) => fetch(proxy.endpoint, { method: "POST", headers: { "x-amz-target": "DynamoDB_20120810.PutItem", "content-type": "application/x-amz-json-1.0" }, body });
      const tooLarge = await post(JSON.stringify({ TableName: "big", Item: { id: { S: "x".repeat(16 * 1024 * 1024) } } }));
      expect([tooLarge.status, ((await tooLarge.json()) as { __type: string }).__type]).to.deep.equal([413, "com.amazon.coral.validate#ValidationException"]);
      expect(await streamed(), "nothing written").to.equal(0);
      const client = new DynamoDBClient({ region: "eu-west-1", endpoint: proxy.endpoint, credentials: { accessKeyId: "l", secretAccessKey: "l" } });
      await client.send(new PutItemCommand({ TableName: "big", Item: { id: { S: "small" } } }));
      expect(await streamed(), "a normal write streams").to.equal(1);
    } finally {
      await proxy.stop();
      await dynamo.stop();
    }
  });
});
