/**
 * API Gateway HTTP API semantics for the local runtime: route selection (`{param}`,
 * `{proxy+}`, `ANY`, `$default`, most specific first), payload format 2.0 events, the 2.0
 * response rules, JWT, Lambda (local/lambda-authorizer.ts) and IAM (local/sigv4.ts) authorization, and the gateway's own answers (404 for no route, 401 /
 * 403 from the authorizer, 500 for a function error or malformed response, 503 when the
 * function times out, 413 above the 10 MB payload limit).
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { InvokeResult } from "./functions";
import { LocalGateway, type GatewayRequest, type RequestLog } from "./gateway";
import type { JwtAuthorizer } from "./jwt";
import type { LocalLambdaAuthorizer } from "./lambda-authorizer";
import type { IamIdentity, SigV4Verifier } from "./sigv4";

/** HTTP APIs accept payloads up to 10 MB. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface RouteDefinition {
  routeKey: string;
  /** Which function serves the route (the runtime's key). */
  functionName: string;
  auth: "jwt" | "lambda" | "iam" | "none";
  scopes: string[];
  /** The JWT authorizer of a `jwt` route. */
  authorizer?: JwtAuthorizer;
  /** The Lambda authorizer of a `lambda` route. */
  lambdaAuthorizer?: LocalLambdaAuthorizer;
}

/** What route selection needs of a route: its `METHOD /path` key (HTTP and REST APIs share the rules). */
export interface RouteKeyed {
  routeKey: string;
}

type CompiledRoute<R extends RouteKeyed> = R & {
  method: string;
  segments: string[];
  /** Its specificity (see {@link score}), computed once. */
  score: number[];
};

export interface RouteMatch<R extends RouteKeyed = RouteDefinition> {
  route: R;
  pathParameters?: Record<string, string>;
}

function compile<R extends RouteKeyed>(route: R): CompiledRoute<R> {
  const [method, path] = route.routeKey === "$default" ? ["ANY", "/"] : route.routeKey.split(" ");
  const segments = path === "/" ? [] : path.slice(1).split("/");
  return { ...route, method, segments, score: score(method, segments) };
}

/** Specificity of a matched route: literal segments beat `{param}`, which beats `{proxy+}`; a method beats ANY. */
function score(method: string, segments: string[]): number[] {
  return [...segments.map((s) => (s.endsWith("+}") ? 0 : s.startsWith("{") ? 1 : 2)), method === "ANY" ? 0 : 1];
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Selects the route for a request as HTTP APIs do (and REST APIs, which have no `$default`): the most specific match, else `$default`. */
export class RouteTable<R extends RouteKeyed = RouteDefinition> {
  private readonly routes: CompiledRoute<R>[];
  private readonly fallback?: CompiledRoute<R>;

  constructor(routes: R[]) {
    const compiled = routes.map(compile);
    this.routes = compiled.filter((r) => r.routeKey !== "$default");
    this.fallback = compiled.find((r) => r.routeKey === "$default");
  }

  match(method: string, rawPath: string): RouteMatch<R> | undefined {
    const parts = rawPath === "/" ? [] : rawPath.replace(/^\//, "").split("/");
    let best: { route: CompiledRoute<R>; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      if (route.method !== "ANY" && route.method !== method) continue;
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (!best || compareScores(route.score, best.route.score) > 0) best = { route, params };
    }
    if (best) return { route: best.route, pathParameters: Object.keys(best.params).length ? best.params : undefined };
    return this.fallback ? { route: this.fallback } : undefined;
  }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.endsWith("+}")) {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.join("/") === "") return undefined;
      params[segment.slice(1, -2)] = decode(rest.join("/"));
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === "") return undefined;
    if (segment.startsWith("{")) params[segment.slice(1, -1)] = decode(part);
    else if (segment !== part) return undefined;
  }
  return parts.length === segments.length ? params : undefined;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|[a-z0-9.+-]+\+(json|xml))\b)/i;

/** `$context.requestTime`: `09/Apr/2015:12:34:56 +0000`. */
export function requestTime(date: Date): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

export interface EventInput {
  method: string;
  /** Path and query as received, e.g. `/orders?customerId=c1`. */
  url: string;
  /** Header name/value pairs as received (Node's rawHeaders). */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  match: RouteMatch;
  requestId: string;
  apiId: string;
  accountId: string;
  host: string;
  jwt?: { claims: Record<string, unknown>; scopes: string[] };
  /** The caller of an `iam` route, verified. */
  iam?: IamIdentity;
  now?: Date;
}

/** The payload format 2.0 event for a request. */
export function toEvent(input: EventInput): APIGatewayProxyEventV2 {
  const now = input.now ?? new Date();
  const queryAt = input.url.indexOf("?");
  const rawPath = queryAt === -1 ? input.url : input.url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? "" : input.url.slice(queryAt + 1);

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < input.rawHeaders.length; i += 2) {
    const name = input.rawHeaders[i].toLowerCase();
    const value = input.rawHeaders[i + 1];
    if (name === "cookie") cookies.push(...value.split(";").map((c) => c.trim()).filter(Boolean));
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString !== "") {
    queryStringParameters = {};
    for (const [key, value] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[key] = key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
    }
  }

  const contentType = headers["content-type"] ?? "";
  const hasBody = input.body.length > 0;
  const isText = hasBody && TEXT_TYPES.test(contentType);
  const domainName = input.host;
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: input.match.route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: input.accountId,
      apiId: input.apiId,
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: { method: input.method, path: rawPath, protocol: "HTTP/1.1", sourceIp: input.sourceIp, userAgent: headers["user-agent"] ?? "" },
      requestId: input.requestId,
      routeKey: input.match.route.routeKey,
      stage: "$default",
      time: requestTime(now),
      timeEpoch: now.getTime(),
      ...(input.jwt ? { authorizer: { jwt: { claims: stringClaims(input.jwt.claims), scopes: input.jwt.scopes } } } : {}),
      ...(input.iam ? { authorizer: { iam: iamAuthorizer(input.iam) } } : {}),
    } as APIGatewayProxyEventV2["requestContext"],
    ...(hasBody ? { body: isText ? input.body.toString("utf8") : input.body.toString("base64") } : {}),
    ...(input.match.pathParameters ? { pathParameters: input.match.pathParameters } : {}),
    isBase64Encoded: hasBody && !isText,
  };
  return event;
}

/** `requestContext.authorizer.iam` as payload 2.0 writes it (no Cognito identity for access keys; no organization locally). */
function iamAuthorizer(identity: IamIdentity): Record<string, string | null> {
  return { accessKey: identity.accessKey, accountId: identity.accountId, callerId: identity.userId, cognitoIdentity: null, principalOrgId: null, userArn: identity.userArn, userId: identity.userId };
}

/** API Gateway passes JWT claims as strings (arrays as `[a b]`). */
export function stringClaims(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(" ")}]` : typeof v === "string" ? v : JSON.stringify(v)]));
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** Thrown for a function result the gateway cannot turn into a response (it answers 500). */
export class MalformedResponseError extends Error {}

/**
 * The HTTP response for a function's result, by the 2.0 rules: an object with `statusCode`
 * is a structured response (headers, cookies, body, isBase64Encoded); anything else is the
 * body of a 200 `application/json` response (a string as it is, other values as JSON).
 */
export function toHttpResponse(payload: unknown): HttpResponse {
  if (typeof payload === "object" && payload !== null && !Array.isArray(payload) && "statusCode" in payload) {
    const result = payload as Record<string, unknown>;
    const statusCode = result.statusCode;
    if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      throw new MalformedResponseError(`statusCode ${JSON.stringify(statusCode)} is not an HTTP status`);
    }
    const headers: Record<string, string> = {};
    if (result.headers !== undefined && result.headers !== null) {
      if (typeof result.headers !== "object" || Array.isArray(result.headers)) throw new MalformedResponseError("headers is not an object");
      for (const [name, value] of Object.entries(result.headers)) {
        if (!["string", "number", "boolean"].includes(typeof value)) throw new MalformedResponseError(`header ${name} is not a string`);
        headers[name.toLowerCase()] = String(value);
      }
    }
    const cookies = result.cookies ?? [];
    if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== "string")) throw new MalformedResponseError("cookies is not an array of strings");
    const body = result.body;
    if (body !== undefined && body !== null && typeof body !== "string") throw new MalformedResponseError(`body is ${typeof body}, not a string`);
    const text = (body as string | undefined) ?? "";
    return { statusCode, headers, cookies: cookies as string[], body: result.isBase64Encoded === true ? Buffer.from(text, "base64") : Buffer.from(text, "utf8") };
  }
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  return { statusCode: 200, headers: { "content-type": "application/json" }, cookies: [], body: Buffer.from(text, "utf8") };
}

export type Invoker = (functionName: string, event: APIGatewayProxyEventV2, requestId: string) => Promise<InvokeResult>;

export interface HttpApiOptions {
  routes: RouteDefinition[];
  invoke: Invoker;
  apiId: string;
  accountId: string;
  /** Verifies the signatures of `iam` routes. */
  sigv4: SigV4Verifier;
  onRequest: (entry: RequestLog) => void;
}

function gatewayResponse(status: number, message: string, extra: Record<string, string> = {}): HttpResponse {
  return { statusCode: status, headers: { "content-type": "application/json", ...extra }, cookies: [], body: Buffer.from(JSON.stringify({ message })) };
}

export class LocalHttpApi {
  private readonly gateway: LocalGateway<HttpResponse>;
  readonly table: RouteTable;
  url = "";

  constructor(private readonly options: HttpApiOptions) {
    this.table = new RouteTable(options.routes);
    this.gateway = new LocalGateway({
      maxBodyBytes: MAX_PAYLOAD_BYTES,
      tooLarge: () => gatewayResponse(413, "Request Entity Too Large"),
      internalError: () => gatewayResponse(500, "Internal Server Error"),
      respond: (request) => this.respond(request),
      headers: (result, requestId) => ({
        ...result.headers, "apigw-requestid": requestId, "content-length": String(result.body.length),
        ...(result.cookies.length > 0 ? { "set-cookie": result.cookies } : {}),
      }),
      onRequest: options.onRequest,
    });
  }

  async start(port = 0): Promise<string> {
    this.url = await this.gateway.start(port);
    return this.url;
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
  }

  private async respond({ request, method, url, path, body, requestId, sourceIp, host, log }: GatewayRequest): Promise<HttpResponse> {
    const match = this.table.match(method, path);
    if (!match) return gatewayResponse(404, "Not Found");
    const { route } = match;
    log.routeKey = route.routeKey;

    let jwt: EventInput["jwt"];
    let iam: IamIdentity | undefined;
    if (route.auth === "jwt") {
      const verdict = route.authorizer
        ? await route.authorizer.authorize(request.headers.authorization, route.scopes)
        : { ok: false as const, status: 401 as const, reason: "route has no authorizer" };
      if (!verdict.ok) {
        log.note = verdict.reason;
        return verdict.status === 401 ? gatewayResponse(401, "Unauthorized", { "www-authenticate": "Bearer" }) : gatewayResponse(403, "Forbidden");
      }
      jwt = { claims: verdict.claims as Record<string, unknown>, scopes: verdict.scopes };
    } else if (route.auth === "iam") {
      const verdict = await this.options.sigv4.verify({ method, url, rawHeaders: request.rawHeaders, body });
      if (!verdict.ok) {
        log.note = verdict.reason;
        return gatewayResponse(403, verdict.unsigned ? "Forbidden" : verdict.message);
      }
      iam = verdict.principal.identity;
      log.note = `signed by ${verdict.principal.arn}`;
    }

    const event = toEvent({
      method, url, rawHeaders: request.rawHeaders, body, match, requestId, sourceIp,
      apiId: this.options.apiId, accountId: this.options.accountId, host, jwt, iam,
    });
    if (route.auth === "lambda") {
      const verdict = route.lambdaAuthorizer
        ? await route.lambdaAuthorizer.authorize(event)
        : { ok: false as const, status: 500 as const, reason: "route has no Lambda authorizer" };
      if (!verdict.ok) {
        log.note = verdict.reason;
        return gatewayResponse(verdict.status, { 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error" }[verdict.status]);
      }
      if (verdict.cached) log.note = "authorizer decision from the cache";
      Object.assign(event.requestContext, { authorizer: { lambda: verdict.context } });
    }
    const invocation = await this.options.invoke(route.functionName, event, requestId);
    log.functionName = route.functionName;
    log.cold = invocation.cold;
    if (invocation.timedOut) {
      log.note = "function timed out";
      return gatewayResponse(503, "Service Unavailable");
    }
    if (invocation.error) {
      log.note = `${invocation.error.errorType}: ${invocation.error.errorMessage}`;
      return gatewayResponse(500, "Internal Server Error");
    }
    try {
      return toHttpResponse(invocation.payload);
    } catch (error) {
      log.note = `malformed Lambda response: ${(error as Error).message}`;
      return gatewayResponse(500, "Internal Server Error");
    }
  }
}
