import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { RestApi, RestApiArgs } from "../../components";
import { definitionDigest, REST_ACCESS_LOG_FORMAT } from "../../components/rest-api";
import { resourceTree } from "../../components/rest-api-plan";
import { ProblemCollector } from "../../components/validation";
import { one, ofType, RecordedResource } from "../mocks";
import { ACCOUNT, childrenOf, expectRefused, HELLO, lambdaArn, libraryTags, ORDERS_GET, ORDERS_LIST, recordComponent, statementsBySid, TEST_REGION, TYPES } from "./support";

/** What the library tags every taggable child of the API with. */
const TAGS = libraryTags("RestApi/shop");

const T = {
  restApi: "aws:apigateway/restApi:RestApi",
  resource: "aws:apigateway/resource:Resource",
  method: "aws:apigateway/method:Method",
  integration: "aws:apigateway/integration:Integration",
  authorizer: "aws:apigateway/authorizer:Authorizer",
  deployment: "aws:apigateway/deployment:Deployment",
  stage: "aws:apigateway/stage:Stage",
  methodSettings: "aws:apigateway/methodSettings:MethodSettings",
  usagePlan: "aws:apigateway/usagePlan:UsagePlan",
  apiKey: "aws:apigateway/apiKey:ApiKey",
  usagePlanKey: "aws:apigateway/usagePlanKey:UsagePlanKey",
  model: "aws:apigateway/model:Model",
  validator: "aws:apigateway/requestValidator:RequestValidator",
  account: "aws:apigateway/account:Account",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
  restComponent: "serverless-components:index:RestApi",
} as const;

const POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc";
const ORDER_SCHEMA = JSON.stringify({ $schema: "http://json-schema.org/draft-04/schema#", type: "object", required: ["sku"] });

function recordRest(name: string, args: RestApiArgs) {
  return recordComponent(() => new RestApi(name, args), (api) => ({
    apiId: api.api.id,
    rootId: api.api.rootResourceId,
    executionArn: api.executionArn,
    url: api.url,
    apiKeys: api.apiKeys,
    digest: api.definitionDigest,
    stageArn: api.stage.arn,
    resourceIds: pulumi.all(Object.fromEntries(Object.entries(api.resources).map(([path, r]) => [path, r.id]))),
    keyIds: pulumi.all(Object.fromEntries(Object.entries(api.keys).map(([key, k]) => [key, k.id]))),
    planIds: pulumi.all(Object.fromEntries(Object.entries(api.usagePlans).map(([plan, p]) => [plan, p.id]))),
    ...(api.cognitoAuthorizer ? { cognitoId: api.cognitoAuthorizer.id } : {}),
    ...(api.lambdaAuthorizer ? { lambdaId: api.lambdaAuthorizer.id } : {}),
  }));
}

function refuse(args: RestApiArgs, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new RestApi("api", args), "RestApi", "api", problems);
}

function methodOf(resources: RecordedResource[], httpMethod: string, resourceId: string): RecordedResource {
  const found = ofType(resources, T.method).filter((m) => m.inputs.httpMethod === httpMethod && m.inputs.resourceId === resourceId);
  expect(found, `${httpMethod} on ${resourceId}`).to.have.length(1);
  return found[0];
}

const FULL: RestApiArgs = {
  auth: {
    cognito: { userPoolArns: [POOL_ARN] },
    lambda: { handler: HELLO, type: "request", identitySource: "method.request.header.Authorization, method.request.querystring.tenant", resultTtlSeconds: 60 },
  },
  functionDefaults: { memorySize: 256 },
  routes: {
    "GET /orders": { handler: ORDERS_LIST, scopes: ["orders/read"] },
    "POST /orders": { handler: ORDERS_LIST, requestSchema: ORDER_SCHEMA },
    "GET /orders/{orderId}": { handler: ORDERS_GET, auth: "lambda", requestParameters: { "method.request.header.x-tenant": true } },
    "ANY /partners/{proxy+}": { handler: ORDERS_GET, auth: "none", apiKeyRequired: true },
    "GET /admin": { handler: ORDERS_GET, auth: "iam" },
  },
  usagePlans: {
    gold: { throttle: { rateLimit: 100, burstLimit: 200 }, quota: { limit: 100000, period: "MONTH", offset: 1 }, apiKeys: ["acme", "globex"] },
    free: { quota: { limit: 1000, period: "DAY" }, apiKeys: ["acme"] },
  },
  waf: { rateLimitPerIp: 2000 },
  accountCloudWatchRole: true,
};

describe("RestApi", () => {
  describe("an API with every feature", () => {
    let resources: RecordedResource[];
    let outputs: Record<string, any>;
    let api: RestApi;

    before(async () => {
      const evaluation = await recordRest("shop", FULL);
      ({ resources, outputs, component: api } = evaluation);
    });

    it("registers its children under the component, the route functions and the authorizer's as SecureFunctions", () => {
      const component = one(resources, T.restComponent, "shop");
      const children = childrenOf(resources, component.urn).map((r) => r.type);
      const count = (type: string) => children.filter((t) => t === type).length;
      expect(count(T.restApi)).to.equal(1);
      expect(count(TYPES.secureFunction)).to.equal(3);
      expect(count(T.method)).to.equal(5);
      expect(count(T.integration)).to.equal(5);
      expect(count(TYPES.permission)).to.equal(6);
      expect(count(T.authorizer)).to.equal(2);
      expect(count(T.usagePlan)).to.equal(2);
      expect(count(T.apiKey)).to.equal(2);
      expect(count(T.usagePlanKey)).to.equal(3);
      for (const type of [T.deployment, T.stage, T.methodSettings, TYPES.logGroup, T.webAcl, T.webAclAssociation, T.account, T.model]) expect(count(type), type).to.equal(1);
      expect(Object.keys(api.functions).sort()).to.deep.equal([ORDERS_GET, ORDERS_LIST].sort());
      expect(api.authorizerFunction).to.not.equal(undefined);
      expect(ofType(resources, TYPES.function).map((f) => f.inputs.name).sort()).to.deep.equal(
        ["shop-dev-shop-authorizer", "shop-dev-shop-orders-get", "shop-dev-shop-orders-list"]);
      for (const fn of ofType(resources, TYPES.function)) expect(fn.inputs.memorySize, fn.name).to.equal(256);
    });

    it("creates a regional REST API named <project>-<stack>-<name>, without a policy", () => {
      expect(one(resources, T.restApi).inputs).to.deep.equal({ name: "shop-dev-shop", endpointConfiguration: { types: "REGIONAL" }, tags: TAGS });
    });

    it("shares one resource per path segment between routes, below the API's root", () => {
      const ids = outputs.resourceIds;
      expect(Object.keys(ids).sort()).to.deep.equal(["/admin", "/orders", "/orders/{orderId}", "/partners", "/partners/{proxy+}"]);
      const byPath = (path: string) => ofType(resources, T.resource).find((r) => r.id === ids[path])!;
      expect(byPath("/orders").inputs).to.deep.equal({ restApi: outputs.apiId, parentId: outputs.rootId, pathPart: "orders" });
      expect(byPath("/orders/{orderId}").inputs).to.deep.equal({ restApi: outputs.apiId, parentId: ids["/orders"], pathPart: "{orderId}" });
      expect(byPath("/partners/{proxy+}").inputs).to.deep.equal({ restApi: outputs.apiId, parentId: ids["/partners"], pathPart: "{proxy+}" });
      expect(ofType(resources, T.resource)).to.have.length(5);
    });

    it("authorizes each method as its route says: Cognito with scopes by default, the Lambda authorizer, none with an API key, IAM", () => {
      const ids = outputs.resourceIds;
      const validators = Object.fromEntries(ofType(resources, T.validator).map((v) => [v.inputs.name, v.id]));
      const model = one(resources, T.model);
      expect(methodOf(resources, "GET", ids["/orders"]).inputs).to.deep.equal({
        restApi: outputs.apiId, resourceId: ids["/orders"], httpMethod: "GET", authorization: "COGNITO_USER_POOLS",
        authorizerId: outputs.cognitoId, authorizationScopes: ["orders/read"], apiKeyRequired: false,
      });
      expect(methodOf(resources, "POST", ids["/orders"]).inputs).to.deep.equal({
        restApi: outputs.apiId, resourceId: ids["/orders"], httpMethod: "POST", authorization: "COGNITO_USER_POOLS",
        authorizerId: outputs.cognitoId, apiKeyRequired: false, requestModels: { "application/json": model.inputs.name }, requestValidatorId: validators.body,
      });
      expect(methodOf(resources, "GET", ids["/orders/{orderId}"]).inputs).to.deep.equal({
        restApi: outputs.apiId, resourceId: ids["/orders/{orderId}"], httpMethod: "GET", authorization: "CUSTOM", authorizerId: outputs.lambdaId,
        apiKeyRequired: false, requestParameters: { "method.request.header.x-tenant": true }, requestValidatorId: validators.parameters,
      });
      expect(methodOf(resources, "ANY", ids["/partners/{proxy+}"]).inputs).to.deep.equal({
        restApi: outputs.apiId, resourceId: ids["/partners/{proxy+}"], httpMethod: "ANY", authorization: "NONE", apiKeyRequired: true,
      });
      expect(methodOf(resources, "GET", ids["/admin"]).inputs).to.deep.equal({
        restApi: outputs.apiId, resourceId: ids["/admin"], httpMethod: "GET", authorization: "AWS_IAM", apiKeyRequired: false,
      });
    });

    it("validates bodies against the route's JSON Schema model, and creates only the validators routes use", () => {
      expect(one(resources, T.model).inputs).to.deep.include({ restApi: outputs.apiId, contentType: "application/json", schema: ORDER_SCHEMA });
      expect(one(resources, T.model).inputs.name).to.match(/^[A-Za-z0-9]+$/);
      expect(ofType(resources, T.validator).map((v) => v.inputs).sort((a, b) => a.name.localeCompare(b.name))).to.deep.equal([
        { restApi: outputs.apiId, name: "body", validateRequestBody: true, validateRequestParameters: false },
        { restApi: outputs.apiId, name: "parameters", validateRequestBody: false, validateRequestParameters: true },
      ]);
    });

    it("integrates every method through AWS_PROXY (payload 1.0: POST to the function's invoke ARN), 29 s", () => {
      for (const integration of ofType(resources, T.integration)) {
        const method = ofType(resources, T.method).find((m) => m.inputs.resourceId === integration.inputs.resourceId && m.inputs.httpMethod === integration.inputs.httpMethod);
        expect(method, integration.name).to.not.equal(undefined);
        expect(integration.inputs).to.deep.include({ restApi: outputs.apiId, type: "AWS_PROXY", integrationHttpMethod: "POST", timeoutMilliseconds: 29000 });
        expect(integration.inputs.uri).to.match(new RegExp(`^arn:aws:apigateway:${TEST_REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:.*:function:shop-dev-shop-orders-(get|list)/invocations$`));
      }
    });

    it("lets each function be invoked from its own method and path on this API only, and the authorizer's from its authorizer only", () => {
      const expected: Record<string, string> = {
        "GET /orders": "/*/GET/orders", "POST /orders": "/*/POST/orders", "GET /orders/{orderId}": "/*/GET/orders/*",
        "ANY /partners/{proxy+}": "/*/*/partners/*", "GET /admin": "/*/GET/admin",
      };
      expect(Object.keys(api.permissions).sort()).to.deep.equal(Object.keys(expected).sort());
      const routePermissions = ofType(resources, TYPES.permission).filter((p) => !p.name.endsWith("authorizer-invoke"));
      expect(routePermissions.map((p) => p.inputs.sourceArn).sort()).to.deep.equal(Object.values(expected).map((s) => `${outputs.executionArn}${s}`).sort());
      expect(outputs.executionArn).to.equal(`arn:aws:execute-api:${TEST_REGION}:${ACCOUNT}:${outputs.apiId}`);
      expect(one(resources, TYPES.permission, "shop-authorizer-invoke").inputs).to.deep.equal({
        action: "lambda:InvokeFunction", function: "shop-dev-shop-authorizer", principal: "apigateway.amazonaws.com",
        sourceArn: `${outputs.executionArn}/authorizers/${outputs.lambdaId}`,
      });
    });

    it("configures the Cognito and Lambda REQUEST authorizers", () => {
      expect(one(resources, T.authorizer, "shop-cognito").inputs).to.deep.equal({
        restApi: outputs.apiId, name: "cognito", type: "COGNITO_USER_POOLS", providerArns: [POOL_ARN], identitySource: "method.request.header.Authorization",
      });
      expect(one(resources, T.authorizer, "shop-lambda-authorizer").inputs).to.deep.equal({
        restApi: outputs.apiId, name: "lambda", type: "REQUEST",
        authorizerUri: `arn:aws:apigateway:${TEST_REGION}:lambda:path/2015-03-31/functions/${lambdaArn("shop-dev-shop-authorizer")}/invocations`,
        identitySource: "method.request.header.Authorization, method.request.querystring.tenant", authorizerResultTtlInSeconds: 60,
      });
    });

    it("creates each named key once, one membership per plan and key, and exports the values as one secret", async () => {
      expect(Object.keys(outputs.planIds).sort()).to.deep.equal(["free", "gold"]);
      expect(ofType(resources, T.apiKey).map((k) => k.inputs)).to.have.deep.members([
        { name: "shop-dev-shop-acme", description: "API key acme of shop", enabled: true, tags: TAGS },
        { name: "shop-dev-shop-globex", description: "API key globex of shop", enabled: true, tags: TAGS },
      ]);
      expect(ofType(resources, T.usagePlanKey).map((k) => k.inputs)).to.have.deep.members([
        { keyId: outputs.keyIds.acme, keyType: "API_KEY", usagePlanId: outputs.planIds.gold },
        { keyId: outputs.keyIds.globex, keyType: "API_KEY", usagePlanId: outputs.planIds.gold },
        { keyId: outputs.keyIds.acme, keyType: "API_KEY", usagePlanId: outputs.planIds.free },
      ]);
      expect(await pulumi.isSecret(api.apiKeys), "apiKeys is secret").to.equal(true);
      const values = outputs.apiKeys;
      expect(Object.keys(values).sort()).to.deep.equal(["acme", "globex"]);
      for (const key of ["acme", "globex"]) expect(values[key]).to.equal(ofType(resources, T.apiKey).find((k) => k.id === outputs.keyIds[key])!.outputs.value);
    });

    it("attaches the plans to the stage with their throttle and quota", () => {
      const gold = ofType(resources, T.usagePlan).find((p) => p.id === outputs.planIds.gold)!;
      expect(gold.inputs).to.deep.equal({
        name: "shop-dev-shop-gold", apiStages: [{ apiId: outputs.apiId, stage: "v1" }],
        throttleSettings: { rateLimit: 100, burstLimit: 200 }, quotaSettings: { limit: 100000, period: "MONTH", offset: 1 }, tags: TAGS,
      });
      const free = ofType(resources, T.usagePlan).find((p) => p.id === outputs.planIds.free)!;
      expect(free.inputs).to.deep.equal({ name: "shop-dev-shop-free", apiStages: [{ apiId: outputs.apiId, stage: "v1" }], quotaSettings: { limit: 1000, period: "DAY", offset: 0 }, tags: TAGS });
    });

    it("deploys a stage v1 with X-Ray and JSON access logs, throttling and metrics on every method", () => {
      const deployment = one(resources, T.deployment);
      expect(deployment.inputs).to.deep.equal({ restApi: outputs.apiId, triggers: { definition: outputs.digest } });
      expect(outputs.digest).to.match(/^[0-9a-f]{64}$/);
      // Deployed after every method and integration exists.
      for (const r of [...ofType(resources, T.method), ...ofType(resources, T.integration)]) expect(deployment.dependencies).to.include(r.urn);
      const stage = one(resources, T.stage);
      const logGroup = one(resources, TYPES.logGroup, "shop-access-logs");
      expect(logGroup.inputs).to.deep.equal({ name: "/aws/apigateway/shop-dev-shop", retentionInDays: 30, tags: TAGS });
      expect(stage.inputs).to.deep.equal({
        restApi: outputs.apiId, deployment: deployment.id, stageName: "v1", xrayTracingEnabled: true,
        accessLogSettings: { destinationArn: logGroup.outputs.arn, format: REST_ACCESS_LOG_FORMAT }, tags: TAGS,
      });
      for (const p of ofType(resources, TYPES.permission)) expect(stage.dependencies, p.name).to.include(p.urn);
      expect(stage.dependencies).to.include(one(resources, T.account).urn);
      expect(JSON.parse(REST_ACCESS_LOG_FORMAT)).to.include({ requestId: "$context.requestId", status: "$context.status", apiKeyId: "$context.identity.apiKeyId" });
      expect(one(resources, T.methodSettings).inputs).to.deep.equal({
        restApi: outputs.apiId, stageName: "v1", methodPath: "*/*", settings: { metricsEnabled: true, throttlingRateLimit: 50, throttlingBurstLimit: 100 },
      });
      expect(outputs.url).to.equal(`https://${outputs.apiId}.execute-api.${TEST_REGION}.amazonaws.com/v1`);
    });

    it("creates a REGIONAL web ACL blocking an IP above the rate, and associates it with the stage", () => {
      const acl = one(resources, T.webAcl);
      expect(acl.inputs).to.deep.include({ name: "shop-dev-shop", scope: "REGIONAL", defaultAction: { allow: {} } });
      expect(acl.inputs.rules).to.have.length(1);
      expect(acl.inputs.rules[0]).to.deep.include({ priority: 0, action: { block: {} }, statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: "IP", evaluationWindowSec: 300 } } });
      expect(one(resources, T.webAclAssociation).inputs).to.deep.equal({ resourceArn: outputs.stageArn, webAclArn: acl.outputs.arn });
    });

    it("sets the account's CloudWatch role, allowed to write this account's log groups only, once its policy is in place", () => {
      const role = ofType(resources, TYPES.role).find((r) => r.name === "shop-apigateway-logs")!;
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).to.deep.equal([{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }]);
      const policy = ofType(resources, TYPES.rolePolicy).find((p) => p.name === "shop-apigateway-logs")!;
      expect(statementsBySid(policy).WriteLogs.Resource).to.deep.equal([`arn:aws:logs:${TEST_REGION}:${ACCOUNT}:log-group:*`]);
      const account = one(resources, T.account);
      expect(account.inputs).to.deep.equal({ cloudwatchRoleArn: role.outputs.arn });
      expect(account.dependencies).to.include(policy.urn);
    });
  });

  describe("a custom domain and tags", () => {
    it("maps the domain to the stage (REST kind), answers domainUrl, and tags every taggable child with the API's tags too", async () => {
      const { resources, outputs } = await recordComponent(() => new RestApi("partners", {
        routes: { "GET /": { handler: HELLO, auth: "none" } },
        domain: { name: "partners.example.com", hostedZoneId: "Z123456ABCDEFG", basePath: "v1" },
        tags: { team: "partners" },
      }), (api) => ({ domainUrl: api.domainUrl, apiId: api.api.id }));
      expect(outputs.domainUrl).to.equal("https://partners.example.com/v1");
      expect(one(resources, "aws:apigateway/basePathMapping:BasePathMapping").inputs).to.deep.include({ restApi: outputs.apiId, domainName: "partners.example.com", stageName: "v1", basePath: "v1" });
      expect(one(resources, "aws:apigateway/domainName:DomainName").inputs).to.deep.include({ domainName: "partners.example.com", securityPolicy: "TLS_1_2" });
      for (const type of [T.restApi, T.stage, "aws:apigateway/domainName:DomainName", "aws:acm/certificate:Certificate", TYPES.function]) {
        expect(ofType(resources, type)[0].inputs.tags, type).to.deep.equal({ team: "partners", ...libraryTags("RestApi/partners") });
      }
    });

    it("refuses a bad domain and bad tags in one round", async () => {
      await expectRefused(() => new RestApi("partners", {
        routes: { "GET /": { handler: HELLO, auth: "none" } },
        domain: { name: "Not A Domain", hostedZoneId: "Z123456ABCDEFG" },
        tags: { "aws:owner": "x" },
      }), "RestApi", "partners", [["domain.name", /Not A Domain/], ["tags.aws:owner", /aws:/]]);
    });
  });

  describe("defaults", () => {
    it("a minimal public API: no authorizer, plans, WAF, validators or account role; throttled, traced and logged", async () => {
      const { resources } = await recordRest("mini", { routes: { "GET /": { handler: HELLO, auth: "none" } } });
      for (const type of [T.authorizer, T.usagePlan, T.apiKey, T.webAcl, T.webAclAssociation, T.account, T.model, T.validator, T.resource]) {
        expect(ofType(resources, type), type).to.have.length(0);
      }
      expect(one(resources, T.stage).inputs).to.deep.include({ stageName: "v1", xrayTracingEnabled: true });
      expect(one(resources, T.methodSettings).inputs.settings).to.deep.equal({ metricsEnabled: true, throttlingRateLimit: 50, throttlingBurstLimit: 100 });
      expect(one(resources, TYPES.permission).inputs.sourceArn).to.match(/\/\*\/GET\/$/);
      expect(one(resources, T.method).inputs).to.deep.include({ authorization: "NONE", apiKeyRequired: false });
    });

    it("tells each route's function its resolved timeout in FUNCTION_TIMEOUT_SECONDS: the route's own, else functionDefaults'", async () => {
      const { resources } = await recordRest("shop", {
        functionDefaults: { timeout: 7 },
        routes: { "GET /orders": { handler: ORDERS_LIST, auth: "iam" }, "GET /orders/{orderId}": { handler: ORDERS_GET, auth: "iam", timeout: 3 } },
      });
      const told = Object.fromEntries(ofType(resources, TYPES.function).map((fn) => [fn.name, [fn.inputs.timeout, fn.inputs.environment.variables]]));
      expect(told).to.deep.equal({
        "shop-orders-list": [7, { FUNCTION_TIMEOUT_SECONDS: "7" }],
        "shop-orders-get": [3, { FUNCTION_TIMEOUT_SECONDS: "3" }],
      });
    });

    it("a Lambda TOKEN authorizer reads the Authorization header and caches 300 s", async () => {
      const { resources } = await recordRest("tok", { auth: { lambda: { handler: HELLO } }, routes: { "GET /me": { handler: ORDERS_GET } } });
      expect(one(resources, T.authorizer).inputs).to.deep.include({ type: "TOKEN", identitySource: "method.request.header.Authorization", authorizerResultTtlInSeconds: 300 });
      expect(one(resources, T.method).inputs.authorization).to.equal("CUSTOM");
    });

    it("a private API is reachable through its VPC endpoints only", async () => {
      const { resources } = await recordRest("internal", { endpointType: "private", vpcEndpointIds: ["vpce-1", "vpce-2"], routes: { "GET /x": { handler: HELLO, auth: "iam" } } });
      const restApi = one(resources, T.restApi);
      expect(restApi.inputs.endpointConfiguration).to.deep.equal({ types: "PRIVATE", vpcEndpointIds: ["vpce-1", "vpce-2"] });
      const statements = JSON.parse(restApi.inputs.policy).Statement;
      expect(statements.find((s: any) => s.Effect === "Deny")).to.deep.include({ Condition: { StringNotEquals: { "aws:SourceVpce": ["vpce-1", "vpce-2"] } }, Resource: "execute-api:/*" });
    });

    it("takes a resource policy and an existing web ACL as given", async () => {
      const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*" }] });
      const webAclArn = `arn:aws:wafv2:${TEST_REGION}:${ACCOUNT}:regional/webacl/edge/abc`;
      const { resources } = await recordRest("given", { resourcePolicy: policy, waf: { webAclArn }, routes: { "GET /x": { handler: HELLO, auth: "none" } } });
      expect(one(resources, T.restApi).inputs.policy).to.equal(policy);
      expect(ofType(resources, T.webAcl)).to.have.length(0);
      expect(one(resources, T.webAclAssociation).inputs.webAclArn).to.equal(webAclArn);
    });
  });

  describe("the deployment's digest", () => {
    const base = (): RestApiArgs => ({ routes: { "GET /a": { handler: HELLO, auth: "none" }, "GET /b": { handler: HELLO, auth: "none" } } });
    const digestOf = async (args: RestApiArgs) => (await recordRest("d", args)).outputs.digest as string;

    it("is the same for the same definition, whatever the order of the routes", async () => {
      const first = await digestOf(base());
      expect(await digestOf(base())).to.equal(first);
      expect(await digestOf({ routes: { "GET /b": { handler: HELLO, auth: "none" }, "GET /a": { handler: HELLO, auth: "none" } } })).to.equal(first);
      // Settings the deployment does not snapshot (a function's memory) leave it alone.
      expect(await digestOf({ ...base(), functionDefaults: { memorySize: 1024 } })).to.equal(first);
    });

    it("changes with a route, its auth, its model, an authorizer or the policy", async () => {
      const first = await digestOf(base());
      const changed = [
        { routes: { ...base().routes, "GET /c": { handler: HELLO, auth: "none" as const } } },
        { routes: { ...base().routes, "GET /b": { handler: HELLO, auth: "iam" as const } } },
        { routes: { ...base().routes, "POST /b": { handler: HELLO, auth: "none" as const, requestSchema: ORDER_SCHEMA } } },
        { ...base(), auth: { cognito: { userPoolArns: [POOL_ARN] } } },
        { ...base(), resourcePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) },
      ];
      const digests = await Promise.all(changed.map(digestOf));
      for (const digest of digests) expect(digest).to.not.equal(first);
      expect(new Set(digests).size).to.equal(digests.length);
    });

    it("is a digest of the definition's canonical JSON", () => {
      expect(definitionDigest({ a: 1, b: [1, { c: 2, d: undefined }] })).to.equal(definitionDigest({ b: [1, { c: 2 }], a: 1 }));
      expect(definitionDigest({ a: 1 })).to.not.equal(definitionDigest({ a: 2 }));
    });
  });

  describe("the resource tree", () => {
    it("shares prefixes, parents first", () => {
      const problems = new ProblemCollector();
      expect(resourceTree(["/", "/a/b", "/a", "/a/{id}/c"], problems)).to.deep.equal([
        { path: "/a", parentPath: "/", pathPart: "a" },
        { path: "/a/b", parentPath: "/a", pathPart: "b" },
        { path: "/a/{id}", parentPath: "/a", pathPart: "{id}" },
        { path: "/a/{id}/c", parentPath: "/a/{id}", pathPart: "c" },
      ]);
      expect(problems.problems).to.deep.equal([]);
    });
  });

  describe("refuses, all at once and before registering anything", () => {
    it("bad routes, auth, timeouts above 29 s, schemas and parameters", async () => {
      await refuse({
        routes: {
          "$default": { handler: HELLO, auth: "none" },
          "GET /a": { handler: HELLO },
          "GET /b": { handler: ORDERS_LIST, auth: "cognito", scopes: ["x"], timeout: 30 },
          "GET /c": { handler: ORDERS_GET, auth: "none", scopes: ["x"], apiKeyRequired: true, requestSchema: ORDER_SCHEMA },
          "POST /c": { handler: ORDERS_GET, auth: "none", requestSchema: "{not json", requestParameters: { "query.page": true } },
          "PUT /c": { handler: ORDERS_GET, auth: "lambda", requestSchema: "[1]" },
        },
      }, [
        ["routes[\"$default\"]", /REST API has no \$default: write "ANY \/\{proxy\+\}"/],
        ["routes[\"GET /a\"].auth", /not set and the API has no authorizer/],
        ["routes[\"GET /b\"].auth", /"cognito" but the API has no Cognito authorizer/],
        ["routes[\"GET /b\"].timeout", /30 seconds is above the REST API's 29 s integration limit/],
        ["routes[\"GET /c\"].scopes", /only apply to Cognito routes/],
        ["routes[\"GET /c\"].apiKeyRequired", /no usage plans, so no key could ever call it/],
        ["routes[\"PUT /c\"].auth", /"lambda" but the API has no Lambda authorizer/],
        ["routes[\"GET /c\"].requestSchema", /a GET request has none/],
        ["routes[\"POST /c\"].requestSchema", /is not JSON/],
        ["routes[\"POST /c\"].requestParameters", /"query.page" is not method.request.querystring/],
        ["routes[\"PUT /c\"].requestSchema", /is \[1\], not a JSON Schema object/],
      ]);
    });

    it("bad authorizers, usage plans, endpoint and WAF settings", async () => {
      await refuse({
        auth: { cognito: { userPoolArns: [] }, lambda: { handler: HELLO, type: "token", identitySource: "method.request.querystring.t", resultTtlSeconds: 3601 } },
        usagePlans: {
          "bad name": { apiKeys: ["k"] },
          p: { throttle: { rateLimit: -1, burstLimit: 1.5 }, quota: { limit: -5, period: "WEEK", offset: 7 }, apiKeys: ["k", "k"] },
          q: { quota: { limit: 1, period: "YEAR" as never }, apiKeys: [] },
        },
        endpointType: "private",
        resourcePolicy: "{}",
        waf: { webAclArn: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y", rateLimitPerIp: 5 },
        routes: { "GET /a": { handler: ORDERS_GET } },
      }, [
        ["auth.cognito.userPoolArns", /is empty/],
        ["auth.lambda.resultTtlSeconds", /3601 seconds is outside 0-3600/],
        ["auth.lambda.identitySource", /is not one header/],
        ["usagePlans[\"bad name\"]", /is not a plan name/],
        ["usagePlans[\"p\"].throttle.rateLimit", /-1 is not a number of 0 or more/],
        ["usagePlans[\"p\"].throttle.burstLimit", /1.5 is not a whole number of 0 or more/],
        ["usagePlans[\"p\"].quota.limit", /-5 is not a whole number/],
        ["usagePlans[\"p\"].quota.offset", /7 days into the WEEK is outside 0-6/],
        ["usagePlans[\"p\"].apiKeys", /names a key twice/],
        ["usagePlans[\"q\"].quota.period", /"YEAR" is not allowed; use one of "DAY", "WEEK", "MONTH"/],
        ["vpcEndpointIds", /is empty but endpointType is "private"/],
        ["resourcePolicy", /is set with endpointType "private"/],
        ["resourcePolicy", /has no Statement list/],
        ["waf", /needs exactly one of webAclArn/],
        ["waf.rateLimitPerIp", /5 requests per 5 minutes is outside 10-2000000000/],
        ["waf.webAclArn", /not a regional WAFv2 web ACL ARN/],
      ]);
    });

    it("usage plans and key lists that are not a map and lists (a string would be read as plans and keys named by its characters)", async () => {
      await refuse({ usagePlans: "gold" as never, routes: { "GET /a": { handler: HELLO, auth: "none" } } }, [
        ["usagePlans", /"gold" is not a map of plans by name; write e.g. \{ gold: \{ apiKeys: \["acme"\] \} \}/],
      ]);
      await refuse({
        usagePlans: { gold: { apiKeys: "acme" as never }, free: {} as never, trial: ["acme"] as never },
        routes: { "GET /a": { handler: HELLO, auth: "none" } },
      }, [
        ["usagePlans[\"gold\"].apiKeys", /"acme" is not a list of key names; write e.g. \["acme"\]/],
        ["usagePlans[\"free\"].apiKeys", /is required; name the plan's keys, e.g. \["acme"\]/],
        ["usagePlans[\"trial\"]", /\["acme"\] is not a usage plan; write e.g. \{ apiKeys: \["acme"\] \}/],
      ]);
    });

    it("two path parameters of different names at one place, and more keys' plans than AWS allows", async () => {
      const plans = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, { apiKeys: ["shared"] }]));
      await refuse({
        usagePlans: plans,
        routes: { "GET /o/{id}": { handler: HELLO, auth: "none" }, "DELETE /o/{orderId}": { handler: HELLO, auth: "none" } },
      }, [
        ["routes", /"\{orderId\}" and "\{id\}" both follow "\/o", and a REST API allows one path parameter per place/],
        ["usagePlans", /key "shared" is in 11 plans, above the 10/],
      ].map(([p, r]) => [p, r] as [string, RegExp]).reverse());
    });
  });
});
