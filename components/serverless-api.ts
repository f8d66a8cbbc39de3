import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { NAME_LIMITS, physicalName } from "./naming";
import { FunctionSettings, SecureFunction } from "./secure-function";
import { checkFunctionNames, createRouteFunctions, planRoutes, PlannedFunction, PlannedRoute, routeNamePart, RouteFunctionArgs } from "./routes";
import { checkTags, TaggableArgs, withTags } from "./tags";
import { componentType, withLegacyTypeAlias } from "./tokens";
import { checkCors, corsConfiguration, CORS_DEFAULTS, CorsArgs, PREFLIGHT_ROUTE } from "./cors";
import { HTTP_API_INTEGRATION_TIMEOUT_SECONDS } from "./limits";
import { checkedKmsKey, checkKmsKeyArn } from "./kms";
import { LOG_RETENTION_DAYS, ProblemCollector, ResolvedArgumentChecks } from "./validation";
import { createLambdaAuthorizer, LambdaAuthArgs, LambdaAuthorizerResources, planLambdaAuthorizer, PlannedLambdaAuthorizer } from "./lambda-authorizer";
import { ApiDomainArgs, ApiDomainResources, checkDomain, createApiDomain } from "./api-domain";

export { FunctionDefaults, functionNameForHandler, HTTP_METHODS, mergeFunctionArgs, routeKeyProblem, routeSourceArnPath } from "./routes";

/** Who may call a route. */
export const RouteAuth = {
  /** The API's JWT authorizer. */
  Jwt: "jwt",
  /** The API's Lambda authorizer. */
  Lambda: "lambda",
  /** AWS SigV4 (IAM) signatures. */
  Iam: "iam",
  /** Public, on purpose. */
  None: "none",
} as const;
export type RouteAuth = (typeof RouteAuth)[keyof typeof RouteAuth];
export const ROUTE_AUTH: readonly RouteAuth[] = Object.values(RouteAuth);

export { HTTP_API_INTEGRATION_TIMEOUT_SECONDS };
export { CorsArgs } from "./cors";
export { LambdaAuthArgs, AuthorizerResponseType, LAMBDA_AUTHORIZER_DEFAULTS } from "./lambda-authorizer";
export { ApiDomainArgs } from "./api-domain";

/** One route: the function that serves it and who may call it. */
export interface ApiRouteArgs extends RouteFunctionArgs {
  /**
   * How callers are authorized: `jwt` (the API's JWT authorizer), `lambda` (its Lambda
   * authorizer), `iam` (SigV4) or `none` (public, on purpose).
   * @default "jwt" when the API has a JWT authorizer; otherwise the route must say.
   */
  auth?: RouteAuth;
}

export interface JwtAuthArgs {
  /** The token issuer, e.g. `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  issuer: pulumi.Input<string>;
  /** Accepted audiences (`aud`, or `client_id` for Cognito access tokens). */
  audience: pulumi.Input<pulumi.Input<string>[]>;
}

export interface ApiAuthArgs {
  /** A JWT authorizer (Cognito or any OIDC issuer) reading the `Authorization` header. */
  jwt?: JwtAuthArgs;
  /**
   * A Lambda (REQUEST) authorizer: a SecureFunction of its own that answers `{ isAuthorized,
   * context }`; routes use it with `auth: "lambda"`, and its `context` reaches their
   * handlers as `event.requestContext.authorizer.lambda`.
   */
  lambda?: LambdaAuthArgs;
}

export interface ThrottleArgs {
  /** Steady-state requests per second across the stage. */
  rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  burstLimit: number;
}

/** The arguments of a {@link ServerlessApi}. */
export interface ServerlessApiArgs extends TaggableArgs {
  /**
   * Routes keyed `"METHOD /path"` (paths may hold `{param}` and a final `{proxy+}`) or
   * `"$default"`. Routes naming the same handler with the same settings share one function.
   */
  routes: Record<string, ApiRouteArgs>;
  /** Function settings for every route's function. */
  functionDefaults?: FunctionSettings;
  /** Authorizers the routes use. */
  auth?: ApiAuthArgs;
  /** CORS for browser clients. @default none (no CORS headers) */
  cors?: CorsArgs;
  /**
   * Throttling on the stage, always set: a runaway client cannot run up the bill.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  throttle?: ThrottleArgs;
  /**
   * How long access logs are kept, in days.
   * @default 30
   */
  accessLogRetentionDays?: number;
  /**
   * A customer-managed KMS key (its key ARN) that encrypts the access log group; its key
   * policy must let CloudWatch Logs use it. Route functions take theirs from
   * `functionDefaults.kmsKeyArn` (or a route's own).
   * @default none: CloudWatch Logs' own encryption
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * A custom domain name (regional, TLS 1.2) mapped to the `$default` stage.
   * @default none: only the execute-api URL
   */
  domain?: ApiDomainArgs;
}

export const SERVERLESS_API_DEFAULTS = {
  throttle: { rateLimit: 50, burstLimit: 100 },
  accessLogRetentionDays: 30,
  cors: CORS_DEFAULTS,
} as const;

/** The JSON access log line: one object per request. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  sourceIp: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationLatencyMs: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
  authorizerError: "$context.authorizer.error",
});

interface ApiPlan {
  functions: PlannedFunction[];
  routes: PlannedRoute<RouteAuth>[];
  throttle: ThrottleArgs;
  accessLogRetentionDays: number;
  lambdaAuthorizer?: PlannedLambdaAuthorizer;
}

/** Validates every route and groups them by handler; throws all problems at once. */
export function planApi(name: string, args: ServerlessApiArgs): ApiPlan {
  const problems = new ProblemCollector();
  const throttle = args.throttle ?? SERVERLESS_API_DEFAULTS.throttle;
  problems.integerInRange("throttle.rateLimit", throttle.rateLimit, 1, 10000, "requests per second");
  problems.integerInRange("throttle.burstLimit", throttle.burstLimit, 1, 5000, "requests");
  const accessLogRetentionDays = args.accessLogRetentionDays ?? SERVERLESS_API_DEFAULTS.accessLogRetentionDays;
  problems.oneOf("accessLogRetentionDays", accessLogRetentionDays, LOG_RETENTION_DAYS);
  checkKmsKeyArn("kmsKeyArn", args.kmsKeyArn, problems);
  checkTags("tags", args.tags, problems);
  if (args.cors) checkCors(args.cors, problems);
  if (args.auth?.jwt && (!args.auth.jwt.issuer || !args.auth.jwt.audience)) {
    problems.add("auth.jwt", "needs both issuer and audience.");
  }
  const lambdaAuthorizer = args.auth?.lambda && planLambdaAuthorizer(name, args.auth.lambda, "auth.lambda", problems);
  if (args.domain) checkDomain(args.domain, "domain", problems);

  const { functions, routes } = planRoutes<ApiRouteArgs, RouteAuth>(name, args.routes, args.functionDefaults, {
    integrationTimeoutSeconds: HTTP_API_INTEGRATION_TIMEOUT_SECONDS,
    integrationTimeoutOf: "the HTTP API's",
    authOf: (route, at) => {
      const auth = route.auth ?? (args.auth?.jwt ? "jwt" : undefined);
      if (auth === undefined) {
        problems.add(`${at}.auth`, "is not set and the API has no JWT authorizer; set auth: \"jwt\" (with auth.jwt on the API), \"lambda\" (with auth.lambda), \"iam\", or \"none\" for a public route.");
      } else if (!ROUTE_AUTH.includes(auth)) {
        problems.add(`${at}.auth`, `${JSON.stringify(auth)} is not allowed; use "jwt", "lambda", "iam" or "none".`);
      } else if (auth === "jwt" && !args.auth?.jwt) {
        problems.add(`${at}.auth`, "is \"jwt\" but the API has no JWT authorizer; add auth.jwt { issuer, audience } to the API.");
      } else if (auth === "lambda" && !args.auth?.lambda) {
        problems.add(`${at}.auth`, "is \"lambda\" but the API has no Lambda authorizer; add auth.lambda { handler } to the API.");
      }
      if (route.scopes?.length && auth !== "jwt") problems.add(`${at}.scopes`, "only apply to JWT routes; remove them or set auth: \"jwt\".");
      return auth;
    },
  }, problems);
  const defaultRoute = routes.find((route) => route.routeKey === "$default");
  if (args.cors && defaultRoute && defaultRoute.auth !== "none" && !routes.some((route) => route.routeKey === PREFLIGHT_ROUTE && route.auth === "none")) {
    problems.add("cors", `is set, but the $default route requires authorization and catches browsers' preflight OPTIONS requests, which carry no credentials, so they are refused; add a public ${JSON.stringify(PREFLIGHT_ROUTE)} route (auth: "none"), make $default public, or remove cors.`);
  }
  checkFunctionNames(functions, problems, lambdaAuthorizer ? [{ name: lambdaAuthorizer.functionName, handler: args.auth!.lambda!.handler }] : []);
  problems.throwIfAny("ServerlessApi", name);
  return { functions, routes, throttle, accessLogRetentionDays, lambdaAuthorizer };
}

/**
 * The route functions of each API. They live outside the class because Pulumi's schema
 * analyzer cannot describe a property whose type is one of our own components; a getter
 * keeps `api.functions` for TypeScript, and other languages see the AWS children.
 */
const routeFunctions = new WeakMap<ServerlessApi, Record<string, SecureFunction>>();
/** The Lambda authorizer's function of each API that has one (a SecureFunction, so kept outside the class as above). */
const authorizerFunctions = new WeakMap<ServerlessApi, SecureFunction>();
/** The custom domain's children of each API that has one (their record holds union types, which the analyzer refuses). */
const apiDomains = new WeakMap<ServerlessApi, ApiDomainResources>();

/**
 * An API Gateway HTTP API whose routes run SecureFunctions through Lambda proxy
 * integrations (payload format 2.0), with a JWT authorizer, CORS, stage throttling and
 * JSON access logs. Routes are authorized unless they say `auth: "none"`.
 */
export class ServerlessApi extends pulumi.ComponentResource {
  /** The HTTP API. */
  readonly api: aws.apigatewayv2.Api;
  /** The `$default` stage: auto-deploy, throttling, access logs. */
  readonly stage: aws.apigatewayv2.Stage;
  /** Where the JSON access logs go, with retention. */
  readonly accessLogGroup: aws.cloudwatch.LogGroup;
  /** The JWT authorizer, when the API has one. */
  readonly authorizer?: aws.apigatewayv2.Authorizer;
  /** The Lambda (REQUEST) authorizer, when the API has one. */
  readonly lambdaAuthorizer?: aws.apigatewayv2.Authorizer;
  /** The permission that lets this API's Lambda authorizer (and nothing else) invoke its function. */
  readonly lambdaAuthorizerPermission?: aws.lambda.Permission;
  /** The Lambda proxy integrations, by handler. */
  readonly integrations: Record<string, aws.apigatewayv2.Integration>;
  /** The routes, by route key. */
  readonly routes: Record<string, aws.apigatewayv2.Route>;
  /** The permissions that let this API invoke each route's function from that route only, by route key. */
  readonly permissions: Record<string, aws.lambda.Permission>;
  /** The base URL of the API, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  readonly url: pulumi.Output<string>;
  /** The API's URL on its custom domain, `https://<name>/<basePath>`, when `domain` is set. */
  readonly domainUrl?: pulumi.Output<string>;

  constructor(name: string, args: ServerlessApiArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = planApi(name, args);
    super(componentType("ServerlessApi"), name, {}, withTags("ServerlessApi", name, args.tags, withLegacyTypeAlias("ServerlessApi", opts)));
    const parent = { parent: this };
    const apiName = physicalName(name, NAME_LIMITS.httpApi);

    this.api = new aws.apigatewayv2.Api(name, {
      name: apiName,
      protocolType: "HTTP",
      corsConfiguration: args.cors ? corsConfiguration(args.cors) : undefined,
    }, parent);

    if (args.auth?.jwt) {
      this.authorizer = new aws.apigatewayv2.Authorizer(`${name}-jwt`, {
        apiId: this.api.id,
        name: "jwt",
        authorizerType: "JWT",
        identitySources: ["$request.header.Authorization"],
        jwtConfiguration: { issuer: args.auth.jwt.issuer, audiences: args.auth.jwt.audience },
      }, parent);
    }

    let lambdaAuth: LambdaAuthorizerResources | undefined;
    if (plan.lambdaAuthorizer) {
      lambdaAuth = createLambdaAuthorizer(name, plan.lambdaAuthorizer, this.api, this);
      authorizerFunctions.set(this, lambdaAuth.function);
      this.lambdaAuthorizer = lambdaAuth.authorizer;
      this.lambdaAuthorizerPermission = lambdaAuth.permission;
    }

    const { functions, permissions } = createRouteFunctions(plan.functions, this.api.executionArn, this);
    routeFunctions.set(this, functions);
    this.permissions = permissions;
    this.integrations = {};
    for (const planned of plan.functions) {
      this.integrations[planned.handler] = new aws.apigatewayv2.Integration(`${planned.name}-integration`, {
        apiId: this.api.id,
        integrationType: "AWS_PROXY",
        integrationUri: functions[planned.handler].targetArn,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: HTTP_API_INTEGRATION_TIMEOUT_SECONDS * 1000,
      }, parent);
    }

    this.routes = {};
    for (const route of plan.routes) {
      // Named by content, so reordering or adding routes replaces nothing.
      this.routes[route.routeKey] = new aws.apigatewayv2.Route(`${name}-route-${routeNamePart(route.routeKey)}`, {
        apiId: this.api.id,
        routeKey: route.routeKey,
        target: pulumi.interpolate`integrations/${this.integrations[route.handler].id}`,
        authorizationType: { jwt: "JWT", lambda: "CUSTOM", iam: "AWS_IAM", none: "NONE" }[route.auth],
        authorizerId: route.auth === "jwt" ? this.authorizer!.id : route.auth === "lambda" ? this.lambdaAuthorizer!.id : undefined,
        authorizationScopes: route.auth === "jwt" && route.scopes?.length ? route.scopes : undefined,
      }, parent);
    }

    this.accessLogGroup = new aws.cloudwatch.LogGroup(`${name}-access-logs`, {
      name: `/aws/apigateway/${apiName}`,
      retentionInDays: plan.accessLogRetentionDays,
      kmsKeyId: checkedKmsKey(new ResolvedArgumentChecks("ServerlessApi", name, this), "kmsKeyArn", args.kmsKeyArn),
    }, parent);

    this.stage = new aws.apigatewayv2.Stage(`${name}-stage`, {
      apiId: this.api.id,
      name: "$default",
      autoDeploy: true,
      accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: ACCESS_LOG_FORMAT },
      defaultRouteSettings: {
        throttlingRateLimit: plan.throttle.rateLimit,
        throttlingBurstLimit: plan.throttle.burstLimit,
        detailedMetricsEnabled: true,
      },
    }, { parent: this, dependsOn: [...Object.values(this.routes), ...Object.values(this.permissions), ...(lambdaAuth ? [lambdaAuth.permission] : [])] });

    this.url = this.stage.invokeUrl;
    if (args.domain) {
      const domain = createApiDomain(name, args.domain, { kind: "http", apiId: this.api.id, stageName: this.stage.name }, this);
      apiDomains.set(this, domain);
      this.domainUrl = domain.url;
    }
    this.registerOutputs({ url: this.url, apiId: this.api.id, ...(this.domainUrl ? { domainUrl: this.domainUrl } : {}) });
  }

  /** The route functions, by handler (TypeScript only). */
  get functions(): Record<string, SecureFunction> {
    return routeFunctions.get(this)!;
  }

  /** The custom domain's certificate (when created), domain name, mapping and records, when `domain` is set (TypeScript only). */
  get domain(): ApiDomainResources | undefined {
    return apiDomains.get(this);
  }

  /** The Lambda authorizer's function, when the API has one (TypeScript only). */
  get authorizerFunction(): SecureFunction | undefined {
    return authorizerFunctions.get(this);
  }
}
