// The Lambda (REQUEST) authorizer of an HTTP API: its arguments and their checks, and the
// function, authorizer and invoke permission it becomes. ServerlessApi plans and creates it.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AuthorizerFunctionResources, createAuthorizerFunction, PlannedAuthorizerFunction, planAuthorizerFunction } from "./authorizer-function";
import { HTTP_API_AUTHORIZER_LIMITS } from "./limits";
import { SecureFunctionArgs } from "./secure-function";
import { ProblemCollector } from "./validation";

/** What an authorizer function returns. */
export const AuthorizerResponseType = {
  /** `{ isAuthorized: boolean, context?: { ... } }` (payload format 2.0 simple responses). */
  Simple: "simple",
} as const;
export type AuthorizerResponseType = (typeof AuthorizerResponseType)[keyof typeof AuthorizerResponseType];

/** A Lambda authorizer: the function that decides, and what API Gateway gives it and keeps. */
export interface LambdaAuthArgs extends SecureFunctionArgs {
  /**
   * Where the caller's identity is: `$request.header.<name>`, `$request.querystring.<name>`,
   * `$context.<variable>` or `$stageVariables.<name>`. A request missing any of them is
   * answered 401 without invoking the function; their values key the cache.
   * @default ["$request.header.Authorization"]
   */
  identitySources?: string[];
  /**
   * How long API Gateway caches a decision, per combination of identity source values, in
   * seconds, 0-3600; 0 invokes the function on every request. Caching needs at least one
   * identity source.
   * @default 300
   */
  resultTtlSeconds?: number;
  /**
   * What the function returns: `simple` is `{ isAuthorized, context }`. IAM policy
   * responses are not supported.
   * @default "simple"
   */
  responseType?: AuthorizerResponseType;
}

export const LAMBDA_AUTHORIZER_DEFAULTS = {
  identitySources: ["$request.header.Authorization"],
  resultTtlSeconds: 300,
  responseType: "simple",
} as const;

/** A checked authorizer: the function's name and arguments, and the authorizer's settings. */
export interface PlannedLambdaAuthorizer extends PlannedAuthorizerFunction {
  identitySources: string[];
  resultTtlSeconds: number;
}

/** The selection expressions an HTTP API accepts as identity sources. */
const IDENTITY_SOURCE_PATTERNS = [
  /^\$request\.header\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$/,
  /^\$request\.querystring\.[^\s&=#]+$/,
  /^\$context\.[A-Za-z][A-Za-z0-9_.]*$/,
  /^\$stageVariables\.[A-Za-z0-9_]+$/,
];

/** Why an identity source is not one an HTTP API accepts, or undefined. */
export function identitySourceProblem(source: unknown): string | undefined {
  if (typeof source === "string" && IDENTITY_SOURCE_PATTERNS.some((pattern) => pattern.test(source))) return undefined;
  return `${JSON.stringify(source)} is not an identity source; write $request.header.<name>, $request.querystring.<name>, $context.<variable> or $stageVariables.<name>, e.g. "$request.header.Authorization".`;
}

/** Checks `auth.lambda` (adding problems under `at`) and prepares its function. */
export function planLambdaAuthorizer(apiName: string, args: LambdaAuthArgs, at: string, problems: ProblemCollector): PlannedLambdaAuthorizer {
  const { identitySources: given, resultTtlSeconds: ttl, responseType, ...functionArgs } = args;
  const identitySources = given ?? [...LAMBDA_AUTHORIZER_DEFAULTS.identitySources];
  const resultTtlSeconds = ttl ?? LAMBDA_AUTHORIZER_DEFAULTS.resultTtlSeconds;
  const { resultTtlSeconds: ttlRange, timeoutSeconds } = HTTP_API_AUTHORIZER_LIMITS;

  problems.integerInRange(`${at}.resultTtlSeconds`, resultTtlSeconds, ttlRange.min, ttlRange.max, "seconds");
  problems.oneOf(`${at}.responseType`, responseType, Object.values(AuthorizerResponseType));
  if (!Array.isArray(identitySources)) {
    problems.add(`${at}.identitySources`, `${JSON.stringify(identitySources)} is not a list; write e.g. ["$request.header.Authorization"].`);
  } else {
    identitySources.forEach((source, index) => {
      const problem = identitySourceProblem(source);
      if (problem) problems.add(`${at}.identitySources[${index}]`, problem);
      else if (identitySources.indexOf(source) !== index) problems.add(`${at}.identitySources[${index}]`, `${JSON.stringify(source)} is listed twice; keep one.`);
    });
    if (identitySources.length === 0 && resultTtlSeconds > 0) {
      problems.add(`${at}.identitySources`, `is empty with resultTtlSeconds ${resultTtlSeconds}; API Gateway caches decisions by identity source values, so caching needs at least one: add one, e.g. "$request.header.Authorization", or set resultTtlSeconds: 0.`);
    }
  }
  const timeout = functionArgs.timeout;
  if (timeout !== undefined && timeout > timeoutSeconds) {
    problems.add(`${at}.timeout`, `${timeout} seconds is above the ${timeoutSeconds} s API Gateway waits for an authorizer (it then answers 500); lower it.`);
  }
  return { ...planAuthorizerFunction(apiName, functionArgs, at, problems), identitySources, resultTtlSeconds };
}

/** The children of an API's Lambda authorizer. */
export type LambdaAuthorizerResources = AuthorizerFunctionResources<aws.apigatewayv2.Authorizer>;

/** Creates the authorizer function, the REQUEST authorizer on `api`, and the permission scoped to that authorizer. */
export function createLambdaAuthorizer(name: string, planned: PlannedLambdaAuthorizer, api: aws.apigatewayv2.Api, parent: pulumi.Resource): LambdaAuthorizerResources {
  return createAuthorizerFunction(planned, api.executionArn, parent, (fn) => new aws.apigatewayv2.Authorizer(`${name}-lambda`, {
    apiId: api.id,
    name: "lambda",
    authorizerType: "REQUEST",
    authorizerUri: fn.invokeArn,
    authorizerPayloadFormatVersion: "2.0",
    enableSimpleResponses: true,
    identitySources: planned.identitySources,
    authorizerResultTtlInSeconds: planned.resultTtlSeconds,
  }, { parent }));
}
