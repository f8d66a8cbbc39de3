/**
 * The stream part of the local runtime: the DynamoDB Streams proxy in front of dynalite
 * (when a table has a stream), kinesalite for the program's Kinesis streams, and a
 * StreamPoller per stream event source mapping, whose discarded batches go to the
 * mapping's on-failure destination (an SQS queue or SNS topic of the program).
 */
import { functionForArn, type AppModel, type StreamMappingModel } from "./app";
import { startStreamingProxy, type StreamViewType } from "./dynamodb-streams";
import type { LocalFunction } from "./functions";
import { startKinesis } from "./kinesis";
import type { LocalSns } from "./sns";
import type { LocalSqs } from "./sqs";
import { recordFilter } from "./stream-filters";
import { StreamPoller, streamName, type StreamBatchLog, type StreamSource } from "./streams";

export interface StreamServices {
  /** What clients use for DynamoDB: the streams proxy, or dynalite itself when no table has a stream. */
  dynamodbEndpoint: string;
  /** kinesalite's endpoint, when the program has Kinesis streams. */
  kinesisEndpoint?: string;
  sources: StreamSource[];
  stop(): Promise<void>;
}

export async function startStreamServices(app: AppModel, dynaliteEndpoint: string, region: string): Promise<StreamServices> {
  const streamed = app.tables.flatMap((t) => t.stream ? [{ ...t, streamArn: t.stream.arn, streamViewType: t.stream.viewType as StreamViewType }] : []);
  const proxy = streamed.length > 0 ? await startStreamingProxy(dynaliteEndpoint, streamed, region) : undefined;
  const kinesis = app.kinesisStreams.length > 0 ? await startKinesis(app.kinesisStreams, { region }).catch(async (error) => {
    await proxy?.stop();
    throw error;
  }) : undefined;
  return {
    dynamodbEndpoint: proxy?.endpoint ?? dynaliteEndpoint,
    kinesisEndpoint: kinesis?.endpoint,
    sources: [...proxy?.streams ?? [], ...kinesis?.streams ?? []],
    stop: async () => {
      await kinesis?.stop();
      await proxy?.stop();
    },
  };
}

/** The queue a mapping's discarded batches go to; `dlq list` shows it with the stream it serves. */
function onFailureQueue(app: AppModel, mapping: StreamMappingModel) {
  return app.queues.find((q) => q.arn === mapping.onFailureArn);
}

/** The stream mappings (`<stream> -> <function>`) whose failures each queue receives, for `dlq`. */
export function streamDeadLetterSources(app: AppModel): Array<{ queueArn: string; source: string }> {
  return app.streamMappings.flatMap((mapping) => {
    const queue = onFailureQueue(app, mapping);
    return queue ? [{ queueArn: queue.arn, source: `${streamName(mapping.streamArn)} -> ${functionForArn(app, mapping.functionArn).name}` }] : [];
  });
}

/** The banner's line for a stream mapping. */
export function describeStreamMapping(app: AppModel, mapping: StreamMappingModel): string {
  const queue = onFailureQueue(app, mapping);
  const limit = (value: number, unit: string) => value < 0 ? "unlimited" : `${value}${unit}`;
  const from = mapping.startingPosition === "AT_TIMESTAMP" ? `${new Date(mapping.startingPositionTimestampMs ?? 0).toISOString()}` : mapping.startingPosition;
  return `Stream ${streamName(mapping.streamArn)} -> ${functionForArn(app, mapping.functionArn).name} (from ${from}, batch ${mapping.batchSize}, window ${mapping.batchWindowSeconds} s, `
    + `parallelization ${mapping.parallelizationFactor}, bisect ${mapping.bisectOnError ? "on" : "off"}, retries ${limit(mapping.maxRetries, "")}, max age ${limit(mapping.maxRecordAgeSeconds, " s")}`
    + `${mapping.reportBatchItemFailures ? ", partial batch responses" : ""}${mapping.filterPatterns.length ? `, ${mapping.filterPatterns.length} filter(s)` : ""})`
    + (queue ? `; DLQ ${queue.name}` : mapping.onFailureArn ? `; on failure ${mapping.onFailureArn}` : "; no on-failure destination: failed batches are dropped");
}

function formatStreamBatch(entry: StreamBatchLog): string {
  const { outcome } = entry;
  const result = outcome.kind === "success" ? "ok"
    : outcome.kind === "partial" ? `${outcome.fromIndex} ok, retrying from record ${outcome.fromIndex + 1}`
    : `failed [${outcome.note}]`;
  return `STREAM ${streamName(entry.source)} ${entry.shardId} -> ${entry.functionName} batch of ${entry.size}: ${result} ${Math.round(entry.ms)} ms ${entry.cold ? "cold" : "warm"}`;
}

/** Where discarded batches can go: the program's queues, and its topics when the local SNS runs. */
export interface FailureDestinations {
  sqs: LocalSqs;
  sns?: { local: LocalSns; topics: Array<{ name: string; arn: string }> };
}

function destinationOf(arn: string | undefined, destinations: FailureDestinations) {
  if (!arn) return undefined;
  const queue = destinations.sqs.byArn(arn);
  if (queue) return { describe: queue.name, send: async (body: string) => void destinations.sqs.send(queue, body) };
  const topic = destinations.sns?.topics.find((t) => t.arn === arn);
  const sns = destinations.sns?.local;
  if (topic && sns) return { describe: `topic ${topic.name}`, send: async (body: string) => void sns.publish({ TopicArn: arn, Message: body }) };
  return undefined;
}

/** Starts a poller per stream mapping; returns the stopper (call it before the functions stop). */
export async function startStreamPollers(app: AppModel, services: StreamServices, functions: Map<string, LocalFunction>, destinations: FailureDestinations, log: (line: string) => void): Promise<() => Promise<void>> {
  const pollers: StreamPoller[] = [];
  const stopAll = () => Promise.all(pollers.map((p) => p.stop())).then(() => undefined);
  try {
    for (const mapping of app.streamMappings) {
      const source = services.sources.find((s) => s.arn === mapping.streamArn);
      // A stream of another stack or account has nothing local to read.
      if (!source) {
        log(`Note: mapping ${mapping.name} reads ${mapping.streamArn}, which is not a table stream or Kinesis stream of the program; it does not run locally.`);
        continue;
      }
      const fn = functions.get(functionForArn(app, mapping.functionArn).name)!;
      const destination = destinationOf(mapping.onFailureArn, destinations);
      if (mapping.onFailureArn && !destination) log(`Note: mapping ${mapping.name}'s on-failure destination ${mapping.onFailureArn} is not a queue or topic of the program; discarded batches are only logged.`);
      const poller = new StreamPoller(source, { ...mapping, filter: recordFilter(mapping.filterPatterns, mapping.name) },
        { functionName: fn.config.name, functionArn: fn.config.arn, invoke: (event) => fn.invoke(event) },
        destination,
        { batch: (entry) => log(formatStreamBatch(entry)), line: log });
      await poller.start();
      pollers.push(poller);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
