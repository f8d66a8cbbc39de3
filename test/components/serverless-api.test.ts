import { createHash } from "crypto";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { ServerlessApi, ServerlessApiArgs } from "../../components";
import { corsOriginProblem } from "../../components/cors";
import { ACCESS_LOG_FORMAT, functionNameForHandler, mergeFunctionArgs, routeKeyProblem, routeSourceArnPath } from "../../components/serverless-api";
import { Evaluation } from "../../tools/mock-engine";
import { one, ofType, RecordedResource } from "../mocks";
import {
  ACCOUNT, childrenOf, expectDeploymentFailure, expectRefused, HELLO, lambdaArn, libraryTags, logGroupArn, ORDERS_GET, ORDERS_LIST, recordComponent, statementsBySid, TEST_REGION, TYPES,
} from "./support";

const JWT = { issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", audience: ["client-1", "client-2"] };
const TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders";

/** Evaluates one ServerlessApi; the outputs carry the ids the children refer to. */
function recordApi(name: string, args: ServerlessApiArgs) {
  return recordComponent(() => new ServerlessApi(name, args), (api) => {
    const integrationIds: Record<string, pulumi.Output<string>> = {};
    for (const [handler, integration] of Object.entries(api.integrations)) integrationIds[handler] = integration.id;
    return {
      apiId: api.api.id,
      executionArn: api.api.executionArn,
      url: api.url,
      integrationIds,
      ...(api.authorizer ? { authorizerId: api.authorizer.id } : {}),
    };
  });
}

function refuse(args: ServerlessApiArgs, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new ServerlessApi("api", args), "ServerlessApi", "api", problems);
}

/** The Lambda permission named for `routeKey` on the function `functionName`. */
function permissionFor(resources: RecordedResource[], functionName: string, routeKey: string): RecordedResource {
  const digest = createHash("sha256").update(routeKey).digest("hex").slice(0, 6);
  const found = ofType(resources, TYPES.permission).filter((p) => p.name.startsWith(`${functionName}-invoke-`) && p.name.endsWith(`-${digest}`));
  expect(found, `one permission for ${routeKey} on ${functionName}`).to.have.length(1);
  return found[0];
}

function routeNamed(resources: RecordedResource[], routeKey: string): RecordedResource {
  const found = ofType(resources, TYPES.route).filter((r) => r.inputs.routeKey === routeKey);
  expect(found, `one route ${routeKey}`).to.have.length(1);
  return found[0];
}

describe("ServerlessApi", () => {
  describe("an API with a JWT authorizer, shared handlers and CORS", () => {
    let evaluation: Evaluation & { component: ServerlessApi };
    let resources: RecordedResource[];
    let outputs: Record<string, any>;

    before(async () => {
      evaluation = await recordApi("orders-api", {
        auth: { jwt: JWT },
        cors: { allowOrigins: ["https://app.example.com"] },
        functionDefaults: {
          memorySize: 256,
          environment: { STAGE: "dev" },
          permissions: [{ actions: ["dynamodb:GetItem"], resources: [TABLE_ARN] }],
        },
        routes: {
          "GET /orders": { handler: ORDERS_LIST, scopes: ["orders/read"] },
          "GET /orders/{orderId}": { handler: ORDERS_GET },
          "GET /health": { handler: HELLO, auth: "none" },
          "ANY /admin/{proxy+}": { handler: HELLO, auth: "iam" },
        },
      });
      resources = evaluation.resources;
      outputs = evaluation.outputs;
    });

    it("registers the API, authorizer, one function/integration per handler, one permission per route, the routes, logs and stage", () => {
      const component = one(resources, TYPES.serverlessApi, "orders-api");
      const children = childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`).sort();
      expect(children).to.deep.equal([
        `${TYPES.api}::orders-api`,
        `${TYPES.authorizer}::orders-api-jwt`,
        `${TYPES.secureFunction}::orders-api-orders-list`,
        `${TYPES.secureFunction}::orders-api-orders-get`,
        `${TYPES.secureFunction}::orders-api-hello`,
        `${TYPES.integration}::orders-api-orders-list-integration`,
        `${TYPES.integration}::orders-api-orders-get-integration`,
        `${TYPES.integration}::orders-api-hello-integration`,
        `${TYPES.permission}::${permissionFor(resources, "orders-api-orders-list", "GET /orders").name}`,
        `${TYPES.permission}::${permissionFor(resources, "orders-api-orders-get", "GET /orders/{orderId}").name}`,
        `${TYPES.permission}::${permissionFor(resources, "orders-api-hello", "GET /health").name}`,
        `${TYPES.permission}::${permissionFor(resources, "orders-api-hello", "ANY /admin/{proxy+}").name}`,
        ...["GET /orders", "GET /orders/{orderId}", "GET /health", "ANY /admin/{proxy+}"].map((key) => `${TYPES.route}::${routeNamed(resources, key).name}`),
        `${TYPES.logGroup}::orders-api-access-logs`,
        `${TYPES.stage}::orders-api-stage`,
      ].sort());
      expect(ofType(resources, TYPES.function)).to.have.length(3);
      expect(Object.keys(evaluation.component.functions).sort()).to.deep.equal([HELLO, ORDERS_GET, ORDERS_LIST].sort());
    });

    it("creates an HTTP API named <project>-<stack>-<name> with the CORS defaults", () => {
      expect(one(resources, TYPES.api).inputs).to.deep.equal({
        tags: libraryTags("ServerlessApi/orders-api"),
        name: "shop-dev-orders-api",
        protocolType: "HTTP",
        corsConfiguration: {
          allowOrigins: ["https://app.example.com"],
          allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
          allowHeaders: ["authorization", "content-type"],
          exposeHeaders: [],
          allowCredentials: false,
          maxAge: 600,
        },
      });
    });

    it("configures the JWT authorizer on the Authorization header", () => {
      expect(one(resources, TYPES.authorizer).inputs).to.deep.equal({
        apiId: outputs.apiId,
        name: "jwt",
        authorizerType: "JWT",
        identitySources: ["$request.header.Authorization"],
        jwtConfiguration: { issuer: JWT.issuer, audiences: JWT.audience },
      });
    });

    it("integrates every handler through AWS_PROXY with payload 2.0, invoking the function", () => {
      for (const [handler, functionName] of [[ORDERS_LIST, "orders-list"], [ORDERS_GET, "orders-get"], [HELLO, "hello"]]) {
        expect(one(resources, TYPES.integration, `orders-api-${functionName}-integration`).inputs).to.deep.equal({
          apiId: outputs.apiId,
          integrationType: "AWS_PROXY",
          integrationUri: lambdaArn(`shop-dev-orders-api-${functionName}`),
          payloadFormatVersion: "2.0",
          timeoutMilliseconds: 30000,
        }, handler);
      }
    });

    it("lets each function be invoked only from its own routes (<executionArn>/*/<METHOD>/<path>, {param} as *), without a qualifier", () => {
      expect(outputs.executionArn).to.equal(`arn:aws:execute-api:${TEST_REGION}:${ACCOUNT}:${outputs.apiId}`);
      const expected: [string, string, string][] = [
        ["orders-list", "GET /orders", "/*/GET/orders"],
        ["orders-get", "GET /orders/{orderId}", "/*/GET/orders/*"],
        ["hello", "GET /health", "/*/GET/health"],
        ["hello", "ANY /admin/{proxy+}", "/*/*/admin/*"],
      ];
      for (const [functionName, routeKey, scope] of expected) {
        expect(permissionFor(resources, `orders-api-${functionName}`, routeKey).inputs).to.deep.equal({
          action: "lambda:InvokeFunction",
          function: `shop-dev-orders-api-${functionName}`,
          principal: "apigateway.amazonaws.com",
          sourceArn: `${outputs.executionArn}${scope}`,
        }, routeKey);
      }
      expect(ofType(resources, TYPES.permission)).to.have.length(expected.length);
      expect(Object.keys(evaluation.component.permissions).sort()).to.deep.equal(expected.map(([, routeKey]) => routeKey).sort());
    });

    it("scopes a $default route's permission to <executionArn>/*/$default", async () => {
      const { resources, outputs } = await recordApi("api", { routes: { $default: { handler: HELLO, auth: "none" } } });
      expect(one(resources, TYPES.permission).inputs.sourceArn).to.equal(`${outputs.executionArn}/*/$default`);
    });

    it("forms the source ARN path of $default, the root and ANY as API Gateway does", () => {
      expect(routeSourceArnPath("$default")).to.equal("$default");
      expect(routeSourceArnPath("GET /")).to.equal("GET/");
      expect(routeSourceArnPath("ANY /{proxy+}")).to.equal("*/*");
      expect(routeSourceArnPath("POST /orders/{orderId}/items/{sku}")).to.equal("POST/orders/*/items/*");
    });

    it("routes: JWT by default (with scopes), NONE and AWS_IAM when a route says so, each to its handler's integration", () => {
      const ids = outputs.integrationIds;
      expect(routeNamed(resources, "GET /orders").inputs).to.deep.equal({
        apiId: outputs.apiId, routeKey: "GET /orders", target: `integrations/${ids[ORDERS_LIST]}`,
        authorizationType: "JWT", authorizerId: outputs.authorizerId, authorizationScopes: ["orders/read"],
      });
      expect(routeNamed(resources, "GET /orders/{orderId}").inputs).to.deep.equal({
        apiId: outputs.apiId, routeKey: "GET /orders/{orderId}", target: `integrations/${ids[ORDERS_GET]}`,
        authorizationType: "JWT", authorizerId: outputs.authorizerId,
      });
      expect(routeNamed(resources, "GET /health").inputs).to.deep.equal({
        apiId: outputs.apiId, routeKey: "GET /health", target: `integrations/${ids[HELLO]}`, authorizationType: "NONE",
      });
      expect(routeNamed(resources, "ANY /admin/{proxy+}").inputs).to.deep.equal({
        apiId: outputs.apiId, routeKey: "ANY /admin/{proxy+}", target: `integrations/${ids[HELLO]}`, authorizationType: "AWS_IAM",
      });
      expect(new Set(Object.values(ids)).size).to.equal(3);
    });

    it("shares one function between routes that name the same handler with the same settings", () => {
      const hello = ofType(resources, TYPES.function).filter((f) => f.inputs.name === "shop-dev-orders-api-hello");
      expect(hello).to.have.length(1);
      expect(ofType(resources, TYPES.integration).filter((i) => i.name.startsWith("orders-api-hello"))).to.have.length(1);
      // ...but a permission per route: the function answers exactly its own routes.
      expect(ofType(resources, TYPES.permission).filter((p) => p.name.startsWith("orders-api-hello"))).to.have.length(2);
    });

    it("applies functionDefaults to every route's function", () => {
      for (const fn of ofType(resources, TYPES.function)) {
        expect(fn.inputs.memorySize, fn.name).to.equal(256);
        expect(fn.inputs.environment, fn.name).to.deep.equal({ variables: { STAGE: "dev", FUNCTION_TIMEOUT_SECONDS: "10" } });
      }
      for (const policy of ofType(resources, TYPES.rolePolicy)) {
        expect(statementsBySid(policy).Granted0, policy.name).to.deep.equal({ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [TABLE_ARN] });
      }
    });

    it("keeps JSON access logs with the required fields in their own log group", () => {
      const logGroup = one(resources, TYPES.logGroup, "orders-api-access-logs");
      expect(logGroup.inputs).to.deep.equal({ tags: libraryTags("ServerlessApi/orders-api"), name: "/aws/apigateway/shop-dev-orders-api", retentionInDays: 30 });
      const stage = one(resources, TYPES.stage);
      expect(stage.inputs.accessLogSettings.destinationArn).to.equal(logGroupArn("/aws/apigateway/shop-dev-orders-api"));
      // A literal copy of ACCESS_LOG_FORMAT on purpose: the field names are a contract with
      // whoever queries the logs (Logs Insights queries, dashboards), so renaming one must
      // fail here rather than pass by comparing the constant with itself.
      expect(JSON.parse(stage.inputs.accessLogSettings.format)).to.deep.equal({
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
      expect(stage.inputs.accessLogSettings.format).to.equal(ACCESS_LOG_FORMAT);
    });

    it("deploys the $default stage automatically, throttled by default at 50 rps / 100 burst", () => {
      const { accessLogSettings: _logs, ...stage } = one(resources, TYPES.stage).inputs;
      expect(stage).to.deep.equal({
        tags: libraryTags("ServerlessApi/orders-api"),
        apiId: outputs.apiId,
        name: "$default",
        autoDeploy: true,
        defaultRouteSettings: { throttlingRateLimit: 50, throttlingBurstLimit: 100, detailedMetricsEnabled: true },
      });
      expect(outputs.url).to.equal(`https://${outputs.apiId}.execute-api.${TEST_REGION}.amazonaws.com/`);
    });

    it("creates the stage after every route and every Lambda permission", () => {
      const stage = one(resources, TYPES.stage);
      const required = [...ofType(resources, TYPES.route), ...ofType(resources, TYPES.permission)];
      expect(required).to.have.length(8);
      for (const resource of required) expect(stage.dependencies, resource.name).to.include(resource.urn);
    });
  });

  describe("provisioned concurrency", () => {
    it("integrates and permits the alias, so the warm capacity is used", async () => {
      const { resources, outputs } = await recordApi("api", {
        routes: { "GET /hello": { handler: HELLO, auth: "none", provisionedConcurrency: 1 } },
      });
      const aliasArn = lambdaArn("shop-dev-api-hello", "live");
      expect(one(resources, TYPES.alias).inputs).to.deep.equal({ name: "live", functionName: "shop-dev-api-hello", functionVersion: "1" });
      expect(one(resources, TYPES.integration).inputs.integrationUri).to.equal(aliasArn);
      expect(one(resources, TYPES.permission).inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: "shop-dev-api-hello",
        qualifier: "live",
        principal: "apigateway.amazonaws.com",
        sourceArn: `${outputs.executionArn}/*/GET/hello`,
      });
      expect(one(resources, TYPES.provisioned).inputs.qualifier).to.equal("live");
    });
  });

  describe("settings", () => {
    it("sets custom throttling, access log retention and CORS", async () => {
      const { resources } = await recordApi("api", {
        throttle: { rateLimit: 10, burstLimit: 20 },
        accessLogRetentionDays: 365,
        cors: {
          allowOrigins: ["https://a.example.com", "https://b.example.com"], allowMethods: ["GET"], allowHeaders: ["x-api-key"],
          exposeHeaders: ["x-request-id"], allowCredentials: true, maxAgeSeconds: 0,
        },
        routes: { "GET /hello": { handler: HELLO, auth: "iam" } },
      });
      expect(one(resources, TYPES.stage).inputs.defaultRouteSettings).to.deep.equal({ throttlingRateLimit: 10, throttlingBurstLimit: 20, detailedMetricsEnabled: true });
      expect(one(resources, TYPES.logGroup, "api-access-logs").inputs.retentionInDays).to.equal(365);
      expect(one(resources, TYPES.api).inputs.corsConfiguration).to.deep.equal({
        allowOrigins: ["https://a.example.com", "https://b.example.com"], allowMethods: ["GET"], allowHeaders: ["x-api-key"],
        exposeHeaders: ["x-request-id"], allowCredentials: true, maxAge: 0,
      });
      expect(ofType(resources, TYPES.authorizer)).to.deep.equal([]);
    });

    it("sets no CORS configuration without cors", async () => {
      const { resources } = await recordApi("api", { routes: { "GET /hello": { handler: HELLO, auth: "none" } } });
      expect(one(resources, TYPES.api).inputs).to.deep.equal({ tags: libraryTags("ServerlessApi/api"), name: "shop-dev-api", protocolType: "HTTP" });
    });

    it("accepts CORS beside an authorized $default route once a public OPTIONS /{proxy+} route answers preflights, and routes that differ in method or a literal segment", async () => {
      const { resources } = await recordApi("api", {
        auth: { jwt: JWT },
        cors: { allowOrigins: ["https://app.example.com"], allowMethods: ["GET", "*"] },
        routes: {
          "$default": { handler: ORDERS_LIST },
          "OPTIONS /{proxy+}": { handler: HELLO, auth: "none" },
          "GET /x/{id}": { handler: ORDERS_GET },
          "DELETE /x/{key}": { handler: ORDERS_GET },
          "GET /x/latest": { handler: ORDERS_GET },
        },
      });
      expect(ofType(resources, TYPES.route).map((r) => r.inputs.routeKey).sort()).to.deep.equal(["$default", "DELETE /x/{key}", "GET /x/latest", "GET /x/{id}", "OPTIONS /{proxy+}"]);
    });

    it("accepts $default, GET / and a final {proxy+} as route keys, and a 30 s timeout", async () => {
      const { resources } = await recordApi("api", {
        routes: {
          $default: { handler: HELLO, auth: "none", timeout: 30 },
          "GET /": { handler: HELLO, auth: "none", timeout: 30 },
          "ANY /files/{proxy+}": { handler: HELLO, auth: "none", timeout: 30 },
        },
      });
      expect(ofType(resources, TYPES.route).map((r) => r.inputs.routeKey).sort()).to.deep.equal(["$default", "ANY /files/{proxy+}", "GET /"].sort());
      expect(one(resources, TYPES.function).inputs.timeout).to.equal(30);
    });

    it("tells each route's function its resolved timeout in FUNCTION_TIMEOUT_SECONDS: the route's own, else functionDefaults'", async () => {
      const { resources } = await recordApi("api", {
        functionDefaults: { timeout: 7, environment: { STAGE: "dev" } },
        routes: {
          "GET /orders": { handler: ORDERS_LIST, auth: "iam" },
          "GET /orders/{orderId}": { handler: ORDERS_GET, auth: "iam", timeout: 3 },
        },
      });
      const told = Object.fromEntries(ofType(resources, TYPES.function).map((fn) => [fn.name, [fn.inputs.timeout, fn.inputs.environment.variables]]));
      expect(told).to.deep.equal({
        "api-orders-list": [7, { STAGE: "dev", FUNCTION_TIMEOUT_SECONDS: "7" }],
        "api-orders-get": [3, { STAGE: "dev", FUNCTION_TIMEOUT_SECONDS: "3" }],
      });
    });

    it("merges functionDefaults with a route's own settings: maps merged, permissions concatenated, scalars overridden", async () => {
      const defaults = { actions: ["dynamodb:GetItem"], resources: [TABLE_ARN] };
      const own = { actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-west-1:123456789012:q"] };
      const { resources } = await recordApi("api", {
        functionDefaults: {
          timeout: 5, memorySize: 256,
          environment: { A: "1", B: "2" },
          parameters: { p: "x" },
          permissions: [defaults],
        },
        routes: {
          "POST /orders": {
            handler: HELLO, auth: "iam", timeout: 6,
            environment: { B: "3", C: "4" },
            parameters: { q: "y" },
            permissions: [own],
          },
        },
      });
      const fn = one(resources, TYPES.function);
      expect(fn.inputs.timeout).to.equal(6);
      expect(fn.inputs.memorySize).to.equal(256);
      expect(fn.inputs.environment).to.deep.equal({ variables: { A: "1", B: "3", C: "4", PARAMETERS_PATH: "/shop/dev/api-hello", FUNCTION_TIMEOUT_SECONDS: "6" } });
      expect(ofType(resources, TYPES.parameter).map((p) => p.inputs.name)).to.deep.equal(["/shop/dev/api-hello/p", "/shop/dev/api-hello/q"]);
      const statements = statementsBySid(one(resources, TYPES.rolePolicy));
      expect(statements.Granted0).to.deep.equal({ Effect: "Allow", Action: defaults.actions, Resource: defaults.resources });
      expect(statements.Granted1).to.deep.equal({ Effect: "Allow", Action: own.actions, Resource: own.resources });
      expect(statements).not.to.have.property("Granted2");
    });

    it("mergeFunctionArgs drops auth and scopes and never mutates its inputs", () => {
      const defaults = { environment: { A: "1" }, permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }] };
      const route = { handler: HELLO, auth: "jwt" as const, scopes: ["s"], environment: { B: "2" }, memorySize: undefined };
      const before = JSON.stringify([defaults, route]);
      expect(mergeFunctionArgs(defaults, route)).to.deep.equal({
        handler: HELLO,
        environment: { A: "1", B: "2" },
        permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }],
      });
      expect(JSON.stringify([defaults, route])).to.equal(before);
      expect(mergeFunctionArgs(undefined, { handler: HELLO, timeout: 3 })).to.deep.equal({ handler: HELLO, timeout: 3 });
    });

    it("names route resources by content, so reordering routes renames nothing", async () => {
      const routes: ServerlessApiArgs["routes"] = {
        "GET /orders": { handler: ORDERS_LIST, auth: "none" },
        "GET /orders/{orderId}": { handler: ORDERS_GET, auth: "none" },
        "GET /health": { handler: HELLO, auth: "none" },
      };
      const reversed = Object.fromEntries(Object.entries(routes).reverse());
      expect(Object.keys(reversed)[0]).to.equal("GET /health");
      const names = async (r: ServerlessApiArgs["routes"]) => {
        const { resources } = await recordApi("api", { routes: r });
        return Object.fromEntries(
          resources.filter((x) => (x.custom && x.type.startsWith("aws:apigatewayv2")) || x.type === TYPES.permission || x.type === TYPES.function)
            .map((x) => [x.name, x.inputs.routeKey ?? x.type]),
        );
      };
      const first = await names(routes);
      const second = await names(reversed);
      expect(second).to.deep.equal(first);
      const digest = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 6);
      expect(first[`api-route-get-orders-${digest("GET /orders")}`]).to.equal("GET /orders");
      expect(first[`api-route-get-orders-order-id-${digest("GET /orders/{orderId}")}`]).to.equal("GET /orders/{orderId}");
      expect(first[`api-route-get-health-${digest("GET /health")}`]).to.equal("GET /health");
    });

    it("names a handler's function after its file, or file and export", () => {
      expect(functionNameForHandler("api", "handlers/orders/get-order.handler")).to.equal("api-get-order");
      expect(functionNameForHandler("api", "./handlers/orders/get-order.handler")).to.equal("api-get-order");
      expect(functionNameForHandler("api", "test/fixtures/orders.list")).to.equal("api-orders-list");
      expect(functionNameForHandler("api", "lib/fulfilOrders.processBatch")).to.equal("api-fulfil-orders-process-batch");
    });
  });

  describe("values known only once they resolve", () => {
    it("fails the deployment, naming the route's function and argument, when a resource Output resolves to \"*\"", async () => {
      await expectDeploymentFailure(
        () => new ServerlessApi("api", { routes: { "GET /x": { handler: HELLO, auth: "none", permissions: [{ actions: ["s3:GetObject"], resources: [pulumi.output("*")] }] } } }),
        "SecureFunction", "api-hello",
        ["permissions[0].resources[0]", /^"\*" grants the actions on every resource/],
      );
    });
  });

  describe("CORS origins", () => {
    for (const origin of ["*", "https://app.example.com", "http://localhost:3000", "https://*.example.com", "capacitor://localhost", "http://[::1]:8080"]) {
      it(`accepts ${JSON.stringify(origin)}`, () => {
        expect(corsOriginProblem(origin)).to.equal(undefined);
      });
    }
  });

  describe("route keys", () => {
    const valid = ["$default", "GET /", "GET /orders", "POST /orders/{orderId}/items", "ANY /{proxy+}", "DELETE /a/{b}/{rest+}", "OPTIONS /v1/x.json", "HEAD /h", "PATCH /p", "PUT /p"];
    for (const key of valid) {
      it(`accepts ${JSON.stringify(key)}`, () => {
        expect(routeKeyProblem(key)).to.equal(undefined);
      });
    }
    const invalid: Array<[string, RegExp]> = [
      ["GET orders", /^is not a route key; write "METHOD \/path" with METHOD one of GET POST PUT PATCH DELETE HEAD OPTIONS ANY, or "\$default"\.$/],
      ["get /orders", /^is not a route key/],
      ["GET  /orders", /^is not a route key/],
      ["FETCH /orders", /^has method FETCH; write "METHOD \/path"/],
      ["GET /orders/", /^has path segment ""; use literal text, \{param\} or a final \{proxy\+\}\.$/],
      ["GET /orders//x", /^has path segment ""/],
      ["GET /a b", /^has path segment "a b"/],
      ["GET /{orderId", /^has path segment "\{orderId"/],
      ["GET /{proxy+}/items", /^has a greedy \{param\+\} that is not the last segment; move it to the end\.$/],
      ["default", /^is not a route key/],
      ["", /^is not a route key/],
    ];
    for (const [key, reason] of invalid) {
      it(`refuses ${JSON.stringify(key)}`, () => {
        expect(routeKeyProblem(key)).to.match(reason);
      });
    }
  });

  describe("validation (nothing is registered)", () => {
    it("refuses a bad route key", async () => {
      await refuse({ routes: { "GET /{proxy+}/x": { handler: HELLO, auth: "none" } } }, [
        ['routes["GET /{proxy+}/x"]', /greedy/],
      ]);
    });

    it("refuses a route without auth when the API has no JWT authorizer", async () => {
      await refuse({ routes: { "GET /x": { handler: HELLO } } }, [
        ['routes["GET /x"].auth', /^is not set and the API has no JWT authorizer; set auth: "jwt" \(with auth\.jwt on the API\), "lambda" \(with auth\.lambda\), "iam", or "none" for a public route\.$/],
      ]);
    });

    it("refuses auth: \"jwt\" without an authorizer", async () => {
      await refuse({ routes: { "GET /x": { handler: HELLO, auth: "jwt" } } }, [
        ['routes["GET /x"].auth', /^is "jwt" but the API has no JWT authorizer; add auth\.jwt \{ issuer, audience \} to the API\.$/],
      ]);
    });

    it("refuses an unknown auth", async () => {
      await refuse({ auth: { jwt: JWT }, routes: { "GET /x": { handler: HELLO, auth: "cognito" as never } } }, [
        ['routes["GET /x"].auth', /^"cognito" is not allowed; use "jwt", "lambda", "iam" or "none"\.$/],
      ]);
    });

    it("refuses scopes on a route that is not JWT", async () => {
      await refuse({ auth: { jwt: JWT }, routes: { "GET /x": { handler: HELLO, auth: "iam", scopes: ["a"] } } }, [
        ['routes["GET /x"].scopes', /^only apply to JWT routes; remove them or set auth: "jwt"\.$/],
      ]);
    });

    it("refuses a JWT authorizer without issuer or audience", async () => {
      await refuse({ auth: { jwt: { issuer: "", audience: ["a"] } }, routes: { "GET /x": { handler: HELLO } } }, [
        ["auth.jwt", /^needs both issuer and audience\.$/],
      ]);
    });

    it("refuses a timeout above the 30 s integration limit, from the route or from functionDefaults", async () => {
      await refuse({ routes: { "GET /x": { handler: HELLO, auth: "none", timeout: 31 } } }, [
        ['routes["GET /x"].timeout', /^31 seconds is above the HTTP API's 30 s integration limit; lower it, or move long work to a QueueWorker\.$/],
      ]);
      await refuse({ functionDefaults: { timeout: 60 }, routes: { "GET /x": { handler: HELLO, auth: "none" } } }, [
        ['routes["GET /x"].timeout', /^60 seconds is above/],
      ]);
    });

    it("refuses one handler with two different settings", async () => {
      await refuse({
        routes: {
          "GET /a": { handler: HELLO, auth: "none", memorySize: 256 },
          "GET /b": { handler: HELLO, auth: "none", memorySize: 512 },
        },
      }, [
        ['routes["GET /b"]', /^uses handler "test\/fixtures\/hello\.handler" with other function settings than "GET \/a"; give them the same settings \(they share one function\) or use separate handlers\.$/],
      ]);
      await refuse({
        routes: {
          "GET /a": { handler: HELLO, auth: "none", environment: { A: "1" } },
          "GET /b": { handler: HELLO, auth: "none", environment: { A: "2" } },
        },
      }, [['routes["GET /b"]', /other function settings/]]);
    });

    it("refuses two handlers whose functions would have the same name", async () => {
      await refuse({
        routes: {
          "GET /a": { handler: HELLO, auth: "none" },
          "GET /b": { handler: `./${HELLO}`, auth: "none" },
        },
      }, [["routes", /^handlers "test\/fixtures\/hello\.handler" and "\.\/test\/fixtures\/hello\.handler" would both be named "api-hello"; rename one/]]);
    });

    it("refuses \"*\" origins with credentials, empty origins and a long preflight cache", async () => {
      await refuse({ cors: { allowOrigins: ["*"], allowCredentials: true }, routes: { "GET /x": { handler: HELLO, auth: "none" } } }, [
        ["cors.allowOrigins", /^is "\*" with allowCredentials; browsers refuse that: list the origins\.$/],
      ]);
      await refuse({ cors: { allowOrigins: [], maxAgeSeconds: 86401 }, routes: { "GET /x": { handler: HELLO, auth: "none" } } }, [
        ["cors.allowOrigins", /^is empty/],
        ["cors.maxAgeSeconds", /^86401 seconds is outside 0-86400 seconds/],
      ]);
    });

    it("refuses origins without a scheme or with a path, and methods browsers do not send, each by its index", async () => {
      await refuse({
        cors: { allowOrigins: ["https://ok.example.com", "shop.example.com", "https://a.example.com/", "https://b.example.com:8443/app"], allowMethods: ["GET", "get", "FETCH", "*"] },
        routes: { "GET /x": { handler: HELLO, auth: "none" } },
      }, [
        ["cors.allowOrigins[1]", /^"shop\.example\.com" is not an origin; write scheme:\/\/host\[:port\] without a path, e\.g\. "https:\/\/shop\.example\.com", or "\*"\.$/],
        ["cors.allowOrigins[2]", /^"https:\/\/a\.example\.com\/" has a path, which an Origin header never carries, so it matches no request; write "https:\/\/a\.example\.com"\.$/],
        ["cors.allowOrigins[3]", /^"https:\/\/b\.example\.com:8443\/app" has a path, .*; write "https:\/\/b\.example\.com:8443"\.$/],
        ["cors.allowMethods[1]", /^"get" is not a method browsers send; use "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "\*" \(upper case\)\.$/],
        ["cors.allowMethods[2]", /^"FETCH" is not a method browsers send/],
      ]);
    });

    it("refuses CORS when an authorized $default route would refuse browsers' preflight requests", async () => {
      await refuse({
        auth: { jwt: JWT },
        cors: { allowOrigins: ["https://app.example.com"] },
        routes: { "GET /health": { handler: HELLO, auth: "none" }, "$default": { handler: ORDERS_LIST } },
      }, [["cors", /^is set, but the \$default route requires authorization and catches browsers' preflight OPTIONS requests, which carry no credentials, so they are refused; add a public "OPTIONS \/\{proxy\+\}" route \(auth: "none"\), make \$default public, or remove cors\.$/]]);
      await refuse({
        cors: { allowOrigins: ["https://app.example.com"] },
        routes: { "$default": { handler: ORDERS_LIST, auth: "iam" }, "OPTIONS /{proxy+}": { handler: HELLO, auth: "iam" } },
      }, [["cors", /the \$default route requires authorization/]]);
    });

    it("refuses two routes whose paths differ only in a parameter's name, as API Gateway does", async () => {
      await refuse({
        routes: {
          "GET /x/{id}": { handler: HELLO, auth: "none" },
          "GET /x/{key}": { handler: HELLO, auth: "none" },
          "GET /files/{path+}": { handler: HELLO, auth: "none" },
          "GET /files/{rest+}": { handler: HELLO, auth: "none" },
        },
      }, [
        ['routes["GET /x/{key}"]', /^differs from "GET \/x\/\{id\}" only in a parameter's name, and API Gateway refuses two such routes; keep one of them \(one name per parameter\)\.$/],
        ['routes["GET /files/{rest+}"]', /^differs from "GET \/files\/\{path\+\}" only in a parameter's name/],
      ]);
    });

    it("refuses bad throttling, access log retention and an empty route table", async () => {
      await refuse({ throttle: { rateLimit: 0, burstLimit: 5001 }, accessLogRetentionDays: 45, routes: {} }, [
        ["throttle.rateLimit", /^0 requests per second is outside 1-10000/],
        ["throttle.burstLimit", /^5001 requests is outside 1-5000/],
        ["accessLogRetentionDays", /^45 is not allowed/],
        ["routes", /^is empty; add at least one route/],
      ]);
    });

    it("reports the problems of every route, and of their functions, in one error", async () => {
      const error = await refuse({
        routes: {
          "GET /ok": { handler: HELLO, auth: "none" },
          "FETCH /x": { handler: ORDERS_LIST, timeout: 31, memorySize: 64 },
          "GET /y": { handler: "test/fixtures/orders.handler", auth: "none", scopes: ["s"] },
        },
      }, [
        ['routes["FETCH /x"]', /has method FETCH/],
        ['routes["FETCH /x"].auth', /is not set/],
        ['routes["FETCH /x"].timeout', /31 seconds/],
        ['routes["FETCH /x"].memorySize', /64 MB/],
        ['routes["GET /y"].scopes', /only apply to JWT routes/],
        ['routes["GET /y"].handler', /does not export "handler" \(it exports get, list\)/],
      ]);
      expect(error.message).to.match(/^ServerlessApi "api" has invalid arguments:\n/);
    });
  });

  describe("deployment (through functionDefaults and routes)", () => {
    it("deploys every route function from functionDefaults, a route's own deployment winning, and integrates the aliases", async () => {
      const { resources } = await recordApi("api", {
        functionDefaults: { deployment: { strategy: "canary", percentage: 10, minutes: 5 } },
        routes: {
          "GET /orders": { handler: ORDERS_LIST, auth: "none" },
          "GET /health": { handler: HELLO, auth: "none", deployment: { strategy: "allAtOnce" } },
        },
      });
      const groups = ofType(resources, "aws:codedeploy/deploymentGroup:DeploymentGroup");
      expect(Object.fromEntries(groups.map((g) => [g.name, g.inputs.deploymentConfigName]))).to.deep.equal({
        "api-orders-list-deployment-group": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "api-hello-deployment-group": "CodeDeployDefault.LambdaAllAtOnce",
      });
      for (const alias of ofType(resources, TYPES.alias)) {
        const fnName = alias.name.replace(/-alias$/, "");
        expect(one(resources, TYPES.integration, `${fnName}-integration`).inputs.integrationUri).to.equal(alias.outputs.arn);
      }
    });

    it("reports a route's bad deployment under the route", () => refuse({
      routes: { "GET /x": { handler: HELLO, auth: "none", deployment: { strategy: "linear", percentage: 10, intervalMinutes: 1, alarms: [""] } } },
    }, [["routes[\"GET /x\"].deployment.alarms[0]", /"" is not an alarm name/]]));
  });
});
