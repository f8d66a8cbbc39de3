/**
 * Kinesis for the local runtime: kinesalite (a Kinesis implementation by dynalite's
 * author), in memory, on loopback behind the Host check, with the program's streams
 * created from their recorded definitions. kinesalite speaks HTTP/1.1, while the SDK v3
 * Kinesis client speaks HTTP/2 (h2c on an http:// endpoint), so one port serves both: a
 * connection that opens with HTTP/2's preface is piped to an HTTP/2 server running the same
 * handler, any other is handed to kinesalite's own server. Each stream is a StreamSource for the stream
 * event source mappings: a reader per shard polls GetRecords, as Lambda's standard
 * iterator does (AWS polls once a second; locally four times, for quicker feedback).
 */
import type { RequestListener, Server } from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import kinesalite from "kinesalite";
import { MOCK_ACCOUNT_ID } from "../tools/mock-engine";
import type { KinesisStreamModel } from "./app";
import { acceptOnlyLoopbackHosts, closeServer } from "./loopback";
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

  async subscribe(startingPosition: "LATEST" | "TRIM_HORIZON", deliver: (shardId: string, records: StreamRecord[]) => void, onError: (message: string) => void = () => undefined): Promise<() => Promise<void>> {
    const { Shards = [] } = await this.client.send(new ListShardsCommand({ StreamName: this.model.name }));
    let stopped = false;
    const waking = new Set<() => void>();
    const pause = () => new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        waking.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, POLL_INTERVAL_MS);
      waking.add(wake);
    });
    const iterators = await Promise.all(Shards.map(async ({ ShardId }) =>
      (await this.client.send(new GetShardIteratorCommand({ StreamName: this.model.name, ShardId, ShardIteratorType: startingPosition }))).ShardIterator));
    const readers = Shards.map(({ ShardId }, index) => {
      let iterator = iterators[index];
      return (async () => {
        while (!stopped && iterator) {
          try {
            const { Records = [], NextShardIterator } = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
            iterator = NextShardIterator;
            if (Records.length > 0) deliver(ShardId!, Records.map((r) => this.toRecord(ShardId!, r)));
            else await pause();
          } catch (error) {
            // The same iterator is asked again after a pause (kinesalite keeps them five minutes).
            if (!stopped) onError(`${ShardId}: ${(error as Error).message}`);
            await pause();
          }
        }
      })();
    });
    return async () => {
      stopped = true;
      for (const wake of waking) wake();
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

const HTTP2_PREFACE = "PRI * HTTP/2.0";

const listenOnLoopback = (server: net.Server, port: number) => new Promise<number>((resolve, reject) => {
  server.once("error", reject).listen(port, "127.0.0.1", () => {
    server.off("error", reject);
    resolve((server.address() as net.AddressInfo).port);
  });
});

/** Serves `http1` (its handlers behind the Host check) over HTTP/1.1 and HTTP/2 on one loopback port. */
async function serveBothProtocols(http1: Server, port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  acceptOnlyLoopbackHosts(http1);
  const checked = http1.listeners("request")[0] as RequestListener;
  const sessions = new Set<http2.ServerHttp2Session>();
  const http2Server = http2.createServer((request, response) => {
    // HTTP/2 names the host in :authority; the check reads Host.
    request.headers.host ??= request.authority;
    checked.call(http1, request as any, response as any);
  }).on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  const http2Port = await listenOnLoopback(http2Server, 0);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket)).on("error", () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.pause();
      if (first.subarray(0, HTTP2_PREFACE.length).toString("latin1") === HTTP2_PREFACE) {
        const inner = net.connect(http2Port, "127.0.0.1").on("error", () => socket.destroy());
        socket.on("close", () => inner.destroy());
        inner.write(first);
        socket.pipe(inner).pipe(socket);
      } else {
        socket.unshift(first);
        http1.emit("connection", socket);
      }
      socket.resume();
    });
  });
  const frontPort = await listenOnLoopback(front, port);
  return {
    endpoint: `http://127.0.0.1:${frontPort}`,
    stop: async () => {
      const closed = Promise.all([front, http2Server].map((server) => new Promise((resolve) => server.close(resolve))));
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      http1.closeAllConnections();
      await closed;
      await closeServer(http1);
    },
  };
}

export async function startKinesis(streams: KinesisStreamModel[], options: { region: string; port?: number }): Promise<LocalKinesis> {
  const server: Server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: Math.max(10, streams.reduce((n, s) => n + s.shardCount, 0)) });
  const { endpoint, stop } = await serveBothProtocols(server, options.port ?? 0);
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
    await stop();
    throw error;
  }
  return {
    endpoint,
    streams: streams.map((s) => new KinesisStream(s, client, options.region)),
    stop: async () => {
      client.destroy();
      await stop();
    },
  };
}
