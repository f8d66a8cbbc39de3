/**
 * An AWS service endpoint for the local runtime: its operations are written once, against
 * the input and output shapes of the AWS JSON protocol, and each wire protocol the service
 * speaks is a codec in front of them (local/aws-json.ts, local/aws-query.ts). Only what the
 * local runtime's endpoints need.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** An error the SDKs turn into their named exception (`QueueDoesNotExist`, `ParameterNotFound`, ...). */
export class AwsError extends Error {
  constructor(
    /** The JSON protocol's `__type`, e.g. `com.amazonaws.sqs#QueueDoesNotExist` or `ParameterNotFound`. */
    readonly type: string,
    message: string,
    readonly status = 400,
    /** The Query protocol's `<Code>;<Type>` (SQS also sends it in JSON as `x-amzn-query-error`), when it differs from the type. */
    readonly queryError?: string,
  ) {
    super(message);
    this.name = type.split("#").pop()!;
  }
}

/** An operation: JSON-protocol input in, JSON-protocol output out, whatever the wire protocol. */
export type Operation = (input: Record<string, any>, request: IncomingMessage) => unknown | Promise<unknown>;

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** One wire protocol: how a request names its operation and input, and how answers are written. */
export interface ProtocolCodec {
  /** How a client speaks it, for the message to a request that speaks none. */
  description: string;
  accepts(request: IncomingMessage): boolean;
  decode(request: IncomingMessage, body: string): { operation: string; input: Record<string, unknown> };
  encode(operation: string, output: unknown, requestId: string): Answer;
  encodeError(error: AwsError, requestId: string): Answer;
}

export interface AwsServerOptions {
  /** The service's name in messages, e.g. `SQS`. */
  service: string;
  operations: Record<string, Operation>;
  /** The protocols served; the first one answers requests that speak none of them. */
  codecs: ProtocolCodec[];
  /** Largest request body accepted, in bytes. @default 1 MiB */
  maxBodyBytes?: number;
}

/** The request body, or undefined when it exceeds `maxBytes` (the rest is drained, not kept). */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** An HTTP server answering `operations` in each of `codecs`' protocols; an operation it does not implement gets an error naming it, in the protocol asked. */
export function awsServer(options: AwsServerOptions): Server {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const implemented = Object.keys(options.operations).join(", ");
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    const codec = options.codecs.find((candidate) => candidate.accepts(request));
    const send = (answer: Answer) => {
      if (response.headersSent || response.destroyed) return;
      response.writeHead(answer.status, {
        "content-type": answer.contentType,
        "content-length": String(Buffer.byteLength(answer.body)),
        "x-amzn-requestid": requestId,
        ...answer.headers,
      });
      response.end(answer.body);
    };
    const fail = (error: unknown) => {
      const aws = error instanceof AwsError ? error : new AwsError("InternalFailure", (error as Error)?.message ?? String(error), 500);
      send((codec ?? options.codecs[0]).encodeError(aws, requestId));
    };
    (async () => {
      if (!codec) {
        request.resume();
        throw new AwsError("UnknownOperationException", `The local ${options.service} endpoint speaks ${options.codecs.map((c) => c.description).join(" and ")}; this request speaks none of them.`);
      }
      const body = await readBody(request, maxBodyBytes);
      if (body === undefined) throw new AwsError("RequestTooLarge", `Request body exceeds ${maxBodyBytes} bytes`, 413, "RequestTooLarge;Sender");
      const { operation: name, input } = codec.decode(request, body.toString("utf8"));
      const operation = Object.hasOwn(options.operations, name) ? options.operations[name] : undefined;
      if (!operation) {
        throw new AwsError("UnknownOperationException", `The local ${options.service} endpoint does not implement ${name || "(no operation named)"}; it implements ${implemented}.`, 400, "InvalidAction;Sender");
      }
      send(codec.encode(name, await operation(input, request), requestId));
    })().catch(fail);
  });
}
