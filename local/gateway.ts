/**
 * What the local HTTP API (local/http-api.ts) and REST API (local/rest-api.ts) gateways do
 * alike around each request: give it a request id, read its body up to the payload limit
 * (above it: the API's 413), hand it to the API's `respond`, answer an error of the gateway
 * itself with the API's 500, write the response (unless the client has gone; no body for
 * HEAD) with the headers the API adds, and log the request once with its timing.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { readBody } from "./aws-server";
import { closeServer, listen } from "./loopback";

/** One line of the runtime's request log (local/runtime.ts `formatRequest`). */
export interface RequestLog {
  method: string;
  path: string;
  routeKey?: string;
  status: number;
  ms: number;
  functionName?: string;
  cold?: boolean;
  note?: string;
}

/** An API Gateway request id: 16 characters, like `JKJaXmPLvHcESHA=`. */
function newRequestId(): string {
  return randomBytes(10).toString("base64");
}

/** A request as the gateway has read it, for the API's `respond`. */
export interface GatewayRequest {
  request: IncomingMessage;
  method: string;
  /** Path and query as received (`request.url`). */
  url: string;
  /** `url` up to the first `?`. */
  path: string;
  /** `url` after the first `?` ("" without one). */
  query: string;
  body: Buffer;
  requestId: string;
  /** The caller's address (an IPv4 one without its `::ffff:` prefix). */
  sourceIp: string;
  /** The Host header. */
  host: string;
  /** The request's log entry: `respond` adds the route, the function and a note. */
  log: RequestLog;
}

/** What the gateway needs of an API's response; the rest is the API's own (its `headers` reads it). */
export interface GatewayResponse {
  statusCode: number;
  body: Buffer;
}

export interface GatewayOptions<R extends GatewayResponse> {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** The API's answer to a body above `maxBodyBytes`. */
  tooLarge: () => R;
  /** The API's answer when `respond` throws. */
  internalError: () => R;
  /** Everything `respond` decides: routing, authorization, the integration. */
  respond: (request: GatewayRequest) => Promise<R>;
  /** The head written for `result`: its headers with the API's request id headers and Content-Length, in the API's casing. */
  headers: (result: R, requestId: string) => OutgoingHttpHeaders;
  onRequest: (entry: RequestLog) => void;
}

export class LocalGateway<R extends GatewayResponse> {
  private server?: Server;

  constructor(private readonly options: GatewayOptions<R>) {}

  /** Listens on loopback and returns `http://127.0.0.1:<port>`. */
  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 5000;
    return listen(this.server, port);
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    const method = request.method ?? "GET";
    const url = request.url ?? "/";
    const [path, query = ""] = url.split(/\?(.*)/s);
    const log: RequestLog = { method, path, status: 0, ms: 0 };
    let result: R;
    try {
      result = await this.answer({ request, method, url, path, query, requestId, log });
    } catch (error) {
      log.note = `gateway error: ${(error as Error).message}`;
      result = this.options.internalError();
    }
    if (!response.destroyed) {
      response.writeHead(result.statusCode, this.options.headers(result, requestId));
      response.end(method === "HEAD" ? undefined : result.body);
    }
    log.status = result.statusCode;
    log.ms = performance.now() - started;
    this.options.onRequest(log);
  }

  private async answer(received: Omit<GatewayRequest, "body" | "sourceIp" | "host">): Promise<R> {
    const { request, log } = received;
    const { maxBodyBytes } = this.options;
    const body = await readBody(request, maxBodyBytes);
    if (body === undefined) {
      log.note = `payload above ${maxBodyBytes} bytes`;
      return this.options.tooLarge();
    }
    return this.options.respond({
      ...received, body,
      sourceIp: (request.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
      host: request.headers.host ?? "127.0.0.1",
    });
  }
}
