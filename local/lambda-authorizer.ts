/**
 * An HTTP API Lambda (REQUEST) authorizer as API Gateway runs it, with payload format 2.0
 * and simple responses: the identity sources are read from the request first, and a
 * missing or empty one is answered 401 without invoking the function; the function gets
 * the request's 2.0 event (no body) with `type`, `routeArn` and `identitySource`; it answers
 * `{ isAuthorized, context }`: false is 403, an error, a timeout or any other shape is 500;
 * a decision is cached per combination of identity source values for `resultTtlSeconds`
 * (0: no cache), and its `context` reaches the route as `requestContext.authorizer.lambda`.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { InvokeResult } from "./functions";

/** API Gateway's TTL of an authorizer's result (HTTP and REST) when the program leaves it out. */
export const DEFAULT_AUTHORIZER_TTL_SECONDS = 300;

export interface LambdaAuthorizerConfig {
  /** Which function decides (the runtime's key). */
  functionName: string;
  identitySources: string[];
  resultTtlSeconds: number;
  region: string;
}

export type LambdaAuthorization =
  | { ok: true; context: Record<string, unknown>; cached: boolean }
  | { ok: false; status: 401 | 403 | 500; reason: string };

export type AuthorizerInvoker = (functionName: string, event: unknown, requestId: string) => Promise<InvokeResult>;

/** A field of a request context by its dotted name (`requestId`, `identity.sourceIp`). */
export function contextValue(name: string, requestContext: unknown): unknown {
  return name.split(".").reduce<unknown>((at, key) => (at && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined), requestContext);
}

/**
 * The values of an authorizer's identity sources as strings, each read by `read`, or the
 * first source that is missing or empty (API Gateway then answers 401 without invoking the
 * authorizer). HTTP and REST APIs name the sources differently and read them alike.
 */
export function identitySourceValues(sources: string[], read: (source: string) => unknown): { values: string[] } | { missing: string } {
  const values: string[] = [];
  for (const source of sources) {
    const value = read(source);
    if (value === undefined || value === null || value === "") return { missing: source };
    values.push(String(value));
  }
  return { values };
}

/** An authorizer's results by the combination of identity source values, each kept `ttlSeconds` (0: none kept). */
export class AuthorizerCache<V> {
  private readonly entries = new Map<string, { expires: number; value: V }>();

  constructor(private readonly ttlSeconds: number, private readonly now: () => number) {}

  get(values: string[]): V | undefined {
    const hit = this.ttlSeconds > 0 ? this.entries.get(JSON.stringify(values)) : undefined;
    return hit && hit.expires > this.now() ? hit.value : undefined;
  }

  set(values: string[], value: V): void {
    if (this.ttlSeconds > 0) this.entries.set(JSON.stringify(values), { expires: this.now() + this.ttlSeconds * 1000, value });
  }
}

/** One identity source (`$request.header.X`, `$request.querystring.x`, `$context.x`, `$stageVariables.x`) of a request's 2.0 event, as it is there. */
function identityValue(source: string, event: APIGatewayProxyEventV2): unknown {
  const [, scope, name] = /^\$(request\.header|request\.querystring|context|stageVariables)\.(.+)$/.exec(source) ?? [];
  if (scope === "request.header") return event.headers?.[name.toLowerCase()];
  if (scope === "request.querystring") return event.queryStringParameters?.[name];
  if (scope === "stageVariables") return event.stageVariables?.[name];
  if (scope === "context") return contextValue(name, event.requestContext);
  return undefined;
}

export class LocalLambdaAuthorizer {
  private readonly cache: AuthorizerCache<LambdaAuthorization>;

  constructor(readonly config: LambdaAuthorizerConfig, private readonly invoke: AuthorizerInvoker, now: () => number = Date.now) {
    this.cache = new AuthorizerCache(config.resultTtlSeconds, now);
  }

  /** Decides on the request whose route event is `event` (built for the route, before the integration runs). */
  async authorize(event: APIGatewayProxyEventV2): Promise<LambdaAuthorization> {
    const read = identitySourceValues(this.config.identitySources, (source) => identityValue(source, event));
    if ("missing" in read) return { ok: false, status: 401, reason: `identity source ${read.missing} is missing or empty; the authorizer was not invoked` };
    const hit = this.cache.get(read.values);
    if (hit) return hit.ok ? { ...hit, cached: true } : hit;

    const verdict = await this.decide(event, read.values);
    // Decisions are cached, allowed or denied; failures are not (API Gateway retries them on the next request).
    if (verdict.ok || verdict.status !== 500) this.cache.set(read.values, verdict);
    return verdict;
  }

  private async decide(event: APIGatewayProxyEventV2, identitySource: string[]): Promise<LambdaAuthorization> {
    const { body: _body, isBase64Encoded: _encoded, ...request } = event;
    const { accountId, apiId, stage, http } = event.requestContext;
    const authorizerEvent = {
      ...request,
      type: "REQUEST",
      routeArn: `arn:aws:execute-api:${this.config.region}:${accountId}:${apiId}/${stage}/${http.method}${event.rawPath}`,
      identitySource,
    };
    const invocation = await this.invoke(this.config.functionName, authorizerEvent, event.requestContext.requestId);
    if (invocation.timedOut) return { ok: false, status: 500, reason: "authorizer timed out" };
    if (invocation.error) return { ok: false, status: 500, reason: `authorizer failed: ${invocation.error.errorType}: ${invocation.error.errorMessage}` };
    const payload = invocation.payload as { isAuthorized?: unknown; context?: unknown } | null;
    if (typeof payload !== "object" || payload === null || typeof payload.isAuthorized !== "boolean") {
      return { ok: false, status: 500, reason: `authorizer answered ${JSON.stringify(payload)}, not a simple response { isAuthorized: boolean, context? }` };
    }
    const context = payload.context ?? {};
    if (typeof context !== "object" || Array.isArray(context)) return { ok: false, status: 500, reason: "authorizer's context is not an object" };
    if (!payload.isAuthorized) return { ok: false, status: 403, reason: "authorizer denied the request" };
    return { ok: true, context: context as Record<string, unknown>, cached: false };
  }
}
