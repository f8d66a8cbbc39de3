import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { NAME_LIMITS, physicalName, shortHash, slugify } from "./naming";
import { FunctionSettings, prepareFunction, SECURE_FUNCTION_DEFAULTS, SecureFunction, SecureFunctionArgs } from "./secure-function";
import { checkTags, TaggableArgs, withTags } from "./tags";
import { componentType, withLegacyTypeAlias } from "./tokens";
import { checkCors, corsConfiguration, CORS_DEFAULTS, CorsArgs, PREFLIGHT_ROUTE } from "./cors";
import { HTTP_API_INTEGRATION_TIMEOUT_SECONDS } from "./limits";
import { checkedKmsKey, checkKmsKeyArn } from "./kms";
import { LOG_RETENTION_DAYS, ProblemCollector, ResolvedArgumentChecks, withoutUndefined } from "./validation";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;

/** Who may call a route. */
export const RouteAuth = {
  /** The API's JWT authorizer. */
  Jwt: "jwt",
  /** AWS SigV4 (IAM) signatures. */
  Iam: "iam",
  /** Public, on purpose. */
  None: "none",
} as const;
export type RouteAuth = (typeof RouteAuth)[keyof typeof RouteAuth];
export const ROUTE_AUTH: readonly RouteAuth[] = Object.values(RouteAuth);

export { HTTP_API_INTEGRATION_TIMEOUT_SECONDS };
export { CorsArgs } from "./cors";

/** One route: the function that serves it and who may call it. */
export interface ApiRouteArgs extends SecureFunctionArgs {
  /**
   * How callers are authorized: `jwt` (the API's JWT authorizer), `iam` (SigV4) or
   * `none` (public, on purpose).
   * @default "jwt" when the API has a JWT authorizer; otherwise the route must say.
   */
  auth?: RouteAuth;
  /** OAuth scopes a JWT route requires, e.g. `["orders/read"]`. */
  scopes?: string[];
}

/** Function settings applied to every route's function; a route's own settings win. */
export type FunctionDefaults = FunctionSettings;

export interface JwtAuthArgs {
  /** The token issuer, e.g. `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  issuer: pulumi.Input<string>;
  /** Accepted audiences (`aud`, or `client_id` for Cognito access tokens). */
  audience: pulumi.Input<pulumi.Input<string>[]>;
}

export interface ApiAuthArgs {
  /** A JWT authorizer (Cognito or any OIDC issuer) reading the `Authorization` header. */
  jwt?: JwtAuthArgs;
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

const ROUTE_KEY_PATTERN = /^([A-Z]+) (\/.*)$/;
const PATH_SEGMENT_PATTERN = /^(\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\}|[A-Za-z0-9._~\-:@!$&'()*,;=]+)$/;

/** Why a route key is invalid, or undefined when it is valid. */
export function routeKeyProblem(routeKey: string): string | undefined {
  if (routeKey === "$default") return undefined;
  const match = ROUTE_KEY_PATTERN.exec(routeKey);
  const expected = `write "METHOD /path" with METHOD one of ${HTTP_METHODS.join(" ")}, or "$default"`;
  if (!match) return `is not a route key; ${expected}.`;
  if (!(HTTP_METHODS as readonly string[]).includes(match[1])) return `has method ${match[1]}; ${expected}.`;
  if (match[2] === "/") return undefined;
  const segments = match[2].slice(1).split("/");
  for (const [index, segment] of segments.entries()) {
    if (!PATH_SEGMENT_PATTERN.test(segment)) return `has path segment ${JSON.stringify(segment)}; use literal text, {param} or a final {proxy+}.`;
    if (segment.endsWith("+}") && index !== segments.length - 1) return "has a greedy {param+} that is not the last segment; move it to the end.";
  }
  return undefined;
}

/**
 * What follows `<executionArn>/<stage>/` in the ARN API Gateway invokes a route's function
 * from: `POST /orders` is `POST/orders`, a `{param}` or `{proxy+}` is `*`, `ANY` is any
 * method (`*`), and `$default` is `$default`.
 */
export function routeSourceArnPath(routeKey: string): string {
  if (routeKey === "$default") return "$default";
  const [method, path] = routeKey.split(" ");
  return `${method === "ANY" ? "*" : method}${path.replace(/\{[^}]*\}/g, "*")}`;
}

/** The part of a per-route child's name that names the route: readable, and unique by its hash. */
function routeNamePart(routeKey: string): string {
  return `${slugify(routeKey) || "root"}-${shortHash(routeKey, 6)}`;
}

/** A route's method and path with its parameters' names left out: what API Gateway tells routes apart by. */
function routeShape(routeKey: string): string {
  return routeKey.replace(/\{[^}]*?(\+?)\}/g, "{$1}");
}

/** True when two argument values are the same: equal plain data, or the very same Output. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (pulumi.Output.isInstance(a) || pulumi.Output.isInstance(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a).filter((k) => (a as any)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as any)[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k) => sameValue((a as any)[k], (b as any)[k]));
}

/** A route's function settings: the API's defaults, then the route's own (maps merged). */
export function mergeFunctionArgs(defaults: FunctionDefaults | undefined, route: ApiRouteArgs): SecureFunctionArgs {
  const { auth: _auth, scopes: _scopes, ...own } = route;
  const merged: SecureFunctionArgs = { ...defaults, ...withoutUndefined(own) } as SecureFunctionArgs;
  for (const map of ["environment", "parameters", "secrets"] as const) {
    if (defaults?.[map] || own[map]) merged[map] = { ...defaults?.[map], ...own[map] };
  }
  if (defaults?.permissions || own.permissions) merged.permissions = [...(defaults?.permissions ?? []), ...(own.permissions ?? [])];
  return merged;
}

/** A function shared by all routes that name its handler. */
interface PlannedFunction {
  handler: string;
  /** Child name: the API's name and a slug of the handler. */
  name: string;
  args: SecureFunctionArgs;
  routeKeys: string[];
}

interface PlannedRoute {
  routeKey: string;
  auth: RouteAuth;
  scopes?: string[];
  handler: string;
}

interface ApiPlan {
  functions: PlannedFunction[];
  routes: PlannedRoute[];
  throttle: ThrottleArgs;
  accessLogRetentionDays: number;
}

/** The name of a handler's function inside an API: readable, and stable while the handler is. */
export function functionNameForHandler(apiName: string, handler: string): string {
  const withoutRoot = handler.replace(/^(\.\/)?handlers\//, "");
  const [modulePath, exportName] = [withoutRoot.slice(0, withoutRoot.lastIndexOf(".")), withoutRoot.slice(withoutRoot.lastIndexOf(".") + 1)];
  const slug = slugify(exportName === "handler" ? modulePath.split("/").pop()! : `${modulePath.split("/").pop()}-${exportName}`);
  return `${apiName}-${slug}`;
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

  const routeEntries = Object.entries(args.routes ?? {});
  if (routeEntries.length === 0) problems.add("routes", "is empty; add at least one route, e.g. \"GET /health\".");

  const functions = new Map<string, PlannedFunction>();
  const routes: PlannedRoute[] = [];
  for (const [routeKey, route] of routeEntries) {
    const at = `routes[${JSON.stringify(routeKey)}]`;
    const keyProblem = routeKeyProblem(routeKey);
    if (keyProblem) problems.add(at, keyProblem);

    const auth = route.auth ?? (args.auth?.jwt ? "jwt" : undefined);
    if (auth === undefined) {
      problems.add(`${at}.auth`, "is not set and the API has no JWT authorizer; set auth: \"jwt\" (with auth.jwt on the API), \"iam\", or \"none\" for a public route.");
    } else if (!ROUTE_AUTH.includes(auth)) {
      problems.add(`${at}.auth`, `${JSON.stringify(auth)} is not allowed; use "jwt", "iam" or "none".`);
    } else if (auth === "jwt" && !args.auth?.jwt) {
      problems.add(`${at}.auth`, "is \"jwt\" but the API has no JWT authorizer; add auth.jwt { issuer, audience } to the API.");
    }
    if (route.scopes?.length && auth !== "jwt") problems.add(`${at}.scopes`, "only apply to JWT routes; remove them or set auth: \"jwt\".");

    const functionArgs = mergeFunctionArgs(args.functionDefaults, route);
    const timeout = functionArgs.timeout ?? SECURE_FUNCTION_DEFAULTS.timeout;
    if (timeout > HTTP_API_INTEGRATION_TIMEOUT_SECONDS) {
      problems.add(`${at}.timeout`, `${timeout} seconds is above the HTTP API's ${HTTP_API_INTEGRATION_TIMEOUT_SECONDS} s integration limit; lower it, or move long work to a QueueWorker.`);
    }
    const existing = functions.get(route.handler);
    if (existing) {
      if (!sameValue(existing.args, functionArgs)) {
        problems.add(at, `uses handler ${JSON.stringify(route.handler)} with other function settings than ${existing.routeKeys.map((k) => JSON.stringify(k)).join(", ")}; give them the same settings (they share one function) or use separate handlers.`);
      }
      existing.routeKeys.push(routeKey);
    } else {
      // Validates and bundles now, so a bad handler fails before anything is registered.
      const functionName = functionNameForHandler(name, route.handler);
      prepareFunction(functionName, functionArgs, at, problems);
      functions.set(route.handler, { handler: route.handler, name: functionName, args: functionArgs, routeKeys: [routeKey] });
    }
    routes.push({ routeKey, auth: auth ?? "none", scopes: route.scopes, handler: route.handler });
  }
  const byShape = new Map<string, string>();
  for (const { routeKey } of routes) {
    const same = byShape.get(routeShape(routeKey));
    if (same) problems.add(`routes[${JSON.stringify(routeKey)}]`, `differs from ${JSON.stringify(same)} only in a parameter's name, and API Gateway refuses two such routes; keep one of them (one name per parameter).`);
    else byShape.set(routeShape(routeKey), routeKey);
  }
  const defaultRoute = routes.find((route) => route.routeKey === "$default");
  if (args.cors && defaultRoute && defaultRoute.auth !== "none" && !routes.some((route) => route.routeKey === PREFLIGHT_ROUTE && route.auth === "none")) {
    problems.add("cors", `is set, but the $default route requires authorization and catches browsers' preflight OPTIONS requests, which carry no credentials, so they are refused; add a public ${JSON.stringify(PREFLIGHT_ROUTE)} route (auth: "none"), make $default public, or remove cors.`);
  }
  const byName = new Map<string, string>();
  for (const fn of functions.values()) {
    const other = byName.get(fn.name);
    if (other) problems.add("routes", `handlers ${JSON.stringify(other)} and ${JSON.stringify(fn.handler)} would both be named ${JSON.stringify(fn.name)}; rename one of the files or exports.`);
    byName.set(fn.name, fn.handler);
  }
  problems.throwIfAny("ServerlessApi", name);
  return { functions: [...functions.values()], routes, throttle, accessLogRetentionDays };
}

/**
 * The route functions of each API. They live outside the class because Pulumi's schema
 * analyzer cannot describe a property whose type is one of our own components; a getter
 * keeps `api.functions` for TypeScript, and other languages see the AWS children.
 */
const routeFunctions = new WeakMap<ServerlessApi, Record<string, SecureFunction>>();

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
  /** The Lambda proxy integrations, by handler. */
  readonly integrations: Record<string, aws.apigatewayv2.Integration>;
  /** The routes, by route key. */
  readonly routes: Record<string, aws.apigatewayv2.Route>;
  /** The permissions that let this API invoke each route's function from that route only, by route key. */
  readonly permissions: Record<string, aws.lambda.Permission>;
  /** The base URL of the API, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  readonly url: pulumi.Output<string>;

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

    const functions: Record<string, SecureFunction> = {};
    routeFunctions.set(this, functions);
    this.integrations = {};
    this.permissions = {};
    for (const planned of plan.functions) {
      const fn = new SecureFunction(planned.name, planned.args, parent);
      functions[planned.handler] = fn;
      this.integrations[planned.handler] = new aws.apigatewayv2.Integration(`${planned.name}-integration`, {
        apiId: this.api.id,
        integrationType: "AWS_PROXY",
        integrationUri: fn.targetArn,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: HTTP_API_INTEGRATION_TIMEOUT_SECONDS * 1000,
      }, parent);
      // One per route, so a function shared by routes is invocable by exactly those routes.
      for (const routeKey of planned.routeKeys) {
        this.permissions[routeKey] = new aws.lambda.Permission(`${planned.name}-invoke-${routeNamePart(routeKey)}`, {
          action: "lambda:InvokeFunction",
          function: fn.name,
          qualifier: fn.qualifier,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${this.api.executionArn}/*/${routeSourceArnPath(routeKey)}`,
        }, parent);
      }
    }

    this.routes = {};
    for (const route of plan.routes) {
      // Named by content, so reordering or adding routes replaces nothing.
      this.routes[route.routeKey] = new aws.apigatewayv2.Route(`${name}-route-${routeNamePart(route.routeKey)}`, {
        apiId: this.api.id,
        routeKey: route.routeKey,
        target: pulumi.interpolate`integrations/${this.integrations[route.handler].id}`,
        authorizationType: { jwt: "JWT", iam: "AWS_IAM", none: "NONE" }[route.auth],
        authorizerId: route.auth === "jwt" ? this.authorizer!.id : undefined,
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
    }, { parent: this, dependsOn: [...Object.values(this.routes), ...Object.values(this.permissions)] });

    this.url = this.stage.invokeUrl;
    this.registerOutputs({ url: this.url, apiId: this.api.id });
  }

  /** The route functions, by handler (TypeScript only). */
  get functions(): Record<string, SecureFunction> {
    return routeFunctions.get(this)!;
  }
}
