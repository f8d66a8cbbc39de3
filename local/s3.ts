/**
 * S3 for the local runtime: the program's buckets in s3rver (npm `@20minutes/s3rver`, the
 * kept fork of the archived `s3rver`: a real S3 REST implementation over the file
 * system), served on loopback. Its object writes (PutObject, POST uploads, CopyObject) and
 * deletes (DeleteObject) become S3 event notifications for the program's
 * BucketNotification Lambda configurations, filtered by event type, prefix and suffix,
 * in S3's event shape, and go to the function's asynchronous invocation. Not emulated:
 * multipart-upload and multi-object-delete notifications (s3rver reports neither),
 * versioning, restore, replication and lifecycle events, and SQS, SNS or EventBridge
 * notification targets.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { S3Event, S3EventRecord } from "aws-lambda";
import { closeServer, listen } from "./loopback";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require("@20minutes/s3rver") as new (options: Record<string, unknown>) => S3rverApp;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DUMMY_ACCOUNT } = require("@20minutes/s3rver/lib/models/account") as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };

interface S3rverApp {
  callback(): (request: unknown, response: unknown) => void;
  configureBuckets(): Promise<unknown>;
  on(event: "event", listener: (event: { Records: Array<{ eventName: string; s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer: string } }; requestParameters: { sourceIPAddress: string } }> }) => void): void;
  logger?: { close(): void; exceptions?: { unhandle(): void } };
}

/** The credentials the local runtime gives functions; s3rver checks every request's signature against the keys it knows. */
const LOCAL_KEY = { accessKeyId: "local", secretAccessKey: "local" };

export interface BucketNotificationModel {
  name: string;
  bucket: string;
  lambdaFunctions: Array<{ id?: string; functionArn: string; events: string[]; filterPrefix?: string; filterSuffix?: string }>;
}

export interface LocalS3Options {
  region: string;
  buckets: string[];
  notifications: BucketNotificationModel[];
  /** Where s3rver keeps the objects; removed on stop. */
  directory: string;
  deliver: (functionArn: string, event: S3Event) => void;
  log?: (line: string) => void;
}

/** Whether an S3 event type (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`) names an event (`ObjectCreated:Put`). */
export function eventTypeMatches(type: string, eventName: string): boolean {
  const wanted = type.replace(/^s3:/, "");
  return wanted.endsWith(":*") ? eventName.startsWith(wanted.slice(0, -1)) : wanted === eventName;
}

export class LocalS3 {
  private server?: Server;
  private app?: S3rverApp;
  endpoint = "";

  constructor(private readonly options: LocalS3Options) {}

  async start(port = 0): Promise<string> {
    DUMMY_ACCOUNT.createKeyPair(LOCAL_KEY.accessKeyId, LOCAL_KEY.secretAccessKey);
    fs.mkdirSync(this.options.directory, { recursive: true });
    this.app = new S3rver({ silent: true, directory: this.options.directory, configureBuckets: this.options.buckets.map((name) => ({ name })) });
    await this.app.configureBuckets();
    this.app.on("event", (event) => {
      for (const record of event.Records) this.notify(record);
    });
    this.server = createServer(this.app.callback());
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.app?.logger?.exceptions?.unhandle();
    this.app?.logger?.close();
    fs.rmSync(this.options.directory, { recursive: true, force: true });
  }

  private notify(emitted: Parameters<Parameters<S3rverApp["on"]>[1]>[0]["Records"][number]): void {
    const bucket = emitted.s3.bucket.name;
    const key = emitted.s3.object.key;
    for (const notification of this.options.notifications.filter((n) => n.bucket === bucket)) {
      for (const [index, target] of notification.lambdaFunctions.entries()) {
        if (!target.events.some((type) => eventTypeMatches(type, emitted.eventName))) continue;
        if (target.filterPrefix && !key.startsWith(target.filterPrefix)) continue;
        if (target.filterSuffix && !key.endsWith(target.filterSuffix)) continue;
        this.options.log?.(`S3   ${bucket}: ${emitted.eventName} ${key} -> ${target.functionArn}`);
        this.options.deliver(target.functionArn, { Records: [this.record(emitted, target.id ?? `${notification.name}-${index}`)] });
      }
    }
  }

  /** S3's event record (S3 user guide, "Event message structure"). */
  private record(emitted: Parameters<Parameters<S3rverApp["on"]>[1]>[0]["Records"][number], configurationId: string): S3EventRecord {
    const { object } = emitted.s3;
    const bucket = emitted.s3.bucket.name;
    return {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: this.options.region,
      eventTime: new Date().toISOString(),
      eventName: emitted.eventName,
      userIdentity: { principalId: "AWS:AIDALOCALDEVELOPER" },
      requestParameters: { sourceIPAddress: emitted.requestParameters.sourceIPAddress },
      responseElements: { "x-amz-request-id": randomBytes(8).toString("hex").toUpperCase(), "x-amz-id-2": randomBytes(32).toString("base64") },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId,
        bucket: { name: bucket, ownerIdentity: { principalId: "LOCALDEVELOPER" }, arn: `arn:aws:s3:::${bucket}` },
        // S3 sends the key URL-encoded, spaces as "+".
        object: {
          key: encodeURIComponent(object.key).replace(/%20/g, "+").replace(/%2F/g, "/"),
          sequencer: object.sequencer,
          ...(object.size !== undefined ? { size: object.size } : {}),
          ...(object.eTag !== undefined ? { eTag: object.eTag } : {}),
        } as S3EventRecord["s3"]["object"],
      },
    };
  }
}
