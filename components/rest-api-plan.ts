// RestApi's arguments validated at construction, the resource tree its routes need, and
// the digest of its definition that decides when a new deployment is made.
import { createHash } from "crypto";
import { checkDomain } from "./api-domain";
import { ARN_PARTITION } from "./arns";
import { checkKmsKeyArn } from "./kms";
import { QUOTA_PERIOD_OFFSETS, REST_API_INTEGRATION_TIMEOUT_SECONDS, REST_API_LIMITS } from "./limits";
import { checkFunctionNames, PlannedFunction, PlannedRoute, planRoutes } from "./routes";
import { planLambdaAuthorizer, PlannedLambdaAuthorizer } from "./rest-authorizer";
import { checkTags } from "./tags";
import type { RestApiArgs, RestRouteArgs, RestRouteAuth, UsagePlanArgs } from "./rest-api";
import type { ThrottleArgs } from "./serverless-api";
import { LOG_RETENTION_DAYS, ProblemCollector } from "./validation";

export const REST_API_DEFAULTS = {
  stageName: "v1",
  throttle: { rateLimit: 50, burstLimit: 100 },
  accessLogRetentionDays: 30,
  tracing: true,
  endpointType: "regional",
  accountCloudWatchRole: false,
} as const;

const REST_ROUTE_AUTH: readonly RestRouteAuth[] = ["cognito", "lambda", "iam", "none"];
const NOT_FUNCTION_SETTINGS = ["auth", "scopes", "apiKeyRequired", "requestSchema", "requestParameters"] as const;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const REQUEST_PARAMETER = /^method\.request\.(querystring|header|path)\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const REGIONAL_WEB_ACL_ARN = new RegExp(`^arn:${ARN_PARTITION}:wafv2:[a-z0-9-]+:\\d{12}:regional/webacl/[^/]+/[^/]+$`);

/** One REST route as validated, with what its method needs beyond auth. */
export interface PlannedRestRoute extends PlannedRoute<RestRouteAuth> {
  method: string;
  /** The path, `/` for the root. */
  path: string;
  apiKeyRequired: boolean;
  requestSchema?: string;
  requestParameters?: Record<string, boolean>;
}

/** One API Gateway resource: a path segment below its parent's path. */
export interface PlannedResource {
  path: string;
  parentPath: string;
  pathPart: string;
}

export interface RestApiPlan {
  functions: PlannedFunction[];
  routes: PlannedRestRoute[];
  /** Every resource below the root, parents first. */
  resources: PlannedResource[];
  lambdaAuthorizer?: PlannedLambdaAuthorizer;
  usagePlans: Record<string, UsagePlanArgs>;
  /** Each key once, with the plans it belongs to. */
  apiKeys: Record<string, string[]>;
  stageName: string;
  throttle: ThrottleArgs;
  accessLogRetentionDays: number;
  tracing: boolean;
}

/**
 * The resources the routes' paths need, each once (routes share their common prefixes), or
 * a problem for two parameters of different names at the same place (API Gateway allows
 * one variable path part per parent).
 */
export function resourceTree(paths: readonly string[], problems: ProblemCollector): PlannedResource[] {
  const resources = new Map<string, PlannedResource>();
  const variableChild = new Map<string, string>();
  for (const path of paths) {
    if (path === "/") continue;
    let parentPath = "/";
    for (const pathPart of path.slice(1).split("/")) {
      const current = parentPath === "/" ? `/${pathPart}` : `${parentPath}/${pathPart}`;
      if (pathPart.startsWith("{")) {
        const other = variableChild.get(parentPath);
        if (other !== undefined && other !== pathPart) {
          problems.add("routes", `${JSON.stringify(pathPart)} and ${JSON.stringify(other)} both follow ${JSON.stringify(parentPath)}, and a REST API allows one path parameter per place; give them the same name.`);
        }
        variableChild.set(parentPath, pathPart);
      }
      if (!resources.has(current)) resources.set(current, { path: current, parentPath, pathPart });
      parentPath = current;
    }
  }
  return [...resources.values()];
}

/** JSON with object keys sorted, so equal definitions give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, field]) => field !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The digest of an API's resolved definition (routes, integrations, authorizers, models, policy). */
export function definitionDigest(definition: unknown): string {
  return createHash("sha256").update(canonicalJson(definition)).digest("hex");
}

function checkRequestSchema(at: string, schema: string, problems: ProblemCollector): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
  } catch (error) {
    problems.add(at, `is not JSON (${(error as Error).message}); pass a JSON Schema draft 4 document, e.g. JSON.stringify({ type: "object", required: ["sku"] }).`);
    return;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    problems.add(at, `is ${JSON.stringify(parsed)}, not a JSON Schema object; pass e.g. JSON.stringify({ type: "object", required: ["sku"] }).`);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function checkUsagePlans(usagePlans: Record<string, UsagePlanArgs>, problems: ProblemCollector): Record<string, string[]> {
  const plansOfKey: Record<string, string[]> = {};
  // A string or a list would be read as plans named by its indexes, keys named by its characters.
  if (!isRecord(usagePlans)) {
    problems.add("usagePlans", `${JSON.stringify(usagePlans)} is not a map of plans by name; write e.g. { gold: { apiKeys: ["acme"] } }.`);
    return plansOfKey;
  }
  const planNames = Object.keys(usagePlans);
  if (planNames.length > REST_API_LIMITS.usagePlansPerAccount) {
    problems.add("usagePlans", `has ${planNames.length} plans, above the ${REST_API_LIMITS.usagePlansPerAccount} usage plans an account may have per Region; merge plans or ask AWS for more.`);
  }
  for (const [plan, args] of Object.entries(usagePlans)) {
    const at = `usagePlans[${JSON.stringify(plan)}]`;
    if (!NAME_PATTERN.test(plan)) problems.add(at, "is not a plan name; use 1-64 letters, digits, - or _.");
    if (!isRecord(args)) {
      problems.add(at, `${JSON.stringify(args)} is not a usage plan; write e.g. { apiKeys: ["acme"] }.`);
      continue;
    }
    if (args.throttle) {
      for (const field of ["rateLimit", "burstLimit"] as const) {
        const value = args.throttle[field];
        if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (field === "burstLimit" && !Number.isInteger(value))) {
          problems.add(`${at}.throttle.${field}`, `${value} is not ${field === "burstLimit" ? "a whole number" : "a number"} of 0 or more; use e.g. ${field === "rateLimit" ? 10 : 20}.`);
        }
      }
    }
    if (args.quota) {
      const { limit, period, offset = 0 } = args.quota;
      if (!Number.isInteger(limit) || limit < 0) problems.add(`${at}.quota.limit`, `${limit} is not a whole number of 0 or more requests; use e.g. 10000.`);
      if (!Object.hasOwn(QUOTA_PERIOD_OFFSETS, period)) {
        problems.oneOf(`${at}.quota.period`, period, Object.keys(QUOTA_PERIOD_OFFSETS));
      } else {
        problems.integerInRange(`${at}.quota.offset`, offset, 0, QUOTA_PERIOD_OFFSETS[period as keyof typeof QUOTA_PERIOD_OFFSETS], `days into the ${period}`);
      }
    }
    if (!Array.isArray(args.apiKeys)) {
      const example = `[${JSON.stringify(typeof args.apiKeys === "string" ? args.apiKeys : "acme")}]`;
      problems.add(`${at}.apiKeys`, args.apiKeys === undefined ? `is required; name the plan's keys, e.g. ${example}.` : `${JSON.stringify(args.apiKeys)} is not a list of key names; write e.g. ${example}.`);
      continue;
    }
    const keys = args.apiKeys;
    if (new Set(keys).size !== keys.length) problems.add(`${at}.apiKeys`, "names a key twice; name each once.");
    for (const key of new Set(keys)) {
      if (!NAME_PATTERN.test(key)) problems.add(`${at}.apiKeys`, `${JSON.stringify(key)} is not a key name; use 1-64 letters, digits, - or _.`);
      (plansOfKey[key] ??= []).push(plan);
    }
  }
  for (const [key, plans] of Object.entries(plansOfKey)) {
    if (plans.length > REST_API_LIMITS.usagePlansPerApiKey) {
      problems.add("usagePlans", `key ${JSON.stringify(key)} is in ${plans.length} plans, above the ${REST_API_LIMITS.usagePlansPerApiKey} an API key may belong to; keep it in fewer.`);
    }
  }
  if (Object.keys(plansOfKey).length > REST_API_LIMITS.apiKeysPerAccount) {
    problems.add("usagePlans", `names ${Object.keys(plansOfKey).length} keys, above the ${REST_API_LIMITS.apiKeysPerAccount} API keys an account may have per Region.`);
  }
  return plansOfKey;
}

/** Validates every argument of a RestApi and plans its children; throws all problems at once. */
export function planRestApi(name: string, args: RestApiArgs): RestApiPlan {
  const problems = new ProblemCollector();
  const stageName = args.stageName ?? REST_API_DEFAULTS.stageName;
  if (!STAGE_NAME.test(stageName)) problems.add("stageName", `${JSON.stringify(stageName)} is not a stage name; use 1-128 letters, digits, - or _.`);
  const throttle = args.throttle ?? REST_API_DEFAULTS.throttle;
  problems.integerInRange("throttle.rateLimit", throttle.rateLimit, 1, REST_API_LIMITS.throttle.rateLimit, "requests per second");
  problems.integerInRange("throttle.burstLimit", throttle.burstLimit, 1, REST_API_LIMITS.throttle.burstLimit, "requests");
  const accessLogRetentionDays = args.accessLogRetentionDays ?? REST_API_DEFAULTS.accessLogRetentionDays;
  problems.oneOf("accessLogRetentionDays", accessLogRetentionDays, LOG_RETENTION_DAYS);
  checkKmsKeyArn("kmsKeyArn", args.kmsKeyArn, problems);

  const cognito = args.auth?.cognito;
  if (cognito && !cognito.userPoolArns) problems.add("auth.cognito.userPoolArns", "is not set; pass the user pools whose tokens are accepted, e.g. [pool.arn].");
  if (Array.isArray(cognito?.userPoolArns) && cognito.userPoolArns.length === 0) problems.add("auth.cognito.userPoolArns", "is empty; pass at least one user pool ARN, e.g. [pool.arn].");
  const lambdaAuthorizer = args.auth?.lambda ? planLambdaAuthorizer(name, args.auth.lambda, args.functionDefaults, "auth.lambda", problems) : undefined;
  const defaultAuth: RestRouteAuth | undefined = cognito ? "cognito" : lambdaAuthorizer ? "lambda" : undefined;

  const usagePlans = args.usagePlans ?? {};
  const apiKeys = checkUsagePlans(usagePlans, problems);

  const { functions, routes } = planRoutes<RestRouteArgs, RestRouteAuth>(name, args.routes, args.functionDefaults, {
    integrationTimeoutSeconds: REST_API_INTEGRATION_TIMEOUT_SECONDS,
    integrationTimeoutOf: "the REST API's",
    omit: NOT_FUNCTION_SETTINGS,
    keyProblem: (routeKey) => (routeKey === "$default" ? "is an HTTP API route; a REST API has no $default: write \"ANY /{proxy+}\" (and \"ANY /\" for the root)." : undefined),
    authOf: (route, at) => {
      const auth = route.auth ?? defaultAuth;
      if (auth === undefined) {
        problems.add(`${at}.auth`, "is not set and the API has no authorizer; set auth: \"cognito\" (with auth.cognito on the API), \"lambda\" (with auth.lambda), \"iam\", or \"none\" for a public route.");
      } else if (!REST_ROUTE_AUTH.includes(auth)) {
        problems.add(`${at}.auth`, `${JSON.stringify(auth)} is not allowed; use "cognito", "lambda", "iam" or "none".`);
      } else if (auth === "cognito" && !cognito) {
        problems.add(`${at}.auth`, "is \"cognito\" but the API has no Cognito authorizer; add auth.cognito { userPoolArns } to the API.");
      } else if (auth === "lambda" && !args.auth?.lambda) {
        problems.add(`${at}.auth`, "is \"lambda\" but the API has no Lambda authorizer; add auth.lambda { handler } to the API.");
      }
      if (route.scopes?.length && auth !== "cognito") problems.add(`${at}.scopes`, "only apply to Cognito routes; remove them or set auth: \"cognito\".");
      if (route.apiKeyRequired && Object.keys(usagePlans).length === 0) {
        problems.add(`${at}.apiKeyRequired`, "is true but the API has no usage plans, so no key could ever call it; add usagePlans { <plan>: { apiKeys: [...] } } or remove apiKeyRequired.");
      }
      return auth;
    },
  }, problems);

  const restRoutes: PlannedRestRoute[] = routes.map((route) => {
    const args_ = args.routes[route.routeKey];
    const [method, path = "/"] = route.routeKey.split(" ");
    const at = `routes[${JSON.stringify(route.routeKey)}]`;
    if (args_.requestSchema !== undefined) {
      if (method === "GET" || method === "HEAD") problems.add(`${at}.requestSchema`, `applies to a request body, which a ${method} request has none of; remove it, or validate the query string with requestParameters.`);
      else checkRequestSchema(`${at}.requestSchema`, args_.requestSchema, problems);
    }
    for (const parameter of Object.keys(args_.requestParameters ?? {})) {
      if (!REQUEST_PARAMETER.test(parameter)) problems.add(`${at}.requestParameters`, `${JSON.stringify(parameter)} is not method.request.querystring.<name>, method.request.header.<name> or method.request.path.<name>.`);
    }
    return { ...route, method, path, apiKeyRequired: args_.apiKeyRequired ?? false, requestSchema: args_.requestSchema, requestParameters: args_.requestParameters };
  });
  const resources = resourceTree(restRoutes.map((route) => route.path), problems);
  if (resources.length + 1 > REST_API_LIMITS.resourcesPerApi) {
    problems.add("routes", `need ${resources.length + 1} resources (path segments, the root included), above the ${REST_API_LIMITS.resourcesPerApi} a REST API may have; share path prefixes, use a {proxy+} route, or ask AWS for more.`);
  }
  if (lambdaAuthorizer && functions.some((fn) => fn.name === lambdaAuthorizer.functionName)) {
    problems.add("auth.lambda", `its function would be named ${JSON.stringify(lambdaAuthorizer.functionName)}, as a route's handler's is; rename that handler.`);
  }
  checkFunctionNames(functions, problems);
  checkEndpoint(args, problems);
  checkWaf(args, problems);
  if (args.domain) checkDomain(args.domain, "domain", problems);
  checkTags("tags", args.tags, problems);
  problems.throwIfAny("RestApi", name);
  return {
    functions, routes: restRoutes, resources, lambdaAuthorizer, usagePlans, apiKeys, stageName, throttle, accessLogRetentionDays,
    tracing: args.tracing ?? REST_API_DEFAULTS.tracing,
  };
}

function checkEndpoint(args: RestApiArgs, problems: ProblemCollector): void {
  const endpointType = args.endpointType ?? REST_API_DEFAULTS.endpointType;
  problems.oneOf("endpointType", endpointType, ["regional", "private"]);
  if (endpointType === "private") {
    if (!args.vpcEndpointIds || (Array.isArray(args.vpcEndpointIds) && args.vpcEndpointIds.length === 0)) {
      problems.add("vpcEndpointIds", "is empty but endpointType is \"private\", which only execute-api VPC endpoints can reach; pass their ids, e.g. [endpoint.id].");
    }
    if (args.resourcePolicy !== undefined) {
      problems.add("resourcePolicy", "is set with endpointType \"private\", whose policy the component writes (allowing only vpcEndpointIds); remove it.");
    }
  } else if (args.vpcEndpointIds !== undefined) {
    problems.add("vpcEndpointIds", "apply only to endpointType \"private\"; remove them or set endpointType: \"private\".");
  }
  if (typeof args.resourcePolicy === "string") {
    let parsed: any;
    try {
      parsed = JSON.parse(args.resourcePolicy);
    } catch (error) {
      problems.add("resourcePolicy", `is not JSON (${(error as Error).message}); pass an IAM policy document, e.g. JSON.stringify({ Version: "2012-10-17", Statement: [...] }).`);
    }
    if (parsed !== undefined && (!parsed || !Array.isArray(parsed.Statement))) problems.add("resourcePolicy", "has no Statement list; pass an IAM policy document.");
    if (args.resourcePolicy.length > REST_API_LIMITS.resourcePolicyLength) {
      problems.add("resourcePolicy", `is ${args.resourcePolicy.length} characters, above the ${REST_API_LIMITS.resourcePolicyLength} API Gateway accepts; shorten it or ask AWS for more.`);
    }
  }
}

function checkWaf(args: RestApiArgs, problems: ProblemCollector): void {
  if (!args.waf) return;
  const { webAclArn, rateLimitPerIp } = args.waf;
  if ((webAclArn === undefined) === (rateLimitPerIp === undefined)) {
    problems.add("waf", "needs exactly one of webAclArn (associate an existing web ACL) and rateLimitPerIp (create one with a rate-based rule).");
  }
  const { min, max } = REST_API_LIMITS.wafRateLimit;
  problems.integerInRange("waf.rateLimitPerIp", rateLimitPerIp, min, max, "requests per 5 minutes");
  if (typeof webAclArn === "string" && !REGIONAL_WEB_ACL_ARN.test(webAclArn)) {
    problems.add("waf.webAclArn", `${JSON.stringify(webAclArn)} is not a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>); API stages take REGIONAL web ACLs only.`);
  }
}
