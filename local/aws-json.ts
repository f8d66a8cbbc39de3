/**
 * The AWS JSON protocol (1.0 for SQS, 1.1 for SSM) as the SDK v3 clients speak it: POST with
 * `X-Amz-Target: <Service>.<Operation>`, a JSON body, a JSON answer; errors are 400s whose
 * body names the error in `__type`. Only what the local runtime's endpoints need.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An error the SDK turns into its named exception (`QueueDoesNotExist`, `ParameterNotFound`, ...). */
export class AwsError extends Error {
  constructor(
    /** The `__type`, e.g. `com.amazonaws.sqs#QueueDoesNotExist` or `ParameterNotFound`. */
    readonly type: string,
    message: string,
    readonly status = 400,
    /** SQS's legacy query error code (`x-amzn-query-error`), when there is one. */
    readonly queryError?: string,
  ) {
    super(message);
    this.name = type.split("#").pop()!;
  }
}

export type Operation = (input: Record<string, any>, request: IncomingMessage) => unknown | Promise<unknown>;

export interface JsonProtocolOptions {
  /** `AmazonSQS` or `AmazonSSM`: the prefix of X-Amz-Target. */
  service: string;
  /** `application/x-amz-json-1.0` or `-1.1`. */
  contentType: string;
  operations: Record<string, Operation>;
  /** The `__type` of a validation error for this service. */
  validationErrorType: string;
  /** Largest request body accepted, in bytes. */
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

/** An HTTP server answering `operations` in the AWS JSON protocol. Unknown operations get a 400 naming them. */
export function jsonProtocolServer(options: JsonProtocolOptions): Server {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const payload = JSON.stringify(body ?? {});
      if (response.headersSent || response.destroyed) return;
      response.writeHead(status, {
        "content-type": options.contentType,
        "content-length": String(Buffer.byteLength(payload)),
        "x-amzn-requestid": randomUUID(),
        ...headers,
      });
      response.end(payload);
    };
    const fail = (error: unknown) => {
      const aws = error instanceof AwsError ? error : new AwsError("InternalFailure", (error as Error)?.message ?? String(error), 500);
      send(aws.status, { __type: aws.type, message: aws.message }, aws.queryError ? { "x-amzn-query-error": aws.queryError } : {});
    };
    (async () => {
      if (request.method !== "POST") throw new AwsError("UnknownOperationException", `Use POST with X-Amz-Target; got ${request.method}`);
      const target = String(request.headers["x-amz-target"] ?? "");
      const [service, operationName] = target.split(".");
      const operation = service === options.service ? options.operations[operationName] : undefined;
      if (!operation) {
        throw new AwsError("UnknownOperationException", `The local ${options.service} endpoint does not implement ${target || "(no X-Amz-Target)"}; it implements ${Object.keys(options.operations).join(", ")}.`);
      }
      const body = await readBody(request, maxBodyBytes);
      if (body === undefined) throw new AwsError("RequestTooLarge", `Request body exceeds ${maxBodyBytes} bytes`, 413);
      const text = body.toString("utf8");
      let input: unknown;
      try {
        input = text === "" ? {} : JSON.parse(text);
      } catch (error) {
        throw new AwsError(options.validationErrorType, `Request body is not JSON: ${(error as Error).message}`);
      }
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new AwsError(options.validationErrorType, "Request body must be a JSON object");
      }
      send(200, await operation(input as Record<string, any>, request));
    })().catch(fail);
  });
}

/** Listens on 127.0.0.1 (port 0: a free one) and returns `http://127.0.0.1:<port>`. */
export async function listen(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stops a server and drops its open connections (keep-alive, long polls). */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
