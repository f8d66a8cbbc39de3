import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ApiDomainArgs, ApiDomainResources, createApiDomain } from "./api-domain";
import { checkedKmsKey } from "./kms";
import { REST_API_INTEGRATION_TIMEOUT_SECONDS } from "./limits";
import { NAME_LIMITS, physicalName } from "./naming";
import { apiKeyValues, createUsagePlans, createWaf, privateEndpointPolicy, restAccountLogging } from "./rest-api-access";
import { definitionDigest, planRestApi, REST_API_DEFAULTS } from "./rest-api-plan";
import { createRestLambdaAuthorizer, RestLambdaAuthArgs } from "./rest-authorizer";
import { createRouteFunctions, FunctionDefaults, routeNamePart, RouteFunctionArgs } from "./routes";
import { SecureFunction } from "./secure-function";
import type { ThrottleArgs } from "./serverless-api";
import { TaggableArgs, withTags } from "./tags";
import { componentType } from "./tokens";
import { ResolvedArgumentChecks } from "./validation";

export { LambdaAuthorizerType, RestLambdaAuthArgs, REST_LAMBDA_AUTH_DEFAULTS } from "./rest-authorizer";
export { REST_API_DEFAULTS, definitionDigest } from "./rest-api-plan";
export { REST_API_INTEGRATION_TIMEOUT_SECONDS };

/** Who may call a REST route. */
export const RestRouteAuth = {
  /** A Cognito user pool's ID or access token (`auth.cognito`). */
  Cognito: "cognito",
  /** The API's Lambda authorizer (`auth.lambda`). */
  Lambda: "lambda",
  /** AWS SigV4 (IAM) signatures. */
  Iam: "iam",
  /** Public, on purpose (an API key may still be required). */
  None: "none",
} as const;
export type RestRouteAuth = (typeof RestRouteAuth)[keyof typeof RestRouteAuth];

/** One REST route: the function that serves it, who may call it, and what requests it accepts. */
export interface RestRouteArgs extends RouteFunctionArgs {
  /**
   * How callers are authorized: `cognito`, `lambda`, `iam` (SigV4) or `none` (public, on purpose).
   * @default "cognito" when the API has auth.cognito, else "lambda" when it has auth.lambda; otherwise the route must say.
   */
  auth?: RestRouteAuth;
  /**
   * Callers must send an `x-api-key` header with a key of one of the API's usage plans.
   * @default false
   */
  apiKeyRequired?: boolean;
  /**
   * A JSON Schema (draft 4, the dialect of API Gateway models) as JSON text that an
   * `application/json` body must match; API Gateway answers 400 to one that does not,
   * before the function runs. Not for GET or HEAD.
   * @default none: bodies are not validated
   */
  requestSchema?: string;
  /**
   * Request parameters API Gateway checks before the function runs, keyed
   * `method.request.querystring.<name>`, `method.request.header.<name>` or
   * `method.request.path.<name>`; `true` makes one required (a request without it gets 400).
   * @default none
   */
  requestParameters?: Record<string, boolean>;
}

/** A Cognito user pools authorizer: ID or access tokens in the `Authorization` header. */
export interface CognitoAuthArgs {
  /** The user pools whose tokens are accepted, e.g. `[pool.arn]`. */
  userPoolArns: pulumi.Input<pulumi.Input<string>[]>;
}

/** The authorizers a REST API's routes use. */
export interface RestApiAuthArgs {
  /** A Cognito user pools authorizer; routes use it with `auth: "cognito"` and `scopes`. */
  cognito?: CognitoAuthArgs;
  /** A Lambda authorizer (TOKEN or REQUEST); routes use it with `auth: "lambda"`. */
  lambda?: RestLambdaAuthArgs;
}

/** The period of a usage plan's quota. */
export const QuotaPeriod = { Day: "DAY", Week: "WEEK", Month: "MONTH" } as const;
export type QuotaPeriod = (typeof QuotaPeriod)[keyof typeof QuotaPeriod];

/** How many requests one key may make per period. */
export interface UsagePlanQuotaArgs {
  /** Requests per period, 0 or more. */
  limit: number;
  /** `DAY`, `WEEK` or `MONTH`. */
  period: QuotaPeriod;
  /**
   * Days into the period the quota restarts: 0 for DAY, 0-6 for WEEK, 0-27 for MONTH.
   * @default 0
   */
  offset?: number;
}

/** One usage plan: the keys that belong to it, and their throttle and quota. */
export interface UsagePlanArgs {
  /** Throttling per key (rate in requests per second, burst in requests), 0 or more. @default none: the stage's throttle */
  throttle?: ThrottleArgs;
  /** A quota per key. @default none */
  quota?: UsagePlanQuotaArgs;
  /** Names of the API keys in the plan; a name used by several plans is one key. */
  apiKeys: string[];
}

/** A WAFv2 web ACL on the stage: an existing one, or one the component creates. */
export interface RestApiWafArgs {
  /** An existing REGIONAL web ACL's ARN, associated with the stage. */
  webAclArn?: pulumi.Input<string>;
  /** Creates a web ACL that blocks a client IP above this many requests per 5 minutes (10 or more). */
  rateLimitPerIp?: number;
}

/** Where the API is reachable. */
export const RestEndpointType = {
  /** On the internet, in the API's Region. */
  Regional: "regional",
  /** Only through execute-api VPC endpoints (`vpcEndpointIds`). */
  Private: "private",
} as const;
export type RestEndpointType = (typeof RestEndpointType)[keyof typeof RestEndpointType];

/** The arguments of a {@link RestApi}. */
export interface RestApiArgs extends TaggableArgs {
  /**
   * Routes keyed `"METHOD /path"` (paths may hold `{param}` and a final `{proxy+}`). Routes
   * naming the same handler with the same settings share one function.
   */
  routes: Record<string, RestRouteArgs>;
  /** Function settings for every route's function and the Lambda authorizer's. */
  functionDefaults?: FunctionDefaults;
  /** Authorizers the routes use. */
  auth?: RestApiAuthArgs;
  /** Usage plans by name, each with its API keys, throttle and quota. @default none */
  usagePlans?: Record<string, UsagePlanArgs>;
  /** The stage's name, the first segment of the URL's path. @default "v1" */
  stageName?: string;
  /**
   * Throttling of every method on the stage, always set.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  throttle?: ThrottleArgs;
  /** How long the stage's JSON access logs are kept, in days. @default 30 */
  accessLogRetentionDays?: number;
  /** A customer-managed KMS key (its ARN) for the access log group. @default CloudWatch Logs' own encryption */
  kmsKeyArn?: pulumi.Input<string>;
  /** X-Ray tracing of the stage. @default true */
  tracing?: boolean;
  /** A WAFv2 web ACL on the stage. @default none */
  waf?: RestApiWafArgs;
  /** `regional` or `private` (then `vpcEndpointIds`). @default "regional" */
  endpointType?: RestEndpointType;
  /** The execute-api VPC endpoints a private API is reachable through; its resource policy allows only them. */
  vpcEndpointIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** A resource policy (JSON policy document) for a regional API, e.g. to allow some source IPs only. @default none */
  resourcePolicy?: pulumi.Input<string>;
  /**
   * Sets the API Gateway account's CloudWatch Logs role (a role created here), which REST
   * access logs need. It is one setting per account and Region: set it in one stack only,
   * or leave it off where the account has it already.
   * @default false
   */
  accountCloudWatchRole?: boolean;
  /**
   * A custom domain name (regional, TLS 1.2) mapped to the stage, with its certificate and
   * DNS records when a hosted zone is given.
   */
  domain?: ApiDomainArgs;
}

/** The JSON access log line of a REST stage: one object per request. */
export const REST_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  sourceIp: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationLatencyMs: "$context.integrationLatency",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integrationErrorMessage",
  authorizerError: "$context.authorizer.error",
  apiKeyId: "$context.identity.apiKeyId",
  error: "$context.error.message",
  xrayTraceId: "$context.xrayTraceId",
});

/** TypeScript-only fields (Pulumi's schema cannot describe our own components as outputs). */
const restFunctions = new WeakMap<RestApi, { functions: Record<string, SecureFunction>; authorizerFunction?: SecureFunction; domain?: ApiDomainResources }>();

/**
 * An API Gateway REST API whose routes run SecureFunctions through Lambda proxy
 * integrations (payload 1.0), with Cognito, Lambda and IAM authorizers, usage plans and API
 * keys, request validation, stage throttling, JSON access logs, X-Ray, an optional WAF web
 * ACL, and a regional or private endpoint. Redeployed exactly when its definition changes.
 */
export class RestApi extends pulumi.ComponentResource {
  /** The REST API. */
  readonly api: aws.apigateway.RestApi;
  /** The resources (path segments), by path. */
  readonly resources: Record<string, aws.apigateway.Resource>;
  /** The methods, by route key. */
  readonly methods: Record<string, aws.apigateway.Method>;
  /** The Lambda proxy integrations, by route key. */
  readonly integrations: Record<string, aws.apigateway.Integration>;
  /** The permissions that let this API invoke each route's function from that route only, by route key. */
  readonly permissions: Record<string, aws.lambda.Permission>;
  /** The Cognito user pools authorizer, when the API has one. */
  readonly cognitoAuthorizer?: aws.apigateway.Authorizer;
  /** The Lambda authorizer, when the API has one. */
  readonly lambdaAuthorizer?: aws.apigateway.Authorizer;
  /** The permission that lets only the Lambda authorizer invoke its function. */
  readonly lambdaAuthorizerPermission?: aws.lambda.Permission;
  /** The JSON Schema models, by route key. */
  readonly models: Record<string, aws.apigateway.Model>;
  /** The request validators, by what they check (`body`, `parameters`, `body-and-parameters`). */
  readonly requestValidators: Record<string, aws.apigateway.RequestValidator>;
  /** The deployment of the current definition, replaced when the definition changes. */
  readonly deployment: aws.apigateway.Deployment;
  /** The stage: access logs, X-Ray. */
  readonly stage: aws.apigateway.Stage;
  /** Throttling and metrics of every method on the stage. */
  readonly methodSettings: aws.apigateway.MethodSettings;
  /** Where the JSON access logs go, with retention. */
  readonly accessLogGroup: aws.cloudwatch.LogGroup;
  /** The usage plans, by name. */
  readonly usagePlans: Record<string, aws.apigateway.UsagePlan>;
  /** The API keys, by name, each created once. */
  readonly keys: Record<string, aws.apigateway.ApiKey>;
  /** The keys' memberships of plans, by `<plan>/<key>`. */
  readonly usagePlanKeys: Record<string, aws.apigateway.UsagePlanKey>;
  /** The web ACL the component created (`waf.rateLimitPerIp`). */
  readonly webAcl?: aws.wafv2.WebAcl;
  /** The web ACL's association with the stage. */
  readonly webAclAssociation?: aws.wafv2.WebAclAssociation;
  /** The account's CloudWatch Logs role setting (`accountCloudWatchRole`). */
  readonly account?: aws.apigateway.Account;
  /** The role API Gateway writes logs with (`accountCloudWatchRole`). */
  readonly accountRole?: aws.iam.Role;
  /** The stage's URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/v1`. */
  readonly url: pulumi.Output<string>;
  /** The execution ARN of the API, for permissions and IAM policies (`<arn>/<stage>/<METHOD>/<path>`). */
  readonly executionArn: pulumi.Output<string>;
  /** The API keys' values by name (secret). */
  readonly apiKeys: pulumi.Output<Record<string, string>>;
  /** The digest of the deployed definition. */
  readonly definitionDigest: pulumi.Output<string>;
  /** The API's URL on its custom domain, `https://<name>/<basePath>`, when `domain` is set. */
  readonly domainUrl?: pulumi.Output<string>;

  constructor(name: string, args: RestApiArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = planRestApi(name, args);
    super(componentType("RestApi"), name, {}, withTags("RestApi", name, args.tags, opts));
    const parent = { parent: this };
    const apiName = physicalName(name, NAME_LIMITS.restApi);
    const isPrivate = (args.endpointType ?? REST_API_DEFAULTS.endpointType) === "private";

    this.api = new aws.apigateway.RestApi(name, {
      name: apiName,
      endpointConfiguration: isPrivate ? { types: "PRIVATE", vpcEndpointIds: args.vpcEndpointIds } : { types: "REGIONAL" },
      policy: isPrivate ? privateEndpointPolicy(args.vpcEndpointIds!) : args.resourcePolicy,
    }, parent);
    this.executionArn = this.api.executionArn;

    if (args.auth?.cognito) {
      this.cognitoAuthorizer = new aws.apigateway.Authorizer(`${name}-cognito`, {
        restApi: this.api.id,
        name: "cognito",
        type: "COGNITO_USER_POOLS",
        providerArns: args.auth.cognito.userPoolArns,
        identitySource: "method.request.header.Authorization",
      }, parent);
    }
    let authorizerFunction: SecureFunction | undefined;
    if (plan.lambdaAuthorizer) {
      const created = createRestLambdaAuthorizer(name, plan.lambdaAuthorizer, this.api, this);
      authorizerFunction = created.function;
      this.lambdaAuthorizer = created.authorizer;
      this.lambdaAuthorizerPermission = created.permission;
    }

    const { functions, permissions } = createRouteFunctions(plan.functions, this.api.executionArn, this);
    restFunctions.set(this, { functions, authorizerFunction });
    this.permissions = permissions;

    // Routes share the resources of their common path prefixes.
    this.resources = {};
    const resourceId = (path: string) => (path === "/" ? this.api.rootResourceId : this.resources[path].id);
    for (const resource of plan.resources) {
      this.resources[resource.path] = new aws.apigateway.Resource(`${name}-resource-${routeNamePart(resource.path)}`, {
        restApi: this.api.id,
        parentId: resourceId(resource.parentPath),
        pathPart: resource.pathPart,
      }, parent);
    }

    this.requestValidators = {};
    const validatorFor = (body: boolean, parameters: boolean): pulumi.Output<string> | undefined => {
      if (!body && !parameters) return undefined;
      const kind = body && parameters ? "body-and-parameters" : body ? "body" : "parameters";
      this.requestValidators[kind] ??= new aws.apigateway.RequestValidator(`${name}-validate-${kind}`, {
        restApi: this.api.id,
        name: kind,
        validateRequestBody: body,
        validateRequestParameters: parameters,
      }, parent);
      return this.requestValidators[kind].id;
    };

    this.models = {};
    this.methods = {};
    this.integrations = {};
    const authorizerIds = { cognito: this.cognitoAuthorizer?.id, lambda: this.lambdaAuthorizer?.id, iam: undefined, none: undefined };
    for (const route of plan.routes) {
      const part = routeNamePart(route.routeKey);
      if (route.requestSchema !== undefined) {
        this.models[route.routeKey] = new aws.apigateway.Model(`${name}-model-${part}`, {
          restApi: this.api.id,
          // Model names are alphanumeric and unique per API.
          name: `R${part.replace(/[^A-Za-z0-9]/g, "")}`,
          contentType: "application/json",
          schema: route.requestSchema,
        }, parent);
      }
      const hasParameters = Object.keys(route.requestParameters ?? {}).length > 0;
      this.methods[route.routeKey] = new aws.apigateway.Method(`${name}-method-${part}`, {
        restApi: this.api.id,
        resourceId: resourceId(route.path),
        httpMethod: route.method,
        authorization: { cognito: "COGNITO_USER_POOLS", lambda: "CUSTOM", iam: "AWS_IAM", none: "NONE" }[route.auth],
        authorizerId: authorizerIds[route.auth],
        authorizationScopes: route.auth === "cognito" && route.scopes?.length ? route.scopes : undefined,
        apiKeyRequired: route.apiKeyRequired,
        requestModels: this.models[route.routeKey] ? { "application/json": this.models[route.routeKey].name } : undefined,
        requestParameters: hasParameters ? route.requestParameters : undefined,
        requestValidatorId: validatorFor(route.requestSchema !== undefined, hasParameters),
      }, parent);
      this.integrations[route.routeKey] = new aws.apigateway.Integration(`${name}-integration-${part}`, {
        restApi: this.api.id,
        resourceId: this.methods[route.routeKey].resourceId,
        httpMethod: this.methods[route.routeKey].httpMethod,
        type: "AWS_PROXY",
        integrationHttpMethod: "POST",
        uri: functions[route.handler].invokeArn,
        timeoutMilliseconds: REST_API_INTEGRATION_TIMEOUT_SECONDS * 1000,
      }, parent);
    }

    // What a deployment snapshots: a change to any of it needs a new deployment, and
    // nothing else does (so `pulumi up` without changes deploys nothing).
    this.definitionDigest = pulumi.output({
      routes: [...plan.routes].sort((a, b) => (a.routeKey < b.routeKey ? -1 : 1)).map((route) => ({ ...route, uri: this.integrations[route.routeKey].uri })),
      cognito: args.auth?.cognito?.userPoolArns,
      lambda: plan.lambdaAuthorizer && { ...plan.lambdaAuthorizer, functionArgs: undefined, uri: authorizerFunction!.invokeArn },
      policy: this.api.policy,
      endpoint: this.api.endpointConfiguration,
    }).apply(definitionDigest);
    this.deployment = new aws.apigateway.Deployment(`${name}-deployment`, {
      restApi: this.api.id,
      triggers: { definition: this.definitionDigest },
    }, { parent: this, dependsOn: [...Object.values(this.methods), ...Object.values(this.integrations)] });

    this.accessLogGroup = new aws.cloudwatch.LogGroup(`${name}-access-logs`, {
      name: `/aws/apigateway/${apiName}`,
      retentionInDays: plan.accessLogRetentionDays,
      kmsKeyId: checkedKmsKey(new ResolvedArgumentChecks("RestApi", name, this), "kmsKeyArn", args.kmsKeyArn),
    }, parent);
    if (args.accountCloudWatchRole) ({ account: this.account, role: this.accountRole } = restAccountLogging(name, this));

    this.stage = new aws.apigateway.Stage(`${name}-stage`, {
      restApi: this.api.id,
      deployment: this.deployment.id,
      stageName: plan.stageName,
      xrayTracingEnabled: plan.tracing,
      accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: REST_ACCESS_LOG_FORMAT },
    }, {
      parent: this,
      dependsOn: [...Object.values(this.permissions), ...(this.lambdaAuthorizerPermission ? [this.lambdaAuthorizerPermission] : []), ...(this.account ? [this.account] : [])],
    });
    this.methodSettings = new aws.apigateway.MethodSettings(`${name}-method-settings`, {
      restApi: this.api.id,
      stageName: this.stage.stageName,
      methodPath: "*/*",
      settings: { metricsEnabled: true, throttlingRateLimit: plan.throttle.rateLimit, throttlingBurstLimit: plan.throttle.burstLimit },
    }, parent);

    ({ usagePlans: this.usagePlans, keys: this.keys, usagePlanKeys: this.usagePlanKeys } = createUsagePlans(name, plan, this.api, this.stage, this));
    this.apiKeys = apiKeyValues(this.keys);
    if (args.waf) ({ webAcl: this.webAcl, association: this.webAclAssociation } = createWaf(name, args.waf, this.stage, this));

    this.url = this.stage.invokeUrl;
    if (args.domain) {
      const domain = createApiDomain(name, args.domain, { kind: "rest", apiId: this.api.id, stageName: this.stage.stageName }, this);
      restFunctions.get(this)!.domain = domain;
      this.domainUrl = domain.url;
    }
    this.registerOutputs({ url: this.url, executionArn: this.executionArn, apiKeys: this.apiKeys, apiId: this.api.id, ...(this.domainUrl ? { domainUrl: this.domainUrl } : {}) });
  }

  /** The route functions, by handler (TypeScript only). */
  get functions(): Record<string, SecureFunction> {
    return restFunctions.get(this)!.functions;
  }

  /** The Lambda authorizer's function, when the API has one (TypeScript only). */
  get authorizerFunction(): SecureFunction | undefined {
    return restFunctions.get(this)!.authorizerFunction;
  }

  /** The custom domain's certificate (when created), domain name, mapping and records, when `domain` is set (TypeScript only). */
  get domain(): ApiDomainResources | undefined {
    return restFunctions.get(this)!.domain;
  }
}
