/**
 * DynamoDB Streams over dynalite, which has none. Clients reach dynalite through a proxy on
 * its own loopback server; for a write to a table with a stream (PutItem, UpdateItem,
 * DeleteItem, BatchWriteItem) the proxy reads the items the write names before and after
 * it (consistent reads, one write at a time) and appends what changed to the table's
 * stream: INSERT, MODIFY or REMOVE, with keys and images as the stream's view type says.
 * dynalite stays the only DynamoDB implementation: a write it refuses (a failed condition,
 * a bad request) changes nothing, so it produces no record, and a write that leaves the item
 * as it was produces none either, as on AWS. Records are kept 24 hours, like the service.
 */
import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { DynamoDBClient, GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { TableModel } from "./app";
import { readBody } from "./aws-server";
import { closeServer, listen } from "./loopback";
import type { StreamRecord, StreamSource } from "./streams";

export type StreamViewType = "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES";

type Item = Record<string, AttributeValue>;

const RETENTION_MS = 24 * 60 * 60 * 1000;
/** DynamoDB's sequence numbers are decimal strings of 21 or more digits. */
const FIRST_SEQUENCE = 10n ** 20n;

/** The stream of one table: a single shard (locally no table grows enough to split one). */
export class TableStream implements StreamSource {
  readonly kind = "dynamodb" as const;
  readonly shardId = `shardId-${String(Date.now()).padStart(20, "0")}-${randomBytes(4).toString("hex")}`;
  private readonly records: StreamRecord[] = [];
  private readonly subscribers = new Set<(shardId: string, records: StreamRecord[]) => void>();
  private next = FIRST_SEQUENCE;

  constructor(readonly table: TableModel & { streamArn: string; streamViewType: StreamViewType }, private readonly region: string) {}

  get arn(): string {
    return this.table.streamArn;
  }

  /** Appends the change from `before` to `after` of one item; nothing when the item did not change. */
  append(keys: Item, before: Item | undefined, after: Item | undefined, now = Date.now()): StreamRecord | undefined {
    if (!before && !after) return undefined;
    if (before && after && sameItem(before, after)) return undefined;
    const view = this.table.streamViewType;
    const images = {
      ...(after && (view === "NEW_IMAGE" || view === "NEW_AND_OLD_IMAGES") ? { NewImage: after } : {}),
      ...(before && (view === "OLD_IMAGE" || view === "NEW_AND_OLD_IMAGES") ? { OldImage: before } : {}),
    };
    const sequenceNumber = String(this.next++);
    const event = {
      eventID: randomBytes(16).toString("hex"),
      eventName: !before ? "INSERT" : !after ? "REMOVE" : "MODIFY",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: this.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(now / 1000),
        Keys: keys,
        ...images,
        SequenceNumber: sequenceNumber,
        SizeBytes: Buffer.byteLength(JSON.stringify({ keys, ...images })),
        StreamViewType: view,
      },
      eventSourceARN: this.arn,
    };
    const record: StreamRecord = { sequenceNumber, partitionKey: JSON.stringify(keys[this.table.hashKey]), arrivalMs: now, event, filterView: event };
    while (this.records.length > 0 && this.records[0].arrivalMs < now - RETENTION_MS) this.records.shift();
    this.records.push(record);
    for (const deliver of this.subscribers) deliver(this.shardId, [record]);
    return record;
  }

  async subscribe(startingPosition: "LATEST" | "TRIM_HORIZON", deliver: (shardId: string, records: StreamRecord[]) => void): Promise<() => Promise<void>> {
    if (startingPosition === "TRIM_HORIZON" && this.records.length > 0) deliver(this.shardId, [...this.records]);
    this.subscribers.add(deliver);
    return async () => void this.subscribers.delete(deliver);
  }
}

/** Attribute values compared regardless of key order (sets as sets). */
function sameItem(a: Item, b: Item): boolean {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
      const entries = Object.entries(value).map(([k, v]) => [k, k === "SS" || k === "NS" || k === "BS" ? [...(v as unknown[])].map(String).sort() : canonical(v)]);
      return Object.fromEntries(entries.sort(([x], [y]) => String(x).localeCompare(String(y))));
    }
    return value;
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** The items a write request names, per table: `[table, keys]` (one entry per item). */
function writtenKeys(operation: string, body: any, keyOf: (table: string, item: Item) => Item | undefined): Array<[string, Item]> {
  const key = (table: string, item: Item | undefined): Array<[string, Item]> => {
    const keys = item && keyOf(table, item);
    return keys ? [[table, keys]] : [];
  };
  switch (operation) {
    case "PutItem":
      return key(body.TableName, body.Item);
    case "UpdateItem":
    case "DeleteItem":
      return key(body.TableName, body.Key);
    case "BatchWriteItem":
      return Object.entries((body.RequestItems ?? {}) as Record<string, any[]>).flatMap(([table, requests]) =>
        (Array.isArray(requests) ? requests : []).flatMap((r) => key(table, r?.PutRequest?.Item ?? r?.DeleteRequest?.Key)));
    default:
      return [];
  }
}

export interface StreamingDynamo {
  /** The endpoint clients use (the proxy). */
  endpoint: string;
  streams: TableStream[];
  stop(): Promise<void>;
}

/** DynamoDB's largest request (BatchWriteItem) and answer (BatchGetItem), in bytes. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Sends a request on to dynalite and returns its whole answer. */
function forward(target: URL, request: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (response) => {
      readBody(response, MAX_MESSAGE_BYTES).then((data) => data
        ? resolve({ status: response.statusCode ?? 500, headers: response.headers, body: data })
        : reject(new Error(`dynalite answered more than ${MAX_MESSAGE_BYTES} bytes`)), reject);
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/**
 * Puts the streaming proxy in front of dynalite at `dynaliteEndpoint` for the tables that
 * have a stream; returns the endpoint clients should use.
 */
export async function startStreamingProxy(dynaliteEndpoint: string, tables: Array<TableModel & { streamArn: string; streamViewType: StreamViewType }>, region: string, port = 0): Promise<StreamingDynamo> {
  const target = new URL(dynaliteEndpoint);
  const streams = new Map(tables.map((t) => [t.name, new TableStream(t, region)]));
  const reader = new DynamoDBClient({ region, endpoint: dynaliteEndpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const keyOf = (table: string, item: Item): Item | undefined => {
    const stream = streams.get(table);
    if (!stream) return undefined;
    const names = [stream.table.hashKey, ...(stream.table.rangeKey ? [stream.table.rangeKey] : [])];
    if (!names.every((name) => item[name] !== undefined)) return undefined;
    return Object.fromEntries(names.map((name) => [name, item[name]]));
  };
  const read = async (table: string, keys: Item) => (await reader.send(new GetItemCommand({ TableName: table, Key: keys, ConsistentRead: true }))).Item;
  // One streamed write at a time: the images read around a write are then that write's.
  let writes = Promise.resolve();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request, MAX_MESSAGE_BYTES);
    if (!body) {
      response.writeHead(413, { "content-type": "application/x-amz-json-1.0" });
      return response.end(JSON.stringify({ __type: "com.amazon.coral.validate#ValidationException", message: `Request size exceeds ${MAX_MESSAGE_BYTES} bytes` }));
    }
    const operation = String(request.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
    let parsed: unknown;
    try {
      parsed = operation ? JSON.parse(body.toString("utf8") || "{}") : undefined;
    } catch {
      parsed = undefined; // dynalite answers the malformed request itself
    }
    const items = parsed === undefined ? [] : writtenKeys(operation, parsed, keyOf);
    const send = (answer: Awaited<ReturnType<typeof forward>>) => {
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    };
    if (items.length === 0) return send(await forward(target, request, body));
    const done = writes.then(async () => {
      const before = await Promise.all(items.map(([table, keys]) => read(table, keys)));
      const answer = await forward(target, request, body);
      if (answer.status === 200) {
        const after = await Promise.all(items.map(([table, keys]) => read(table, keys)));
        items.forEach(([table, keys], i) => streams.get(table)!.append(keys, before[i], after[i]));
      }
      return answer;
    });
    writes = done.then(() => undefined, () => undefined);
    send(await done);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (response.headersSent) return response.destroy();
      const message = JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: `local DynamoDB streams proxy: ${error.message}` });
      response.writeHead(500, { "content-type": "application/x-amz-json-1.0" }).end(message);
    });
  });
  const endpoint = await listen(server, port);
  return {
    endpoint,
    streams: [...streams.values()],
    stop: async () => {
      reader.destroy();
      await closeServer(server);
    },
  };
}
