/**
 * Serves every REST API of the program, each stage on its own port: the routes' functions,
 * their Lambda and Cognito authorizers (Cognito through the local issuer, or a real
 * issuer's keys with --jwt-jwks), the usage plans and the keys' recorded values.
 */
import type { AppModel } from "./app";
import { functionForArn } from "./app";
import type { RequestLog } from "./gateway";
import { remoteAuthorizer, type JwtConfig, type LocalIssuer } from "./jwt";
import type { AuthorizerInvoker } from "./lambda-authorizer";
import { LocalRestApi, type RestRouteDefinition } from "./rest-api";
import { LocalRestLambdaAuthorizer } from "./rest-authorizer";
import type { RestAuthorizerModel } from "./rest-model";
import type { SigV4Verifier } from "./sigv4";
import { UsageLimiter } from "./usage-plans";

export interface RestApisOptions {
  app: AppModel;
  invoke: AuthorizerInvoker;
  issuer: LocalIssuer;
  region: string;
  accountId: string;
  /** Accept tokens of a real issuer instead of the local key. */
  jwt?: { jwksUrl: string; issuer?: string };
  /** Verifies the signatures of IAM methods. */
  sigv4: SigV4Verifier;
  onRequest: (entry: RequestLog) => void;
}

export interface ServedRestApis {
  /** Each stage's base URL (`http://127.0.0.1:<port>/<stage>`), by API name. */
  urls: Record<string, string>;
  /** The JWT settings of each Cognito authorizer, by authorizer id (the local issuer signs tokens for them). */
  cognito: Record<string, JwtConfig>;
  stop(): Promise<void>;
}

/** The issuer of a user pool's tokens, from its ARN (`arn:aws:cognito-idp:<region>:<account>:userpool/<id>`). */
function userPoolIssuer(arn: string): string {
  const match = /^arn:[^:]+:cognito-idp:([^:]+):\d+:userpool\/(.+)$/.exec(arn);
  if (!match) throw new Error(`${arn} is not a Cognito user pool ARN`);
  return `https://cognito-idp.${match[1]}.amazonaws.com/${match[2]}`;
}

export async function serveRestApis(options: RestApisOptions): Promise<ServedRestApis> {
  const { app, invoke } = options;
  const served: LocalRestApi[] = [];
  const urls: Record<string, string> = {};
  const cognito: Record<string, JwtConfig> = {};
  const lambdaAuthorizer = (model: RestAuthorizerModel) => new LocalRestLambdaAuthorizer({
    functionName: functionForArn(app, model.functionArn!).name,
    type: model.type === "REQUEST" ? "REQUEST" : "TOKEN",
    identitySources: model.identitySources,
    resultTtlSeconds: model.resultTtlSeconds,
    identityValidationExpression: model.identityValidationExpression,
  }, invoke);
  try {
    for (const api of app.restApis) {
      const authorizers = Object.fromEntries(Object.entries(api.authorizers).map(([id, model]) => {
        if (model.type !== "COGNITO_USER_POOLS") return [id, { lambda: lambdaAuthorizer(model) }];
        // Tokens of the API's first pool; a REST Cognito authorizer checks no audience.
        const config: JwtConfig = { issuer: options.jwt?.issuer ?? userPoolIssuer(model.userPoolArns[0]), audiences: [], anyAudience: true };
        cognito[id] = config;
        return [id, { cognito: options.jwt ? remoteAuthorizer(config, options.jwt.jwksUrl) : options.issuer.authorizer(config) }];
      }));
      const routes: RestRouteDefinition[] = api.routes.map(({ functionArn, authorizerId, ...route }) => ({
        ...route,
        functionName: functionForArn(app, functionArn).name,
        lambdaAuthorizer: route.auth === "lambda" && authorizerId ? authorizers[authorizerId]?.lambda : undefined,
        cognito: route.auth === "cognito" && authorizerId ? authorizers[authorizerId]?.cognito : undefined,
      }));
      const rest = new LocalRestApi({
        routes, apiId: api.apiId, accountId: options.accountId, region: options.region, stageName: api.stageName, stageVariables: api.stageVariables,
        apiKeys: api.apiKeys, limiter: new UsageLimiter(api.throttle, api.usagePlans), sigv4: options.sigv4, invoke, onRequest: options.onRequest,
      });
      urls[api.name] = await rest.start();
      served.push(rest);
    }
  } catch (error) {
    await Promise.all(served.map((s) => s.stop()));
    throw error;
  }
  return { urls, cognito, stop: async () => { await Promise.all(served.map((s) => s.stop())); } };
}
