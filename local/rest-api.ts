/**
 * API Gateway REST API semantics for the local runtime, one stage served at
 * `http://127.0.0.1:<port>/<stage>`: resource selection (the HTTP API's rules, without
 * `$default`), in API Gateway's order the stage throttle, the authorizer
 * (local/rest-authorizer.ts; IAM by local/sigv4.ts), the API key and its usage plan (local/usage-plans.ts),
 * request validation (parameters, then the body against its draft-04 model, by ajv), then
 * the Lambda proxy integration with payload format 1.0 and its timeout; and the gateway's
 * own answers with their messages (403 "Missing Authentication Token" for no resource, 403
 * "Forbidden" for a missing or unknown key, 429, 400, 502 "Internal server error" for a
 * function error or malformed result, 504 when the integration times out).
 */
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEvent } from "aws-lambda";
import Ajv, { type ValidateFunction } from "ajv-draft-04";
import { LocalGateway, type GatewayRequest, type RequestLog } from "./gateway";
import { MAX_PAYLOAD_BYTES, requestTime, RouteTable, type RouteMatch } from "./http-api";
import type { JwtAuthorizer } from "./jwt";
import type { AuthorizerInvoker } from "./lambda-authorizer";
import { authorizeCognito, type LocalRestLambdaAuthorizer, type RestAuthorization } from "./rest-authorizer";
import type { ApiKeyModel, RestRouteModel } from "./rest-model";
import type { SigV4Verifier } from "./sigv4";
import type { UsageLimiter } from "./usage-plans";

export interface RestRouteDefinition extends Omit<RestRouteModel, "functionArn" | "bodySchema" | "authorizerId"> {
  /** Which function serves the route (the runtime's key). */
  functionName: string;
  /** The route's Lambda authorizer (`lambda`) or Cognito user pools check (`cognito`). */
  lambdaAuthorizer?: LocalRestLambdaAuthorizer;
  cognito?: JwtAuthorizer;
  /** The body's JSON Schema (draft 4), as the model holds it. */
  bodySchema?: string;
}

export interface RestApiOptions {
  routes: RestRouteDefinition[];
  apiId: string;
  accountId: string;
  region: string;
  stageName: string;
  stageVariables: Record<string, string>;
  apiKeys: ApiKeyModel[];
  limiter: UsageLimiter;
  /** Verifies the signatures of `iam` methods. */
  sigv4: SigV4Verifier;
  invoke: AuthorizerInvoker;
  onRequest: (entry: RequestLog) => void;
}

interface RestResponse {
  statusCode: number;
  headers: Record<string, string[]>;
  body: Buffer;
}

function gatewayResponse(statusCode: number, message: string | null, errorType?: string): RestResponse {
  return {
    statusCode,
    headers: { "Content-Type": ["application/json"], ...(errorType ? { "x-amzn-ErrorType": [errorType] } : {}) },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

/** Thrown for a function result API Gateway cannot read as a 1.0 proxy response (it answers 502). */
class MalformedProxyResponseError extends Error {}

const HEADER_VALUE = ["string", "number", "boolean"];

/**
 * A 1.0 proxy result as API Gateway reads it: an object with an integer `statusCode`,
 * optional `headers` (one value each) and `multiValueHeaders` (lists; for a name in both,
 * only the lists count), a string `body`, base64 when `isBase64Encoded`. A missing
 * Content-Type is `application/json`.
 */
export function toRestResponse(payload: unknown): RestResponse {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new MalformedProxyResponseError(`result is ${JSON.stringify(payload)}, not an object`);
  const result = payload as Record<string, unknown>;
  const { statusCode } = result;
  if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) throw new MalformedProxyResponseError(`statusCode ${JSON.stringify(statusCode)} is not an HTTP status`);
  const headers: Record<string, string[]> = {};
  const object = (field: string) => {
    const value = result[field];
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) throw new MalformedProxyResponseError(`${field} is not an object`);
    return value as Record<string, unknown>;
  };
  for (const [name, value] of Object.entries(object("headers"))) {
    if (!HEADER_VALUE.includes(typeof value)) throw new MalformedProxyResponseError(`header ${name} is not a string`);
    headers[name] = [String(value)];
  }
  for (const [name, values] of Object.entries(object("multiValueHeaders"))) {
    if (!Array.isArray(values) || values.some((value) => !HEADER_VALUE.includes(typeof value))) throw new MalformedProxyResponseError(`multiValueHeaders.${name} is not a list of strings`);
    headers[name] = values.map(String);
  }
  if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) headers["Content-Type"] = ["application/json"];
  const { body } = result;
  if (body !== undefined && body !== null && typeof body !== "string") throw new MalformedProxyResponseError(`body is ${typeof body}, not a string`);
  if (result.isBase64Encoded !== undefined && typeof result.isBase64Encoded !== "boolean") throw new MalformedProxyResponseError("isBase64Encoded is not a boolean");
  const text = (body as string | null | undefined) ?? "";
  return { statusCode, headers, body: Buffer.from(text, result.isBase64Encoded ? "base64" : "utf8") };
}

export interface RestEventInput {
  method: string;
  /** The path below the stage, e.g. `/things/1`, and the query string (without `?`). */
  path: string;
  query: string;
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  match: RouteMatch<RestRouteDefinition>;
  requestId: string;
  apiId: string;
  accountId: string;
  stageName: string;
  stageVariables: Record<string, string>;
  host: string;
  now?: Date;
}

/** The payload format 1.0 event for a request (a stage without binary media types: bodies as text). */
function toRestEvent(input: RestEventInput): APIGatewayProxyEvent {
  const now = input.now ?? new Date();
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < input.rawHeaders.length; i += 2) {
    const [name, value] = [input.rawHeaders[i], input.rawHeaders[i + 1]];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  for (const [key, value] of new URLSearchParams(input.query)) {
    (queryStringParameters ??= {})[key] = value;
    ((multiValueQueryStringParameters ??= {})[key] ??= []).push(value);
  }
  const userAgent = Object.entries(headers).find(([name]) => name.toLowerCase() === "user-agent")?.[1] ?? null;
  const { route } = input.match;
  return {
    resource: route.resourcePath,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: input.match.pathParameters ?? null,
    stageVariables: Object.keys(input.stageVariables).length > 0 ? input.stageVariables : null,
    requestContext: {
      accountId: input.accountId,
      apiId: input.apiId,
      authorizer: null,
      domainName: input.host,
      domainPrefix: input.host.split(".")[0],
      extendedRequestId: input.requestId,
      httpMethod: input.method,
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null, cognitoIdentityPoolId: null,
        principalOrgId: null, sourceIp: input.sourceIp, user: null, userAgent, userArn: null,
      },
      path: `/${input.stageName}${input.path}`,
      protocol: "HTTP/1.1",
      requestId: input.requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: route.resourceId,
      resourcePath: route.resourcePath,
      stage: input.stageName,
    },
    body: input.body.length > 0 ? input.body.toString("utf8") : null,
    isBase64Encoded: false,
  };
}

/** Whether a request carries a required parameter (`method.request.<querystring|header|path>.<name>`). */
function hasParameter(parameter: string, event: APIGatewayProxyEvent): boolean {
  const [, where, name] = /^method\.request\.(querystring|header|path)\.(.+)$/.exec(parameter) ?? [];
  if (where === "querystring") return event.multiValueQueryStringParameters?.[name] !== undefined;
  if (where === "header") return Object.keys(event.headers).some((header) => header.toLowerCase() === name.toLowerCase());
  return event.pathParameters?.[name] !== undefined;
}

export class LocalRestApi {
  private readonly gateway: LocalGateway<RestResponse>;
  private readonly table: RouteTable<RestRouteDefinition>;
  private readonly validators = new Map<string, ValidateFunction>();
  url = "";

  constructor(private readonly options: RestApiOptions) {
    this.table = new RouteTable(options.routes);
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const route of options.routes) {
      if (route.bodySchema !== undefined) this.validators.set(route.routeKey, ajv.compile(JSON.parse(route.bodySchema)));
    }
    this.gateway = new LocalGateway({
      maxBodyBytes: MAX_PAYLOAD_BYTES,
      tooLarge: () => gatewayResponse(413, "Request Too Long"),
      internalError: () => gatewayResponse(500, "Internal server error"),
      respond: (request) => this.respond(request),
      headers: (result, requestId) => ({ ...result.headers, "x-amzn-RequestId": requestId, "x-amz-apigw-id": requestId, "Content-Length": String(result.body.length) }),
      onRequest: options.onRequest,
    });
  }

  async start(port = 0): Promise<string> {
    this.url = `${(await this.gateway.start(port)).replace(/\/$/, "")}/${this.options.stageName}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
  }

  private async respond({ request, method, path, query, body, requestId, sourceIp, host, log }: GatewayRequest): Promise<RestResponse> {
    const { stageName } = this.options;
    const stagePrefix = `/${stageName}`;
    if (path !== stagePrefix && !path.startsWith(`${stagePrefix}/`)) {
      log.note = `not under the stage ${stagePrefix}`;
      return gatewayResponse(403, "Forbidden", "ForbiddenException");
    }
    const resourcePath = path.slice(stagePrefix.length) || "/";
    const match = this.table.match(method, resourcePath);
    if (!match) return gatewayResponse(403, "Missing Authentication Token", "MissingAuthenticationTokenException");
    const { route } = match;
    log.routeKey = route.routeKey;

    const throttled = this.options.limiter.admitMethod(route.routeKey);
    if (!throttled.ok) return this.refuse(log, 429, throttled.message, throttled.reason);

    const event = toRestEvent({
      method, path: resourcePath, query, rawHeaders: request.rawHeaders, body, match, requestId, sourceIp,
      apiId: this.options.apiId, accountId: this.options.accountId, stageName, stageVariables: this.options.stageVariables, host,
    });
    const authorization = await this.authorize(route, event, request, body, resourcePath);
    if (!authorization.ok) {
      const errorType = authorization.errorType ?? (authorization.status === 401 ? "UnauthorizedException"
        : authorization.status === 500 ? "AuthorizerConfigurationException"
        : "AccessDeniedException");
      return this.refuse(log, authorization.status, authorization.message, authorization.reason, errorType);
    }
    if (authorization.cached) log.note = "authorizer policy from the cache";
    event.requestContext.authorizer = authorization.authorizer ?? null;

    if (route.apiKeyRequired) {
      const value = request.headers["x-api-key"];
      const key = this.options.apiKeys.find((k) => k.enabled && k.value === value);
      if (!key) return this.refuse(log, 403, "Forbidden", value ? "unknown API key" : "no x-api-key header", "ForbiddenException");
      Object.assign(event.requestContext.identity, { apiKey: key.value, apiKeyId: key.id });
      const admitted = this.options.limiter.admitKey(key.name);
      if (!admitted.ok) return this.refuse(log, 429, admitted.message, admitted.reason);
    }

    const missing = route.requiredParameters.filter((parameter) => !hasParameter(parameter, event));
    if (missing.length > 0) {
      return this.refuse(log, 400, `Missing required request parameters: [${missing.map((p) => p.split(".").pop()).join(", ")}]`, "request parameters", "BadRequestException");
    }
    const invalid = this.invalidBody(route, event);
    if (invalid) return this.refuse(log, 400, "Invalid request body", invalid, "BadRequestException");

    log.functionName = route.functionName;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => { timer = setTimeout(() => resolve("timeout"), route.timeoutMs); });
    const invocation = await Promise.race([this.options.invoke(route.functionName, event, requestId), timeout]).finally(() => clearTimeout(timer));
    if (invocation === "timeout") return this.refuse(log, 504, "Endpoint request timed out", `integration timed out after ${route.timeoutMs} ms`);
    log.cold = invocation.cold;
    if (invocation.timedOut) return this.refuse(log, 502, "Internal server error", "function timed out");
    if (invocation.error) return this.refuse(log, 502, "Internal server error", `${invocation.error.errorType}: ${invocation.error.errorMessage}`);
    try {
      return toRestResponse(invocation.payload);
    } catch (error) {
      return this.refuse(log, 502, "Internal server error", `malformed Lambda proxy response: ${(error as Error).message}`);
    }
  }

  private refuse(log: RequestLog, status: number, message: string | null, reason: string, errorType?: string): RestResponse {
    log.note = reason;
    return gatewayResponse(status, message, errorType);
  }

  private async authorize(route: RestRouteDefinition, event: APIGatewayProxyEvent, request: IncomingMessage, body: Buffer, resourcePath: string): Promise<RestAuthorization | { ok: true; authorizer?: undefined; cached: false }> {
    if (route.auth === "iam") {
      const verdict = await this.options.sigv4.verify({ method: event.httpMethod, url: request.url ?? "/", rawHeaders: request.rawHeaders, body });
      if (!verdict.ok) return { ok: false, status: 403, message: verdict.message, reason: verdict.reason, errorType: verdict.errorType };
      // Payload 1.0 names the caller in `identity`; `user` and `caller` are the principal's unique id.
      const { accessKey, accountId, userArn, userId } = verdict.principal.identity;
      Object.assign(event.requestContext.identity, { accessKey, accountId, caller: userId, user: userId, userArn });
      return { ok: true, cached: false };
    }
    if (route.auth === "cognito") {
      return route.cognito ? authorizeCognito(route.cognito, request.headers.authorization, route.scopes) : { ok: false, status: 500, message: null, reason: "route has no Cognito authorizer" };
    }
    if (route.auth === "lambda") {
      const { region, accountId, apiId, stageName } = this.options;
      const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stageName}/${event.httpMethod}${resourcePath}`;
      return route.lambdaAuthorizer ? route.lambdaAuthorizer.authorize(event, methodArn) : { ok: false, status: 500, message: null, reason: "route has no Lambda authorizer" };
    }
    return { ok: true, cached: false };
  }

  /** Why the body fails the route's model, or undefined when it passes (or the route has none). */
  private invalidBody(route: RestRouteDefinition, event: APIGatewayProxyEvent): string | undefined {
    const validate = this.validators.get(route.routeKey);
    const contentType = Object.entries(event.headers).find(([name]) => name.toLowerCase() === "content-type")?.[1];
    // The model is the application/json one; a request without a Content-Type gets it too.
    if (!validate || (contentType !== undefined && !/^application\/json\b/i.test(contentType))) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.body ?? "");
    } catch (error) {
      return `body is not JSON: ${(error as Error).message}`;
    }
    return validate(parsed) ? undefined : `body fails the model: ${validate.errors!.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ")}`;
  }
}
