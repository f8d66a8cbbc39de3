// What ServerlessApi (HTTP API) and RestApi (REST API) share: the `"METHOD /path"` route
// keys, the function settings of a route merged with the API's `functionDefaults`, one
// SecureFunction per handler, and one invoke permission per route.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { shortHash, slugify } from "./naming";
import { FunctionSettings, prepareFunction, SECURE_FUNCTION_DEFAULTS, SecureFunction, SecureFunctionArgs } from "./secure-function";
import { ProblemCollector, withoutUndefined } from "./validation";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;

/** Function settings applied to every route's function; a route's own settings win. */
export type FunctionDefaults = FunctionSettings;

/** A route of either API: its function, and the OAuth scopes it requires. */
export interface RouteFunctionArgs extends SecureFunctionArgs {
  /** OAuth scopes a token-authorized route requires, e.g. `["orders/read"]`. */
  scopes?: string[];
}

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
export function routeNamePart(routeKey: string): string {
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

/**
 * A function's settings: the API's defaults, then `own` (maps merged). `own` is a route or
 * an authorizer; `omit` names its fields that are not function settings.
 */
export function mergeFunctionArgs<T extends SecureFunctionArgs>(defaults: FunctionDefaults | undefined, route: T, omit: readonly string[] = ["auth", "scopes"]): SecureFunctionArgs {
  const own = Object.fromEntries(Object.entries(route).filter(([key]) => !omit.includes(key))) as SecureFunctionArgs;
  const merged: SecureFunctionArgs = { ...defaults, ...withoutUndefined(own) } as SecureFunctionArgs;
  for (const map of ["environment", "parameters", "secrets"] as const) {
    if (defaults?.[map] || own[map]) merged[map] = { ...defaults?.[map], ...own[map] };
  }
  if (defaults?.permissions || own.permissions) merged.permissions = [...(defaults?.permissions ?? []), ...(own.permissions ?? [])];
  return merged;
}

/** A function shared by all routes that name its handler. */
export interface PlannedFunction {
  handler: string;
  /** Child name: the API's name and a slug of the handler. */
  name: string;
  args: SecureFunctionArgs;
  routeKeys: string[];
}

/** One route as validated: its key, how callers are authorized, and its handler. */
export interface PlannedRoute<Auth extends string> {
  routeKey: string;
  auth: Auth;
  scopes?: string[];
  handler: string;
}

/** The name of a handler's function inside an API: readable, and stable while the handler is. */
export function functionNameForHandler(apiName: string, handler: string): string {
  const withoutRoot = handler.replace(/^(\.\/)?handlers\//, "");
  const [modulePath, exportName] = [withoutRoot.slice(0, withoutRoot.lastIndexOf(".")), withoutRoot.slice(withoutRoot.lastIndexOf(".") + 1)];
  const slug = slugify(exportName === "handler" ? modulePath.split("/").pop()! : `${modulePath.split("/").pop()}-${exportName}`);
  return `${apiName}-${slug}`;
}

/** How one API checks its routes beyond what every API checks. */
export interface RouteRules<Route extends RouteFunctionArgs, Auth extends string> {
  /** Extra problems with a route key (after the shared syntax check), e.g. REST has no `$default`. */
  keyProblem?: (routeKey: string) => string | undefined;
  /** Checks a route's auth (and what depends on it) and returns it; `undefined` when it is wrong. */
  authOf: (route: Route, at: string) => Auth | undefined;
  /** The longest the API waits for an integration, and its name in messages ("the HTTP API's"). */
  integrationTimeoutSeconds: number;
  integrationTimeoutOf: string;
  /** The route's fields that are not function settings. @default ["auth", "scopes"] */
  omit?: readonly string[];
}

/**
 * Validates every route (key, auth, timeout, function settings) and groups the routes by
 * handler: routes that name the same handler share one function, prepared (validated and
 * bundled) now, so a bad handler fails before anything is registered.
 */
export function planRoutes<Route extends RouteFunctionArgs, Auth extends string>(
  apiName: string,
  routeArgs: Record<string, Route> | undefined,
  functionDefaults: FunctionDefaults | undefined,
  rules: RouteRules<Route, Auth>,
  problems: ProblemCollector,
): { functions: PlannedFunction[]; routes: PlannedRoute<Auth>[] } {
  const routeEntries = Object.entries(routeArgs ?? {});
  if (routeEntries.length === 0) problems.add("routes", "is empty; add at least one route, e.g. \"GET /health\".");

  const functions = new Map<string, PlannedFunction>();
  const routes: PlannedRoute<Auth>[] = [];
  for (const [routeKey, route] of routeEntries) {
    const at = `routes[${JSON.stringify(routeKey)}]`;
    const keyProblem = routeKeyProblem(routeKey) ?? rules.keyProblem?.(routeKey);
    if (keyProblem) problems.add(at, keyProblem);
    const auth = rules.authOf(route, at);

    const functionArgs = mergeFunctionArgs(functionDefaults, route, rules.omit);
    const timeout = functionArgs.timeout ?? SECURE_FUNCTION_DEFAULTS.timeout;
    if (timeout > rules.integrationTimeoutSeconds) {
      problems.add(`${at}.timeout`, `${timeout} seconds is above ${rules.integrationTimeoutOf} ${rules.integrationTimeoutSeconds} s integration limit; lower it, or move long work to a QueueWorker.`);
    }
    const existing = functions.get(route.handler);
    if (existing) {
      if (!sameValue(existing.args, functionArgs)) {
        problems.add(at, `uses handler ${JSON.stringify(route.handler)} with other function settings than ${existing.routeKeys.map((k) => JSON.stringify(k)).join(", ")}; give them the same settings (they share one function) or use separate handlers.`);
      }
      existing.routeKeys.push(routeKey);
    } else {
      const functionName = functionNameForHandler(apiName, route.handler);
      prepareFunction(functionName, functionArgs, at, problems);
      functions.set(route.handler, { handler: route.handler, name: functionName, args: functionArgs, routeKeys: [routeKey] });
    }
    routes.push({ routeKey, auth: auth ?? ("none" as Auth), scopes: route.scopes, handler: route.handler });
  }
  const byShape = new Map<string, string>();
  for (const { routeKey } of routes) {
    const same = byShape.get(routeShape(routeKey));
    if (same) problems.add(`routes[${JSON.stringify(routeKey)}]`, `differs from ${JSON.stringify(same)} only in a parameter's name, and API Gateway refuses two such routes; keep one of them (one name per parameter).`);
    else byShape.set(routeShape(routeKey), routeKey);
  }
  return { functions: [...functions.values()], routes };
}

/** Refuses two handlers whose functions would get the same name. */
export function checkFunctionNames(functions: readonly PlannedFunction[], problems: ProblemCollector, others: readonly { name: string; handler: string }[] = []): void {
  // `others`: the API's functions that serve no route (its authorizer), named in the same space.
  const byName = new Map<string, string>(others.map((other) => [other.name, other.handler]));
  for (const fn of functions) {
    const other = byName.get(fn.name);
    if (other) problems.add("routes", `handlers ${JSON.stringify(other)} and ${JSON.stringify(fn.handler)} would both be named ${JSON.stringify(fn.name)}; rename one of the files or exports.`);
    byName.set(fn.name, fn.handler);
  }
}

/**
 * The route functions of `functions`, by handler, and the permissions that let the API
 * invoke each from its own routes only (`<executionArn>/*\/<method>/<path>`), by route key.
 */
export function createRouteFunctions(
  functions: readonly PlannedFunction[],
  executionArn: pulumi.Output<string>,
  parent: pulumi.Resource,
): { functions: Record<string, SecureFunction>; permissions: Record<string, aws.lambda.Permission> } {
  const created: Record<string, SecureFunction> = {};
  const permissions: Record<string, aws.lambda.Permission> = {};
  for (const planned of functions) {
    const fn = new SecureFunction(planned.name, planned.args, { parent });
    created[planned.handler] = fn;
    // One per route, so a function shared by routes is invocable by exactly those routes.
    for (const routeKey of planned.routeKeys) {
      permissions[routeKey] = new aws.lambda.Permission(`${planned.name}-invoke-${routeNamePart(routeKey)}`, {
        action: "lambda:InvokeFunction",
        function: fn.name,
        qualifier: fn.qualifier,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${executionArn}/*/${routeSourceArnPath(routeKey)}`,
      }, { parent });
    }
  }
  return { functions: created, permissions };
}
