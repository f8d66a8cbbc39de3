/**
 * Serving on loopback, for every local endpoint (SQS, SSM, DynamoDB, the HTTP APIs). Binding
 * to 127.0.0.1 keeps other machines out, but not a web page: one that rebinds its own DNS
 * name to 127.0.0.1 can send requests here from the browser, carrying `Host: <its name>`.
 * So a request whose Host is not a loopback name is refused before any handler sees it.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/** `localhost`, `127.0.0.1` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

function refuse(request: IncomingMessage, response: ServerResponse): void {
  const message = `Host ${JSON.stringify(request.headers.host ?? "")} is not a loopback name; the local endpoints answer only localhost, 127.0.0.1 and [::1].`;
  const body = JSON.stringify({ __type: "AccessDeniedException", message });
  // Drain the body, or the client may see a reset instead of the 403.
  request.resume();
  // HTTP/2 (the Kinesis endpoint) has no Connection header; it closes the stream, not the connection.
  response.writeHead(403, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...(request.httpVersionMajor < 2 ? { connection: "close" } : {}) });
  response.end(body);
}

/**
 * Puts the Host check in front of the request handlers `server` has (the one given to
 * createServer, also for servers built elsewhere such as dynalite's).
 */
export function acceptOnlyLoopbackHosts(server: Server): void {
  const handlers = server.listeners("request") as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  if (handlers.length === 0) throw new Error("listen: the server has no request handler yet; create it with its handler first");
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    if (!isLoopbackHost(request.headers.host)) return refuse(request, response);
    for (const handler of handlers) handler.call(server, request, response);
  });
}

/** Listens on 127.0.0.1 (port 0: a free one), for loopback hosts only, and returns `http://127.0.0.1:<port>`. */
export async function listen(server: Server, port = 0): Promise<string> {
  acceptOnlyLoopbackHosts(server);
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
