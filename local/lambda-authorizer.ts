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

/** The value of one identity source in a request's 2.0 event, or undefined when it is missing or empty. */
export function identityValue(source: string, event: APIGatewayProxyEventV2): string | undefined {
  const [, scope, name] = /^\$(request\.header|request\.querystring|context|stageVariables)\.(.+)$/.exec(source) ?? [];
  let value: unknown;
  if (scope === "request.header") value = event.headers?.[name.toLowerCase()];
  else if (scope === "request.querystring") value = event.queryStringParameters?.[name];
  else if (scope === "stageVariables") value = event.stageVariables?.[name];
  else if (scope === "context") value = name.split(".").reduce<unknown>((at, key) => (at && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined), event.requestContext);
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : String(value);
}

export class LocalLambdaAuthorizer {
  private readonly cache = new Map<string, { expires: number; verdict: LambdaAuthorization }>();

  constructor(readonly config: LambdaAuthorizerConfig, private readonly invoke: AuthorizerInvoker, private readonly now: () => number = Date.now) {}

  /** Decides on the request whose route event is `event` (built for the route, before the integration runs). */
  async authorize(event: APIGatewayProxyEventV2): Promise<LambdaAuthorization> {
    const values: string[] = [];
    for (const source of this.config.identitySources) {
      const value = identityValue(source, event);
      if (value === undefined) return { ok: false, status: 401, reason: `identity source ${source} is missing or empty; the authorizer was not invoked` };
      values.push(value);
    }
    const ttlMs = this.config.resultTtlSeconds * 1000;
    const key = JSON.stringify(values);
    const hit = ttlMs > 0 ? this.cache.get(key) : undefined;
    if (hit && hit.expires > this.now()) return hit.verdict.ok ? { ...hit.verdict, cached: true } : hit.verdict;

    const verdict = await this.decide(event, values);
    // Decisions are cached, allowed or denied; failures are not (API Gateway retries them on the next request).
    if (ttlMs > 0 && (verdict.ok || verdict.status !== 500)) this.cache.set(key, { expires: this.now() + ttlMs, verdict });
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
