/**
 * What every handler test needs: the functions' environment, Lambda-shaped events and
 * context, and a capture of what a handler writes (Powertools JSON logs and EMF metrics).
 */
import { randomUUID } from "node:crypto";
import { GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, DynamoDBStreamEvent } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { startLocalDynamo, type LocalDynamo } from "./dynalite";

export const PARAMETERS_PATH = "/serverless-orders/test/orders-api-create-order";
export const MAX_ITEMS_PER_ORDER = 3;
export const MAX_ORDERS_PER_CUSTOMER_PER_DAY = 20;
/** The function timeout the handlers' SDK clients derive their timeouts from. */
export const FUNCTION_TIMEOUT_SECONDS = 10;
export const METRICS_NAMESPACE = "Orders";
/** The role the tests' stack trusts (TRUSTED_IAM_PRINCIPALS), and a session of it. */
export const TRUSTED_ROLE_ARN = "arn:aws:iam::123456789012:role/orders-support";
export const TRUSTED_SESSION_ARN = "arn:aws:sts::123456789012:assumed-role/orders-support/support-session";

/**
 * Start dynalite and set the environment contract of the order functions. Call it in a
 * `before` hook and import the handlers after it: they read the environment and create
 * their SDK clients when first imported.
 */
export async function setUpHandlerEnvironment(): Promise<LocalDynamo> {
  const dynamo = await startLocalDynamo();
  Object.assign(process.env, {
    PARAMETERS_PATH,
    FUNCTION_TIMEOUT_SECONDS: String(FUNCTION_TIMEOUT_SECONDS),
    POWERTOOLS_SERVICE_NAME: "orders-test",
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: "INFO",
    TRUSTED_IAM_PRINCIPALS: JSON.stringify([TRUSTED_ROLE_ARN]),
  });
  // Either of these would silence the metrics the tests assert on.
  delete process.env.POWERTOOLS_DEV;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  return dynamo;
}

/** The Parameter Store values create-order is deployed with, as the tests give them. */
export const DEFAULT_PARAMETERS: Readonly<Record<string, string>> = {
  maxItemsPerOrder: String(MAX_ITEMS_PER_ORDER),
  maxOrdersPerCustomerPerDay: String(MAX_ORDERS_PER_CUSTOMER_PER_DAY),
};

/** Parameter Store, stubbed for the order functions. */
export interface AwsStubs {
  ssm: AwsClientStub<SSMClient>;
  /**
   * Serve `values` (keys relative to PARAMETERS_PATH, as String parameters) and
   * drop what the handlers' provider cached, so the next invocation reads them.
   */
  givenParameters(values?: Readonly<Record<string, string>>): void;
  /** Back to the start: DEFAULT_PARAMETERS, no history. */
  reset(): void;
  restore(): void;
}

/**
 * Stub the SSM client (every instance, also those the handlers create on import).
 * Call it in a `before` hook and `restore()` in the matching `after`.
 */
export function stubAwsClients(): AwsStubs {
  const ssm = mockClient(SSMClient);
  const stubs: AwsStubs = {
    ssm,
    givenParameters(values = DEFAULT_PARAMETERS) {
      ssm.reset();
      ssm.on(GetParametersByPathCommand).resolves({
        Parameters: Object.entries(values).map(([key, value]) => ({
          Name: `${PARAMETERS_PATH}/${key}`,
          Type: "String",
          Value: value,
        })),
      });
      // Required here, not imported: the handler modules load only after the environment is set.
      (require("../../handlers/lib/config") as typeof import("../../handlers/lib/config")).parameters.clearCache();
    },
    reset() {
      stubs.givenParameters();
    },
    restore() {
      ssm.restore();
    },
  };
  stubs.reset();
  return stubs;
}

export function lambdaContext(functionName = "orders-test-fn"): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2025/01/01/[$LATEST]0123456789abcdef",
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HttpRequest {
  method: string;
  path: string;
  /** The route key's path template, e.g. `/orders/{orderId}`. @default path */
  route?: string;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
}

/**
 * An API Gateway HTTP API (payload format 2.0) event, as the Lambda proxy integration sends
 * it, signed by a session of the trusted role (withJwt makes it a customer's).
 */
export function httpEvent(request: HttpRequest): APIGatewayProxyEventV2 {
  const route = request.route ?? request.path;
  const query = request.queryStringParameters;
  return {
    version: "2.0",
    routeKey: `${request.method} ${route}`,
    rawPath: request.path,
    rawQueryString: query ? new URLSearchParams(query).toString() : "",
    headers: { host: "api.example.com", "user-agent": "mocha", ...request.headers },
    ...(query ? { queryStringParameters: query } : {}),
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "api1234567",
      domainName: "api.example.com",
      domainPrefix: "api",
      http: { method: request.method, path: request.path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "mocha" },
      requestId: randomUUID(),
      routeKey: `${request.method} ${route}`,
      stage: "$default",
      time: "01/Jan/2025:00:00:00 +0000",
      timeEpoch: 1735689600000,
      authorizer: { iam: iamCaller(TRUSTED_SESSION_ARN) },
    } as APIGatewayProxyEventV2["requestContext"],
    ...(request.body !== undefined ? { body: request.body } : {}),
    isBase64Encoded: request.isBase64Encoded ?? false,
  };
}

/**
 * `event` as the JWT authorizer hands it over: claims as strings, `sub` naming the caller.
 * `claims` replaces the default `{ sub }`, e.g. to send a token without a subject.
 */
export function withJwt(event: APIGatewayProxyEventV2, sub: string, claims: Record<string, string> = { sub }): APIGatewayProxyEventV2 {
  return { ...event, requestContext: { ...event.requestContext, authorizer: { jwt: { claims, scopes: [] } } } as APIGatewayProxyEventV2["requestContext"] };
}

/** The `authorizer.iam` block of a SigV4-signed call by `userArn`. */
export function iamCaller(userArn: string) {
  return { accessKey: "ASIAEXAMPLE", accountId: userArn.split(":")[4], callerId: "AROAEXAMPLE:session", cognitoIdentity: null, principalOrgId: null, userArn, userId: "AROAEXAMPLE:session" };
}

/** `event` with no authorizer at all: a public route, `$default`, or a direct invoke's shape. */
export function withoutCaller(event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 {
  const { authorizer: _authorizer, ...requestContext } = event.requestContext as APIGatewayProxyEventV2["requestContext"] & { authorizer?: unknown };
  return { ...event, requestContext };
}

/** GET /orders/{orderId}. */
export function getOrderEvent(orderId: string): APIGatewayProxyEventV2 {
  return httpEvent({ method: "GET", path: `/orders/${orderId}`, route: "/orders/{orderId}", pathParameters: { orderId } });
}

/** GET /orders with these query parameters (none when undefined). */
export function listOrdersEvent(query?: Record<string, string>): APIGatewayProxyEventV2 {
  return httpEvent({ method: "GET", path: "/orders", queryStringParameters: query });
}

/**
 * POST /orders with a JSON body (a string is sent as it is) and a fresh Idempotency-Key
 * header unless `headers` names one (`null` sends none).
 */
export function postOrder(body: unknown, headers: Record<string, string | null> = {}): APIGatewayProxyEventV2 {
  const all: Record<string, string | null> = { "content-type": "application/json", "idempotency-key": randomUUID(), ...headers };
  return httpEvent({
    method: "POST",
    path: "/orders",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== null)),
  });
}

/** A DynamoDB stream event of INSERT records for these order ids (what the fulfilment mapping delivers). */
export function insertEvent(orderIds: string[]): DynamoDBStreamEvent {
  return {
    Records: orderIds.map((orderId, i) => ({
      eventID: `event-${i}`,
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "eu-west-1",
      dynamodb: { Keys: { orderId: { S: orderId } }, SequenceNumber: String(100000000000000000000n + BigInt(i)), StreamViewType: "KEYS_ONLY" },
      eventSourceARN: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-test/stream/2026-01-01T00:00:00.000",
    })),
  };
}

/** One line a handler wrote to stdout or stderr, parsed when it is JSON. */
export type OutputLine = Record<string, unknown>;

export interface Captured<T> {
  result: T;
  /** Every JSON line written (Powertools logs and EMF metric documents). */
  lines: OutputLine[];
  /** All output as written, to search for what must never appear. */
  text: string;
}

/**
 * Run `fn` with stdout and stderr captured (and kept off the test report). Powertools writes
 * through a Console bound to these streams, so this sees its logs and metrics.
 */
export async function capture<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const chunks: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const record = (chunk: unknown, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    callback?.();
    return true;
  };
  process.stdout.write = record as typeof process.stdout.write;
  process.stderr.write = record as typeof process.stderr.write;
  let result: T;
  try {
    result = await fn();
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
  const text = chunks.join("");
  const lines: OutputLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as OutputLine);
    } catch {
      // not a JSON line (a pretty-printed or partial write); kept in `text`
    }
  }
  return { result, lines, text };
}

/** Log lines (Powertools Logger documents) among captured lines. */
export function logLines(lines: OutputLine[]): OutputLine[] {
  return lines.filter((line) => typeof line.level === "string" && "message" in line);
}

/**
 * The EMF documents (CloudWatch embedded metric format) that declare metric `name`, in
 * `namespace` when one is given.
 */
export function emfDocuments(lines: OutputLine[], name: string, namespace?: string): OutputLine[] {
  return lines.filter((line) =>
    (line._aws as { CloudWatchMetrics?: { Namespace: string; Metrics: { Name: string }[] }[] } | undefined)?.CloudWatchMetrics?.some(
      (directive) =>
        (namespace === undefined || directive.Namespace === namespace) && directive.Metrics.some((metric) => metric.Name === name),
    ));
}

/** The total of one metric over the EMF documents among captured lines (0 when absent). */
export function metricTotal(lines: OutputLine[], name: string, namespace = METRICS_NAMESPACE): number {
  let total = 0;
  for (const document of emfDocuments(lines, name, namespace)) {
    const value = document[name];
    for (const v of Array.isArray(value) ? value : [value]) total += Number(v);
  }
  return total;
}

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpCall extends Captured<APIGatewayProxyStructuredResultV2> {
  status: number;
  /** The parsed JSON body (every response of these handlers is JSON). */
  body: any;
  context: Context;
}

/** Invoke an HTTP handler as Lambda would, capturing its output and parsing its JSON body. */
export async function callHttp(handler: HttpHandler, event: APIGatewayProxyEventV2): Promise<HttpCall> {
  const context = lambdaContext();
  const captured = await capture(() => handler(event, context));
  const { result } = captured;
  if (result.headers?.["content-type"] !== "application/json") {
    throw new Error(`Response is not declared JSON: ${JSON.stringify(result)}`);
  }
  // Every response, success or error, so none can be sniffed as HTML.
  if (result.headers?.["x-content-type-options"] !== "nosniff") {
    throw new Error(`Response lacks X-Content-Type-Options: nosniff: ${JSON.stringify(result)}`);
  }
  return { ...captured, status: result.statusCode ?? 0, body: JSON.parse(result.body ?? ""), context };
}

/** A customer id no other test uses, so each test sees only its own orders. */
export function newCustomerId(): string {
  return `cust-${randomUUID()}`;
}
