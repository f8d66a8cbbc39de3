/**
 * Kinesis for the local runtime: kinesalite (a Kinesis implementation by dynalite's
 * author), in memory, on loopback behind the Host check, with the program's streams
 * created from their recorded definitions. Each stream is a StreamSource for the stream
 * event source mappings: a reader per shard polls GetRecords, as Lambda's standard
 * iterator does (AWS polls once a second; locally four times, for quicker feedback).
 */
import type { Server } from "node:http";
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import kinesalite from "kinesalite";
import { MOCK_ACCOUNT_ID } from "../tools/mock-engine";
import type { KinesisStreamModel } from "./app";
import { closeServer, listen } from "./loopback";
import type { StreamRecord, StreamSource } from "./streams";

/** How often a shard reader asks for new records, in ms. */
const POLL_INTERVAL_MS = 250;

export interface LocalKinesis {
  endpoint: string;
  streams: KinesisStream[];
  stop(): Promise<void>;
}

export class KinesisStream implements StreamSource {
  readonly kind = "kinesis" as const;

  constructor(readonly model: KinesisStreamModel, private readonly client: KinesisClient, private readonly region: string) {}

  get arn(): string {
    return this.model.arn;
  }

  async subscribe(startingPosition: "LATEST" | "TRIM_HORIZON", deliver: (shardId: string, records: StreamRecord[]) => void): Promise<() => Promise<void>> {
    const { Shards = [] } = await this.client.send(new ListShardsCommand({ StreamName: this.model.name }));
    let stopped = false;
    let wake: () => void = () => undefined;
    const pause = () => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_INTERVAL_MS);
      wake = () => { clearTimeout(timer); resolve(); };
    });
    const readers = await Promise.all(Shards.map(async ({ ShardId }) => {
      let { ShardIterator: iterator } = await this.client.send(new GetShardIteratorCommand({ StreamName: this.model.name, ShardId, ShardIteratorType: startingPosition }));
      return (async () => {
        while (!stopped && iterator) {
          const { Records = [], NextShardIterator } = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          iterator = NextShardIterator;
          if (Records.length > 0) deliver(ShardId!, Records.map((r) => this.toRecord(ShardId!, r)));
          else await pause();
        }
      })().catch((error: Error) => {
        if (!stopped) throw error;
      });
    }));
    return async () => {
      stopped = true;
      wake();
      await Promise.allSettled(readers);
    };
  }

  /** Lambda's Kinesis event record, and what filter patterns see (the data as JSON when it is JSON). */
  private toRecord(shardId: string, record: { SequenceNumber?: string; PartitionKey?: string; Data?: Uint8Array; ApproximateArrivalTimestamp?: Date }): StreamRecord {
    const arrivalMs = record.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
    const data = Buffer.from(record.Data ?? new Uint8Array()).toString("base64");
    const kinesis = { kinesisSchemaVersion: "1.0", partitionKey: record.PartitionKey!, sequenceNumber: record.SequenceNumber!, data, approximateArrivalTimestamp: arrivalMs / 1000 };
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(data, "base64").toString("utf8"));
    } catch {
      parsed = undefined; // patterns on `data` then match nothing, as on AWS
    }
    return {
      sequenceNumber: kinesis.sequenceNumber,
      partitionKey: kinesis.partitionKey,
      arrivalMs,
      event: {
        kinesis,
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shardId}:${kinesis.sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/local`,
        awsRegion: this.region,
        eventSourceARN: this.arn,
      },
      filterView: { ...kinesis, data: parsed },
    };
  }
}

export async function startKinesis(streams: KinesisStreamModel[], options: { region: string; port?: number }): Promise<LocalKinesis> {
  const server: Server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: Math.max(10, streams.reduce((n, s) => n + s.shardCount, 0)) });
  const endpoint = await listen(server, options.port ?? 0);
  const client = new KinesisClient({ region: options.region, endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    for (const stream of streams) {
      await client.send(new CreateStreamCommand({ StreamName: stream.name, ShardCount: stream.shardCount }));
      for (let attempt = 0; ; attempt++) {
        const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: stream.name }));
        if (StreamDescription?.StreamStatus === "ACTIVE") break;
        if (attempt > 200) throw new Error(`Kinesis stream ${stream.name} is still ${StreamDescription?.StreamStatus}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } catch (error) {
    client.destroy();
    await closeServer(server);
    throw error;
  }
  return {
    endpoint,
    streams: streams.map((s) => new KinesisStream(s, client, options.region)),
    stop: async () => {
      client.destroy();
      await closeServer(server);
    },
  };
}
