/**
 * A REST API as the program registered it, read for the local runtime: its resource tree
 * walked into `METHOD /path` routes, each method's auth, API key, models and validator, its
 * Lambda proxy integration, the authorizers, the stage (variables, throttle) and the usage
 * plans with their keys (values as recorded: API Gateway's generated ones, mocked).
 */
import { REST_API_INTEGRATION_TIMEOUT_SECONDS } from "../components/limits";
import { invokedFunctionArn } from "../policy/graph";
import type { RecordedResource } from "../tools/mock-engine";
import { DEFAULT_AUTHORIZER_TTL_SECONDS } from "./lambda-authorizer";

export interface RestRouteModel {
  routeKey: string;
  /** The resource's path template, e.g. `/things/{id}` (`$context.resourcePath`). */
  resourcePath: string;
  resourceId: string;
  functionArn: string;
  auth: "cognito" | "lambda" | "iam" | "none";
  authorizerId?: string;
  scopes: string[];
  apiKeyRequired: boolean;
  /** The JSON Schema (draft 4) an `application/json` body must match, when the method validates bodies. */
  bodySchema?: string;
  /** Request parameters the method requires, when it validates parameters (`method.request.querystring.x`, ...). */
  requiredParameters: string[];
  /** The integration's timeout, in ms. */
  timeoutMs: number;
}

export interface RestAuthorizerModel {
  type: "TOKEN" | "REQUEST" | "COGNITO_USER_POOLS";
  /** `method.request.header.Authorization`, or a comma-separated list for REQUEST. */
  identitySources: string[];
  resultTtlSeconds: number;
  identityValidationExpression?: string;
  /** TOKEN and REQUEST: the function. */
  functionArn?: string;
  /** COGNITO_USER_POOLS: the pools' ARNs. */
  userPoolArns: string[];
}

export interface UsagePlanModel {
  name: string;
  throttle?: { rateLimit: number; burstLimit: number };
  quota?: { limit: number; period: "DAY" | "WEEK" | "MONTH"; offset: number };
  /** The key names (the ApiKey resources' `name`s). */
  keys: string[];
}

export interface ApiKeyModel {
  id: string;
  name: string;
  value: string;
  enabled: boolean;
}

export interface RestApiModel {
  name: string;
  apiId: string;
  stageName: string;
  stageVariables: Record<string, string>;
  /** The stage's method settings for every method (`*\/*`), when set. */
  throttle?: { rateLimit: number; burstLimit: number };
  routes: RestRouteModel[];
  authorizers: Record<string, RestAuthorizerModel>;
  usagePlans: UsagePlanModel[];
  /** The keys of this API's usage plans. */
  apiKeys: ApiKeyModel[];
}


export function readRestApis(resources: RecordedResource[]): RestApiModel[] {
  const ofType = (type: string, apiId: string) => resources.filter((r) => r.type === `aws:apigateway/${type}` && r.inputs.restApi === apiId);
  return resources.filter((r) => r.type === "aws:apigateway/restApi:RestApi").map((api): RestApiModel => {
    const apiId = api.id;
    const paths = new Map<string, string>([[String(api.outputs.rootResourceId), "/"]]);
    const pending = ofType("resource:Resource", apiId);
    // Parents first: resolve until no resource is left whose parent is known.
    while (pending.length > 0) {
      const at = pending.findIndex((r) => paths.has(r.inputs.parentId));
      if (at === -1) throw new Error(`REST API ${api.name}: resources ${pending.map((r) => r.inputs.pathPart).join(", ")} have no parent in the program.`);
      const [resource] = pending.splice(at, 1);
      const parent = paths.get(resource.inputs.parentId)!;
      paths.set(resource.id, `${parent === "/" ? "" : parent}/${resource.inputs.pathPart}`);
    }
    const models = new Map(ofType("model:Model", apiId).map((m) => [m.inputs.name, String(m.inputs.schema)]));
    const validators = new Map(ofType("requestValidator:RequestValidator", apiId).map((v) => [v.id, v.inputs]));
    const integrations = ofType("integration:Integration", apiId);
    const routes = ofType("method:Method", apiId).map((method): RestRouteModel => {
      const resourcePath = paths.get(method.inputs.resourceId);
      if (resourcePath === undefined) throw new Error(`REST API ${api.name}: method ${method.name} is on a resource the program does not define.`);
      const routeKey = `${method.inputs.httpMethod} ${resourcePath}`;
      const integration = integrations.find((i) => i.inputs.resourceId === method.inputs.resourceId && i.inputs.httpMethod === method.inputs.httpMethod);
      const functionArn = integration?.inputs.type === "AWS_PROXY" ? invokedFunctionArn(integration.inputs.uri) : undefined;
      if (!functionArn) throw new Error(`REST API ${api.name}: ${routeKey} has no Lambda proxy integration; the local runtime serves only those.`);
      const validator = validators.get(method.inputs.requestValidatorId);
      const model = method.inputs.requestModels?.["application/json"];
      const type = method.inputs.authorization ?? "NONE";
      return {
        routeKey,
        resourcePath,
        resourceId: method.inputs.resourceId,
        functionArn,
        auth: type === "COGNITO_USER_POOLS" ? "cognito" : type === "CUSTOM" ? "lambda" : type === "AWS_IAM" ? "iam" : "none",
        authorizerId: method.inputs.authorizerId,
        scopes: method.inputs.authorizationScopes ?? [],
        apiKeyRequired: method.inputs.apiKeyRequired === true,
        ...(validator?.validateRequestBody && model !== undefined && models.has(model) ? { bodySchema: models.get(model) } : {}),
        requiredParameters: validator?.validateRequestParameters
          ? Object.entries(method.inputs.requestParameters ?? {}).filter(([, required]) => required === true).map(([parameter]) => parameter)
          : [],
        timeoutMs: integration!.inputs.timeoutMilliseconds ?? REST_API_INTEGRATION_TIMEOUT_SECONDS * 1000,
      };
    });
    const authorizers = Object.fromEntries(ofType("authorizer:Authorizer", apiId).map((a): [string, RestAuthorizerModel] => [a.id, {
      type: a.inputs.type ?? "TOKEN",
      identitySources: String(a.inputs.identitySource ?? "method.request.header.Authorization").split(",").map((s) => s.trim()).filter(Boolean),
      resultTtlSeconds: a.inputs.authorizerResultTtlInSeconds ?? DEFAULT_AUTHORIZER_TTL_SECONDS,
      ...(a.inputs.identityValidationExpression ? { identityValidationExpression: a.inputs.identityValidationExpression } : {}),
      ...(a.inputs.authorizerUri ? { functionArn: invokedFunctionArn(a.inputs.authorizerUri) } : {}),
      userPoolArns: a.inputs.providerArns ?? [],
    }]));
    const stage = ofType("stage:Stage", apiId)[0];
    if (!stage) throw new Error(`REST API ${api.name} has no stage; the local runtime serves a REST API's stage.`);
    const settings = ofType("methodSettings:MethodSettings", apiId).find((s) => s.inputs.methodPath === "*/*")?.inputs.settings;
    const keysById = new Map(resources.filter((r) => r.type === "aws:apigateway/apiKey:ApiKey").map((k) => [k.id, k]));
    const memberships = resources.filter((r) => r.type === "aws:apigateway/usagePlanKey:UsagePlanKey");
    const usagePlans = resources
      .filter((r) => r.type === "aws:apigateway/usagePlan:UsagePlan" && (r.inputs.apiStages ?? []).some((s: { apiId: string; stage: string }) => s.apiId === apiId && s.stage === stage.inputs.stageName))
      .map((plan): UsagePlanModel => ({
        name: plan.inputs.name ?? plan.name,
        ...(plan.inputs.throttleSettings ? { throttle: { rateLimit: plan.inputs.throttleSettings.rateLimit, burstLimit: plan.inputs.throttleSettings.burstLimit } } : {}),
        ...(plan.inputs.quotaSettings ? { quota: { limit: plan.inputs.quotaSettings.limit, period: plan.inputs.quotaSettings.period, offset: plan.inputs.quotaSettings.offset ?? 0 } } : {}),
        keys: memberships.filter((m) => m.inputs.usagePlanId === plan.id).map((m) => keysById.get(m.inputs.keyId)).filter((k) => k !== undefined).map((k) => String(k.inputs.name ?? k.name)),
      }));
    const planKeys = new Set(usagePlans.flatMap((p) => p.keys));
    const apiKeys = [...keysById.values()].filter((k) => planKeys.has(String(k.inputs.name ?? k.name))).map((k): ApiKeyModel => ({
      id: k.id, name: String(k.inputs.name ?? k.name), value: String(k.inputs.value ?? k.outputs.value), enabled: k.inputs.enabled !== false,
    }));
    return {
      name: api.name,
      apiId,
      stageName: stage.inputs.stageName,
      stageVariables: stage.inputs.variables ?? {},
      ...(settings?.throttlingRateLimit !== undefined ? { throttle: { rateLimit: settings.throttlingRateLimit, burstLimit: settings.throttlingBurstLimit ?? settings.throttlingRateLimit } } : {}),
      routes,
      authorizers,
      usagePlans,
      apiKeys,
    };
  });
}
