/**
 * REST API authorizers as API Gateway runs them.
 *
 * Lambda TOKEN and REQUEST: the identity sources are read first; a missing or empty one,
 * or a token that does not match `identityValidationExpression`, is 401 without invoking
 * the function. The function answers `{ principalId, policyDocument, context? }`; the
 * policy is evaluated against the request's method ARN (an explicit Deny wins: 403 "...with
 * an explicit deny"; no Allow: 403 "User is not authorized to access this resource"); an
 * error `Unauthorized` is 401; any other error, a timeout or another shape is 500
 * `{"message": null}`. The policy is cached per identity for `resultTtlSeconds` and the cached
 * policy is evaluated for each later method, as API Gateway does (so a policy naming one
 * method ARN denies the next method within the TTL).
 *
 * Cognito user pools: the token itself in the Authorization header; an ID token when the
 * method has no scopes, an access token with one of them when it has; otherwise 401.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { iamPattern } from "../policy/graph";
import { stringClaims } from "./http-api";
import type { JwtAuthorizer } from "./jwt";
import { AuthorizerCache, contextValue, identitySourceValues, type AuthorizerInvoker } from "./lambda-authorizer";

export type RestAuthorization =
  | { ok: true; authorizer: Record<string, unknown>; cached: boolean }
  /** `errorType`: the `x-amzn-ErrorType` when it is not the status's usual one (IAM's signature errors). */
  | { ok: false; status: 401 | 403 | 500; message: string | null; reason: string; errorType?: string };

const UNAUTHORIZED = { ok: false, status: 401, message: "Unauthorized" } as const;

export interface RestLambdaAuthorizerConfig {
  /** Which function decides (the runtime's key). */
  functionName: string;
  type: "TOKEN" | "REQUEST";
  identitySources: string[];
  resultTtlSeconds: number;
  identityValidationExpression?: string;
}

/** One REST identity source (`method.request.header.X`, `method.request.querystring.x`, `stageVariables.x`, `context.x`) of a 1.0 event, as it is there. */
function restIdentityValue(source: string, event: APIGatewayProxyEvent): unknown {
  const [, scope, name] = /^(method\.request\.header|method\.request\.querystring|stageVariables|context)\.(.+)$/.exec(source) ?? [];
  if (scope === "method.request.header") return Object.entries(event.headers ?? {}).find(([header]) => header.toLowerCase() === name.toLowerCase())?.[1];
  if (scope === "method.request.querystring") return event.queryStringParameters?.[name];
  if (scope === "stageVariables") return event.stageVariables?.[name];
  if (scope === "context") return contextValue(name, event.requestContext);
  return undefined;
}

interface PolicyStatement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
}

/** Allow, explicit deny or implicit deny of `execute-api:Invoke` on `methodArn`. */
function evaluatePolicy(statements: PolicyStatement[], methodArn: string): "allow" | "deny" | "implicit" {
  const matches = (statement: PolicyStatement) =>
    [statement.Action].flat().some((action) => typeof action === "string" && iamPattern(action).test("execute-api:Invoke"))
    && [statement.Resource].flat().some((resource) => typeof resource === "string" && iamPattern(resource).test(methodArn));
  const applying = statements.filter(matches);
  if (applying.some((s) => s.Effect === "Deny")) return "deny";
  return applying.some((s) => s.Effect === "Allow") ? "allow" : "implicit";
}

type Decision = { ok: true; principalId: string; statements: PolicyStatement[]; context: Record<string, unknown> } | Extract<RestAuthorization, { ok: false }>;

export class LocalRestLambdaAuthorizer {
  private readonly cache: AuthorizerCache<Extract<Decision, { ok: true }>>;
  /** The token's validation, compiled once (a TOKEN authorizer's `identityValidationExpression`). */
  private readonly tokenPattern?: RegExp;

  constructor(readonly config: RestLambdaAuthorizerConfig, private readonly invoke: AuthorizerInvoker, now: () => number = Date.now) {
    this.cache = new AuthorizerCache(config.resultTtlSeconds, now);
    if (config.type === "TOKEN" && config.identityValidationExpression) this.tokenPattern = new RegExp(`^(?:${config.identityValidationExpression})$`);
  }

  /** Decides on the request whose proxy event is `event`, for `methodArn`. */
  async authorize(event: APIGatewayProxyEvent, methodArn: string): Promise<RestAuthorization> {
    const read = identitySourceValues(this.config.identitySources, (source) => restIdentityValue(source, event));
    if ("missing" in read) return { ...UNAUTHORIZED, reason: `identity source ${read.missing} is missing or empty; the authorizer was not invoked` };
    const { values } = read;
    if (this.tokenPattern && !this.tokenPattern.test(values[0])) {
      return { ...UNAUTHORIZED, reason: `token does not match identityValidationExpression ${this.config.identityValidationExpression}; the authorizer was not invoked` };
    }
    const hit = this.cache.get(values);
    const cached = hit !== undefined;
    const decision = hit ?? await this.decide(event, methodArn, values[0]);
    // Policies are cached; failures (500) and 401s are not.
    if (!cached && decision.ok) this.cache.set(values, decision);
    if (!decision.ok) return decision;
    const verdict = evaluatePolicy(decision.statements, methodArn);
    const from = cached ? " (cached policy)" : "";
    if (verdict === "deny") return { ok: false, status: 403, message: "User is not authorized to access this resource with an explicit deny", reason: `policy denies ${methodArn}${from}` };
    if (verdict === "implicit") return { ok: false, status: 403, message: "User is not authorized to access this resource", reason: `policy allows no statement matching ${methodArn}${from}` };
    return { ok: true, authorizer: { ...decision.context, principalId: decision.principalId, integrationLatency: 0 }, cached };
  }

  private async decide(event: APIGatewayProxyEvent, methodArn: string, token: string): Promise<Decision> {
    const { body: _body, isBase64Encoded: _encoded, ...request } = event;
    const authorizerEvent = this.config.type === "TOKEN"
      ? { type: "TOKEN", authorizationToken: token, methodArn }
      : { type: "REQUEST", methodArn, ...request };
    const failed = (reason: string) => ({ ok: false as const, status: 500 as const, message: null, reason });
    const invocation = await this.invoke(this.config.functionName, authorizerEvent, event.requestContext.requestId);
    if (invocation.timedOut) return failed("authorizer timed out");
    if (invocation.error?.errorMessage === "Unauthorized") return { ...UNAUTHORIZED, reason: "authorizer answered Unauthorized" };
    if (invocation.error) return failed(`authorizer failed: ${invocation.error.errorType}: ${invocation.error.errorMessage}`);
    const payload = invocation.payload as { principalId?: unknown; policyDocument?: { Statement?: unknown }; context?: unknown } | null;
    const statement = payload?.policyDocument?.Statement;
    if (typeof payload !== "object" || payload === null || typeof payload.principalId !== "string" || (typeof statement !== "object" || statement === null)) {
      return failed(`authorizer answered ${JSON.stringify(payload)}, not { principalId, policyDocument: { Statement } }`);
    }
    const context = payload.context ?? {};
    if (typeof context !== "object" || Array.isArray(context) || Object.values(context).some((v) => !["string", "number", "boolean"].includes(typeof v))) {
      return failed("authorizer's context is not an object of strings, numbers and booleans");
    }
    return { ok: true, principalId: payload.principalId, statements: [statement as PolicyStatement].flat(), context: context as Record<string, unknown> };
  }
}

/** A Cognito user pools authorizer: the raw token in the Authorization header. */
export async function authorizeCognito(jwt: JwtAuthorizer, authorization: string | undefined, scopes: string[]): Promise<RestAuthorization> {
  if (!authorization) return { ...UNAUTHORIZED, reason: "no Authorization header" };
  const verdict = await jwt.verify(authorization, scopes);
  if (!verdict.ok) return { ...UNAUTHORIZED, reason: verdict.reason };
  const use = verdict.claims.token_use;
  if (scopes.length === 0 && use !== "id") return { ...UNAUTHORIZED, reason: `a method without scopes takes an ID token; this is an ${String(use)} token` };
  if (scopes.length > 0 && use !== "access") return { ...UNAUTHORIZED, reason: `a method with scopes takes an access token; this is an ${String(use)} token` };
  return { ok: true, authorizer: { claims: stringClaims(verdict.claims as Record<string, unknown>) }, cached: false };
}
