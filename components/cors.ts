// CORS of an HTTP API: the arguments, their checks (origins as browsers send them, methods
// browsers use) and the API Gateway configuration they become.
import type * as aws from "@pulumi/aws";
import { ProblemCollector } from "./validation";

/** CORS for browser clients of an HTTP API. */
export interface CorsArgs {
  /**
   * Allowed origins as browsers send them: `scheme://host[:port]`, no path, e.g.
   * `["https://app.example.com"]`; `https://*.example.com` for every subdomain; `*` for any.
   */
  allowOrigins: string[];
  /**
   * Methods browsers may use: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or `*`.
   * @default ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
   */
  allowMethods?: string[];
  /**
   * Request headers browsers may send.
   * @default ["authorization", "content-type"]
   */
  allowHeaders?: string[];
  /**
   * Response headers scripts may read.
   * @default []
   */
  exposeHeaders?: string[];
  /**
   * Whether browsers send cookies and credentials; not with origin `*`.
   * @default false
   */
  allowCredentials?: boolean;
  /**
   * How long browsers cache a preflight answer, in seconds.
   * @default 600
   */
  maxAgeSeconds?: number;
}

export const CORS_DEFAULTS = {
  allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: ["authorization", "content-type"],
  exposeHeaders: [] as string[],
  allowCredentials: false,
  maxAgeSeconds: 600,
} as const;

/** What `allowMethods` may list: the methods browsers send, or `*` for all. */
export const CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"] as const;

/** The route that answers browsers' preflight requests when `$default` requires authorization. */
export const PREFLIGHT_ROUTE = "OPTIONS /{proxy+}";

/** An origin as a browser's `Origin` header carries it: scheme, host (or `*.` subdomains, or an IPv6 address), port. */
const ORIGIN_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/((\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/** Why a CORS origin can never match a browser's `Origin` header, or undefined when it can. */
export function corsOriginProblem(origin: string): string | undefined {
  if (origin === "*" || ORIGIN_PATTERN.test(origin)) return undefined;
  const withPath = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/.*$/.exec(origin);
  if (withPath && ORIGIN_PATTERN.test(withPath[1])) {
    return `${JSON.stringify(origin)} has a path, which an Origin header never carries, so it matches no request; write ${JSON.stringify(withPath[1])}.`;
  }
  const hint = /^[A-Za-z0-9*-]+(\.[A-Za-z0-9-]+)+(:\d+)?$/.test(origin) ? `, e.g. ${JSON.stringify(`https://${origin}`)}` : "";
  return `${JSON.stringify(origin)} is not an origin; write scheme://host[:port] without a path${hint || ', e.g. "https://app.example.com"'}, or "*".`;
}

/** Adds every problem of a CORS configuration under `cors`. */
export function checkCors(cors: CorsArgs, problems: ProblemCollector): void {
  if (!Array.isArray(cors.allowOrigins) || cors.allowOrigins.length === 0) {
    problems.add("cors.allowOrigins", "is empty; list the origins, e.g. [\"https://app.example.com\"].");
  } else if (cors.allowCredentials && cors.allowOrigins.includes("*")) {
    problems.add("cors.allowOrigins", "is \"*\" with allowCredentials; browsers refuse that: list the origins.");
  } else {
    cors.allowOrigins.forEach((origin, index) => {
      const problem = corsOriginProblem(origin);
      if (problem) problems.add(`cors.allowOrigins[${index}]`, problem);
    });
  }
  (cors.allowMethods ?? []).forEach((method, index) => {
    if (!(CORS_METHODS as readonly string[]).includes(method)) {
      problems.add(`cors.allowMethods[${index}]`, `${JSON.stringify(method)} is not a method browsers send; use ${CORS_METHODS.map((m) => JSON.stringify(m)).join(", ")} (upper case).`);
    }
  });
  problems.integerInRange("cors.maxAgeSeconds", cors.maxAgeSeconds, 0, 86400, "seconds");
}

export function corsConfiguration(cors: CorsArgs): aws.types.input.apigatewayv2.ApiCorsConfiguration {
  const defaults = CORS_DEFAULTS;
  return {
    allowOrigins: cors.allowOrigins,
    allowMethods: cors.allowMethods ?? [...defaults.allowMethods],
    allowHeaders: cors.allowHeaders ?? [...defaults.allowHeaders],
    exposeHeaders: cors.exposeHeaders ?? defaults.exposeHeaders,
    allowCredentials: cors.allowCredentials ?? defaults.allowCredentials,
    maxAge: cors.maxAgeSeconds ?? defaults.maxAgeSeconds,
  };
}
