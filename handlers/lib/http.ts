import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { flushMetrics, logger } from "./observability";
import { principalMatcher, TRUSTED_IAM_PRINCIPALS_ENV, TRUSTED_PRINCIPAL_ARN } from "./principals";

/** One problem with a request, named by its place in the input (`items[2].quantity`). */
export interface ProblemDetail {
  field: string;
  message: string;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: ProblemDetail[] };
}

/** An error that becomes an HTTP response as it is: status, code, message and details. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ProblemDetail[],
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * 400 listing every problem found, so a client fixes them all in one round. The message is
 * fixed; `details` name our own fields and rules, never text the client chose.
 */
export function validationError(details: ProblemDetail[]): HttpError {
  return new HttpError(400, "ValidationError", "The request is invalid; details lists each problem", details);
}

/**
 * The problem of an object with fields outside `allowed`, or none: one detail on the object
 * (`at`) that lists what is allowed and not the client's own field names.
 */
export function unknownFieldsProblem(keys: string[], allowed: readonly string[], at: string): ProblemDetail[] {
  return keys.some((key) => !allowed.includes(key))
    ? [{ field: at, message: `has fields that are not allowed; allowed: ${allowed.join(", ")}` }]
    : [];
}

/** What API Gateway's authorizers tell a function about the caller (payload 2.0). */
type AuthorizerContext = {
  authorizer?: {
    jwt?: { claims?: Record<string, unknown> };
    iam?: { userArn?: string };
  };
};

type PrincipalMatcher = (callerArn: string) => boolean;

/** The allow-list's matchers as last made, by the variable's text (it is read on every IAM request). */
let parsedPrincipals: { raw: string; matchers: PrincipalMatcher[] } | undefined;

function trustedPrincipals(): PrincipalMatcher[] {
  const raw = process.env[TRUSTED_IAM_PRINCIPALS_ENV];
  if (raw === undefined || raw === "") return [];
  if (parsedPrincipals?.raw === raw) return parsedPrincipals.matchers;
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((entry) => typeof entry === "string" && TRUSTED_PRINCIPAL_ARN.test(entry))) {
    throw new Error(`Environment variable ${TRUSTED_IAM_PRINCIPALS_ENV} must be a JSON array of IAM role or user ARNs`);
  }
  parsedPrincipals = { raw, matchers: parsed.map(principalMatcher) };
  return parsedPrincipals.matchers;
}

/**
 * Who made a request: a customer (by a JWT's `sub`; none when the token names no subject,
 * so it acts for nobody) or a trusted service (by IAM).
 */
export type Caller = { kind: "customer"; customerId?: string } | { kind: "service"; principalArn: string };

/**
 * The request's caller, deny by default: a JWT names a customer; a call without one must be
 * SigV4-signed (an `iam` route) by a principal on the stack's allow-list. Anything else (a
 * public route, `$default`, a direct invoke, an authorizer this code does not know) is 401,
 * and a signed call from a principal not on the list is 403.
 */
export function callerOf(event: APIGatewayProxyEventV2): Caller {
  const known = callers.get(event);
  if (known) return known;
  const caller = identifyCaller(event);
  callers.set(event, caller);
  return caller;
}

/** Each request's caller once found: the wrapper authenticates, then the route asks again. */
const callers = new WeakMap<APIGatewayProxyEventV2, Caller>();

function identifyCaller(event: APIGatewayProxyEventV2): Caller {
  const authorizer = (event.requestContext as AuthorizerContext | undefined)?.authorizer;
  if (authorizer?.jwt !== undefined) {
    const sub = authorizer.jwt.claims?.sub;
    return { kind: "customer", customerId: typeof sub === "string" && sub !== "" ? sub : undefined };
  }
  const callerArn = authorizer?.iam?.userArn;
  if (typeof callerArn !== "string" || callerArn === "") {
    throw new HttpError(401, "Unauthorized", "The request carries no credentials this API accepts");
  }
  if (!trustedPrincipals().some((isTrusted) => isTrusted(callerArn))) {
    logger.warn("IAM caller is not a trusted principal", { callerArn });
    throw new HttpError(403, "Forbidden", "The caller is not allowed to use this API");
  }
  return { kind: "service", principalArn: callerArn };
}

/**
 * Whether the caller may act for `customerId`: a customer only for itself, a trusted service
 * for anyone. Throws 401/403 (see callerOf) when the caller is neither.
 */
export function mayActFor(event: APIGatewayProxyEventV2, customerId: string): boolean {
  const caller = callerOf(event);
  return caller.kind === "service" || (caller.customerId !== undefined && caller.customerId === customerId);
}

/** 403 unless the caller may act for `customerId` (see mayActFor). */
export function requireOwnCustomer(event: APIGatewayProxyEventV2, customerId: string): void {
  if (!mayActFor(event, customerId)) {
    throw new HttpError(403, "Forbidden", "customerId must be your own: the subject (sub) of your access token");
  }
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    // nosniff: a browser must never read a response as anything but the JSON it says it is.
    headers: { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers },
    body: JSON.stringify(body),
  };
}

function errorResponse(error: HttpError): APIGatewayProxyStructuredResultV2 {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return json(error.statusCode, body);
}

export type HttpRoute = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpHandlerOptions {
  /**
   * Serve callers without credentials (a liveness check). Otherwise every request must come
   * from a caller callerOf accepts, before the route reads anything of it.
   * @default false
   */
  public?: boolean;
}

/**
 * The route key of the probe a deployment's before-traffic check sends the new version
 * (handlers/deploy/health-check.ts). Safe to answer without credentials: API Gateway writes
 * `requestContext.routeKey` itself, always one of the API's "METHOD /path" keys or
 * "$default", so only a direct invocation (lambda:InvokeFunction, which IAM limits to the
 * hook) can carry this one, and the answer reveals no more than the public GET /health.
 */
export const DEPLOYMENT_PROBE_ROUTE_KEY = "DEPLOYMENT-PROBE";

/** Whether `event` is a deployment's probe rather than a request. */
export function isDeploymentProbe(event: APIGatewayProxyEventV2): boolean {
  return event?.requestContext?.routeKey === DEPLOYMENT_PROBE_ROUTE_KEY;
}

/**
 * Wrap a route for API Gateway HTTP API (payload 2.0): the caller is authenticated first
 * (deny by default, see callerOf), log lines carry the Lambda request id, an HttpError
 * becomes its JSON response, anything else is logged and becomes a 500 that reveals
 * nothing, and the invocation's metrics are flushed whatever happened.
 */
export function httpHandler(route: HttpRoute, options: HttpHandlerOptions = {}): HttpRoute {
  return async (event, context) => {
    logger.addContext(context);
    try {
      // The new version answers once its module loaded and its handler runs; nothing else is touched.
      if (isDeploymentProbe(event)) return json(200, { status: "ok" });
      if (!options.public) callerOf(event);
      return await route(event, context);
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.statusCode >= 500) logger.error(error.message, { code: error.code });
        else logger.info("Request rejected", { statusCode: error.statusCode, code: error.code });
        return errorResponse(error);
      }
      logger.error("Unhandled error", error as Error);
      return errorResponse(new HttpError(500, "InternalError", "Internal server error"));
    } finally {
      flushMetrics();
    }
  };
}

/** Largest accepted request body, in bytes after base64 decoding. */
export const MAX_BODY_BYTES = 16 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isJsonMediaType(contentType: string): boolean {
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  return mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/**
 * The request body parsed as JSON: 415 for a non-JSON content type, 413 above
 * MAX_BODY_BYTES, 400 for a missing body, invalid UTF-8 or invalid JSON.
 */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = event.headers?.["content-type"];
  if (contentType !== undefined && !isJsonMediaType(contentType)) {
    throw new HttpError(415, "UnsupportedMediaType", "Content-Type must be application/json or application/*+json");
  }
  if (event.body === undefined || event.body === "") {
    throw new HttpError(400, "MissingBody", "A JSON request body is required");
  }
  const bytes = Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      "PayloadTooLarge",
      `Request body is larger than the limit of ${MAX_BODY_BYTES} bytes`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, "InvalidEncoding", "Request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the body; the client has the body already.
    throw new HttpError(400, "InvalidJson", "Request body is not valid JSON");
  }
}
