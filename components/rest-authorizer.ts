// A REST API's Lambda authorizer (TOKEN or REQUEST): its own SecureFunction, the
// authorizer, and a permission that lets only this authorizer of this API invoke it.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AuthorizerFunctionResources, createAuthorizerFunction, PlannedAuthorizerFunction, planAuthorizerFunction } from "./authorizer-function";
import { REST_API_LIMITS } from "./limits";
import { FunctionDefaults, mergeFunctionArgs } from "./routes";
import { SecureFunctionArgs } from "./secure-function";
import { ProblemCollector } from "./validation";

/** What a REST Lambda authorizer receives: a token from one header, or the request's parts. */
export const LambdaAuthorizerType = {
  /** The value of one header (the identity source), as `authorizationToken`. */
  Token: "token",
  /** Headers, query string, stage variables and context, as REST events 1.0 carry them. */
  Request: "request",
} as const;
export type LambdaAuthorizerType = (typeof LambdaAuthorizerType)[keyof typeof LambdaAuthorizerType];

/** A Lambda authorizer of a REST API: the function that returns the IAM policy, and its caching. */
export interface RestLambdaAuthArgs extends SecureFunctionArgs {
  /**
   * `token` (one header's value) or `request` (the whole request).
   * @default "token"
   */
  type?: LambdaAuthorizerType;
  /**
   * Where the identity comes from, as API Gateway writes it: one header for `token`
   * (`method.request.header.Authorization`); for `request`, a comma-separated list of
   * `method.request.header.X`, `method.request.querystring.x`, `stageVariables.x` or
   * `context.x`. A request missing one of them is refused with 401 before the function runs.
   * @default "method.request.header.Authorization"
   */
  identitySource?: string;
  /**
   * For `token`: a regular expression the whole token must match; API Gateway answers 401
   * to one that does not, without invoking the function.
   * @default none: every token reaches the function
   */
  identityValidationExpression?: string;
  /**
   * How long API Gateway caches the authorizer's policy per identity, in seconds, 0-3600;
   * 0 turns caching off.
   * @default 300
   */
  resultTtlSeconds?: number;
}

export const REST_LAMBDA_AUTH_DEFAULTS = {
  type: "token",
  identitySource: "method.request.header.Authorization",
  resultTtlSeconds: 300,
} as const;

const AUTHORIZER_FIELDS = ["type", "identitySource", "identityValidationExpression", "resultTtlSeconds"] as const;
const TOKEN_SOURCE = /^method\.request\.header\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const REQUEST_SOURCE = /^(method\.request\.(header|querystring)\.[A-Za-z0-9!#$%&'*+.^_`|~-]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$/;

/** A validated authorizer: its function's child name and settings, and how it is called. */
export interface PlannedLambdaAuthorizer extends PlannedAuthorizerFunction {
  type: LambdaAuthorizerType;
  identitySource: string;
  resultTtlSeconds: number;
  identityValidationExpression?: string;
}

/** Checks `auth.lambda` and prepares its function (merged with the API's `functionDefaults`). */
export function planLambdaAuthorizer(apiName: string, args: RestLambdaAuthArgs, defaults: FunctionDefaults | undefined, at: string, problems: ProblemCollector): PlannedLambdaAuthorizer {
  const type = args.type ?? REST_LAMBDA_AUTH_DEFAULTS.type;
  const identitySource = args.identitySource ?? REST_LAMBDA_AUTH_DEFAULTS.identitySource;
  const resultTtlSeconds = args.resultTtlSeconds ?? REST_LAMBDA_AUTH_DEFAULTS.resultTtlSeconds;
  problems.oneOf(`${at}.type`, type, Object.values(LambdaAuthorizerType));
  const { min, max } = REST_API_LIMITS.authorizerTtlSeconds;
  problems.integerInRange(`${at}.resultTtlSeconds`, resultTtlSeconds, min, max, "seconds");
  if (type === "token" && !TOKEN_SOURCE.test(identitySource)) {
    problems.add(`${at}.identitySource`, `${JSON.stringify(identitySource)} is not one header; a token authorizer reads one, e.g. "method.request.header.Authorization".`);
  } else if (type === "request" && !identitySource.split(",").every((source) => REQUEST_SOURCE.test(source.trim()))) {
    problems.add(`${at}.identitySource`, `${JSON.stringify(identitySource)} is not a comma-separated list of method.request.header.X, method.request.querystring.x, stageVariables.x or context.x; write e.g. "method.request.header.Authorization, method.request.querystring.tenant".`);
  }
  const expression = args.identityValidationExpression;
  if (expression !== undefined) {
    if (type !== "token") problems.add(`${at}.identityValidationExpression`, "applies to token authorizers only; remove it or set type: \"token\".");
    try {
      new RegExp(expression);
    } catch (error) {
      problems.add(`${at}.identityValidationExpression`, `${JSON.stringify(expression)} is not a regular expression (${(error as Error).message}); write e.g. "^Bearer [-0-9a-zA-Z._]+$".`);
    }
  }
  const functionArgs = mergeFunctionArgs(defaults, args, AUTHORIZER_FIELDS);
  return { ...planAuthorizerFunction(apiName, functionArgs, at, problems), type, identitySource, resultTtlSeconds, ...(expression !== undefined ? { identityValidationExpression: expression } : {}) };
}

/** The authorizer's children. */
export type RestLambdaAuthorizerResources = AuthorizerFunctionResources<aws.apigateway.Authorizer>;

/** Creates the authorizer's function, the authorizer, and the permission scoped to that authorizer. */
export function createRestLambdaAuthorizer(
  name: string,
  planned: PlannedLambdaAuthorizer,
  restApi: aws.apigateway.RestApi,
  parent: pulumi.Resource,
): RestLambdaAuthorizerResources {
  return createAuthorizerFunction(planned, restApi.executionArn, parent, (fn) => new aws.apigateway.Authorizer(`${name}-lambda-authorizer`, {
    restApi: restApi.id,
    name: "lambda",
    type: planned.type === "token" ? "TOKEN" : "REQUEST",
    authorizerUri: fn.invokeArn,
    identitySource: planned.identitySource,
    identityValidationExpression: planned.identityValidationExpression,
    authorizerResultTtlInSeconds: planned.resultTtlSeconds,
  }, { parent }));
}
