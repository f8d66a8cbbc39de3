import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { flushMetrics, logger } from "./observability";

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

/** 400 listing every problem found, so a client fixes them all in one round. */
export function validationError(details: ProblemDetail[]): HttpError {
  const summary = details.map((d) => `${d.field}: ${d.message}`).join("; ");
  return new HttpError(400, "ValidationError", `Invalid request: ${summary}`, details);
}

/** The JWT authorizer's view of a request, when the route is JWT-authorized. */
type JwtRequestContext = { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };

/**
 * Whether the caller may act for `customerId`. A JWT-authorized caller is the customer its
 * token names in `sub`, and only that one; a call without a JWT (an IAM-authorized
 * service) may act for any customer.
 */
export function mayActFor(event: APIGatewayProxyEventV2, customerId: string): boolean {
  const jwt = (event.requestContext as JwtRequestContext).authorizer?.jwt;
  return jwt === undefined || jwt.claims?.sub === customerId;
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
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
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

/**
 * Wrap a route for API Gateway HTTP API (payload 2.0): log lines carry the Lambda request id,
 * an HttpError becomes its JSON response, anything else is logged and becomes a 500 that
 * reveals nothing, and the invocation's metrics are flushed whatever happened.
 */
export function httpHandler(route: HttpRoute): HttpRoute {
  return async (event, context) => {
    logger.addContext(context);
    try {
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
    throw new HttpError(415, "UnsupportedMediaType", `Content-Type must be application/json, got "${contentType}"`);
  }
  if (event.body === undefined || event.body === "") {
    throw new HttpError(400, "MissingBody", "A JSON request body is required");
  }
  const bytes = Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      "PayloadTooLarge",
      `Request body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES} bytes`,
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
  } catch (error) {
    throw new HttpError(400, "InvalidJson", `Request body is not valid JSON: ${(error as Error).message}`);
  }
}
