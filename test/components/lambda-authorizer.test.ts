/**
 * ServerlessApi's Lambda authorizers under the mocks: the function (a SecureFunction with
 * its own role), the REQUEST authorizer, the permission scoped to that authorizer (on the
 * alias when there is one), the routes that use it, and every refusal.
 */
import { expect } from "chai";
import { ServerlessApi, ServerlessApiArgs } from "../../components";
import { identitySourceProblem, LAMBDA_AUTHORIZER_DEFAULTS } from "../../components/lambda-authorizer";
import { Evaluation } from "../../tools/mock-engine";
import { one, ofType, RecordedResource } from "../mocks";
import { childrenOf, expectRefused, HELLO, lambdaArn, recordComponent, statementsBySid, TYPES } from "./support";

const AUTHORIZER = "test/fixtures/authorizer.handler";
const JWT = { issuer: "https://issuer.example.com", audience: ["client"] };

function recordApi(name: string, args: ServerlessApiArgs) {
  return recordComponent(() => new ServerlessApi(name, args), (api) => ({
    apiId: api.api.id,
    executionArn: api.api.executionArn,
    lambdaAuthorizerId: api.lambdaAuthorizer!.id,
    ...(api.authorizer ? { jwtAuthorizerId: api.authorizer.id } : {}),
  }));
}

function refuse(args: ServerlessApiArgs, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new ServerlessApi("api", args), "ServerlessApi", "api", problems);
}

const routeNamed = (resources: RecordedResource[], routeKey: string) => {
  const found = ofType(resources, TYPES.route).filter((r) => r.inputs.routeKey === routeKey);
  expect(found, routeKey).to.have.length(1);
  return found[0];
};

describe("ServerlessApi: Lambda authorizers", () => {
  describe("an API with a Lambda authorizer beside a JWT one", () => {
    let evaluation: Evaluation & { component: ServerlessApi };
    let resources: RecordedResource[];
    let outputs: Record<string, any>;

    before(async () => {
      evaluation = await recordApi("partner-api", {
        auth: { jwt: JWT, lambda: { handler: AUTHORIZER, memorySize: 256, environment: { TENANTS: "t1" } } },
        routes: {
          "GET /partner": { handler: HELLO, auth: "lambda" },
          "GET /mine": { handler: HELLO },
          "GET /health": { handler: HELLO, auth: "none" },
        },
      });
      ({ resources, outputs } = evaluation);
    });

    it("creates the authorizer's function as a SecureFunction child with its own role, the REQUEST authorizer and its permission", () => {
      const component = one(resources, TYPES.serverlessApi, "partner-api");
      const children = childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`);
      expect(children).to.include.members([
        `${TYPES.secureFunction}::partner-api-authorizer`,
        `${TYPES.authorizer}::partner-api-lambda`,
        `${TYPES.authorizer}::partner-api-jwt`,
        `${TYPES.permission}::partner-api-authorizer-invoke`,
      ]);
      const fn = one(resources, TYPES.function, "partner-api-authorizer");
      expect(fn.inputs).to.include({ name: "shop-dev-partner-api-authorizer", memorySize: 256, timeout: 10, runtime: "nodejs24.x" });
      expect(fn.inputs.environment).to.deep.equal({ variables: { TENANTS: "t1", FUNCTION_TIMEOUT_SECONDS: "10" } });
      expect(one(resources, TYPES.role, "partner-api-authorizer-role").inputs.name).to.equal("shop-dev-partner-api-authorizer");
      // Its role holds only its own logs and tracing: nothing of the routes' functions.
      expect(Object.keys(statementsBySid(one(resources, TYPES.rolePolicy, "partner-api-authorizer-policy"))).sort()).to.deep.equal(["Tracing", "WriteOwnLogs"]);
      expect(evaluation.component.authorizerFunction).to.not.equal(undefined);
    });

    it("configures a REQUEST authorizer: payload 2.0, simple responses, the Authorization header, a 300 s cache", () => {
      expect(one(resources, TYPES.authorizer, "partner-api-lambda").inputs).to.deep.equal({
        apiId: outputs.apiId,
        name: "lambda",
        authorizerType: "REQUEST",
        authorizerUri: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${lambdaArn("shop-dev-partner-api-authorizer")}/invocations`,
        authorizerPayloadFormatVersion: "2.0",
        enableSimpleResponses: true,
        identitySources: ["$request.header.Authorization"],
        authorizerResultTtlInSeconds: 300,
      });
      expect(LAMBDA_AUTHORIZER_DEFAULTS).to.deep.equal({ identitySources: ["$request.header.Authorization"], resultTtlSeconds: 300, responseType: "simple" });
    });

    it("lets API Gateway invoke the function from this authorizer only (<executionArn>/authorizers/<id>)", () => {
      expect(one(resources, TYPES.permission, "partner-api-authorizer-invoke").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: "shop-dev-partner-api-authorizer",
        principal: "apigateway.amazonaws.com",
        sourceArn: `${outputs.executionArn}/authorizers/${outputs.lambdaAuthorizerId}`,
      });
    });

    it("routes: CUSTOM with the Lambda authorizer when a route says lambda; JWT stays the default", () => {
      expect(routeNamed(resources, "GET /partner").inputs).to.include({ authorizationType: "CUSTOM", authorizerId: outputs.lambdaAuthorizerId });
      expect(routeNamed(resources, "GET /partner").inputs).not.to.have.property("authorizationScopes");
      expect(routeNamed(resources, "GET /mine").inputs).to.include({ authorizationType: "JWT", authorizerId: outputs.jwtAuthorizerId });
      expect(routeNamed(resources, "GET /health").inputs).to.not.have.property("authorizerId");
    });

    it("creates the stage after the authorizer's permission", () => {
      const stage = one(resources, TYPES.stage);
      const permission = one(resources, TYPES.permission, "partner-api-authorizer-invoke");
      expect(stage.dependencies).to.include(permission.urn);
    });
  });

  it("invokes the alias when the authorizer has provisioned concurrency, and takes identity sources and TTL", async () => {
    const { resources, outputs } = await recordApi("api", {
      auth: { lambda: { handler: AUTHORIZER, provisionedConcurrency: 1, identitySources: ["$request.header.X-Api-Key", "$context.sourceIp"], resultTtlSeconds: 0 } },
      routes: { "GET /x": { handler: HELLO, auth: "lambda" } },
    });
    const aliasArn = lambdaArn("shop-dev-api-authorizer", "live");
    const authorizer = one(resources, TYPES.authorizer).inputs;
    expect(authorizer.authorizerUri).to.equal(`arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${aliasArn}/invocations`);
    expect(authorizer).to.include({ authorizerResultTtlInSeconds: 0 });
    expect(authorizer.identitySources).to.deep.equal(["$request.header.X-Api-Key", "$context.sourceIp"]);
    expect(one(resources, TYPES.permission, "api-authorizer-invoke").inputs).to.include({ qualifier: "live", sourceArn: `${outputs.executionArn}/authorizers/${outputs.lambdaAuthorizerId}` });
  });

  it("accepts no identity source when nothing is cached", async () => {
    const { resources } = await recordApi("api", {
      auth: { lambda: { handler: AUTHORIZER, identitySources: [], resultTtlSeconds: 0 } },
      routes: { "GET /x": { handler: HELLO, auth: "lambda" } },
    });
    expect(one(resources, TYPES.authorizer).inputs.identitySources).to.deep.equal([]);
  });

  it("knows the identity sources HTTP APIs accept", () => {
    for (const good of ["$request.header.Authorization", "$request.querystring.token", "$context.identity.sourceIp", "$stageVariables.tenant"]) {
      expect(identitySourceProblem(good), good).to.equal(undefined);
    }
    for (const bad of ["Authorization", "$request.header.", "$request.body.token", "method.request.header.Authorization", "$stageVariables.a.b", ""]) {
      expect(identitySourceProblem(bad), bad).to.match(/is not an identity source; write \$request\.header\.<name>/);
    }
  });

  describe("validation (nothing is registered)", () => {
    it("refuses a route that says lambda on an API without auth.lambda", async () => {
      await refuse({ auth: { jwt: JWT }, routes: { "GET /x": { handler: HELLO, auth: "lambda" } } }, [
        ['routes["GET /x"].auth', /^is "lambda" but the API has no Lambda authorizer; add auth\.lambda \{ handler \} to the API\.$/],
      ]);
    });

    it("still asks a route to say how it is authorized when the API has only a Lambda authorizer", async () => {
      await refuse({ auth: { lambda: { handler: AUTHORIZER } }, routes: { "GET /x": { handler: HELLO } } }, [
        ['routes["GET /x"].auth', /^is not set and the API has no JWT authorizer; set auth: "jwt".*"lambda" \(with auth\.lambda\)/],
      ]);
    });

    it("refuses scopes on a Lambda route", async () => {
      await refuse({ auth: { lambda: { handler: AUTHORIZER } }, routes: { "GET /x": { handler: HELLO, auth: "lambda", scopes: ["a"] } } }, [
        ['routes["GET /x"].scopes', /^only apply to JWT routes/],
      ]);
    });

    it("refuses a TTL outside 0-3600, caching without identity sources, bad and repeated sources, an unknown response type and a long timeout, in one error", async () => {
      await refuse({
        auth: { lambda: { handler: AUTHORIZER, resultTtlSeconds: 3601, responseType: "iam" as never, identitySources: ["$request.header.Authorization", "Authorization", "$request.header.Authorization"], timeout: 11 } },
        routes: { "GET /x": { handler: HELLO, auth: "lambda" } },
      }, [
        ["auth.lambda.resultTtlSeconds", /^3601 seconds is outside 0-3600 seconds; use a value in that range\.$/],
        ["auth.lambda.responseType", /^"iam" is not allowed; use one of "simple"\.$/],
        ["auth.lambda.identitySources[1]", /^"Authorization" is not an identity source/],
        ["auth.lambda.identitySources[2]", /^"\$request\.header\.Authorization" is listed twice; keep one\.$/],
        ["auth.lambda.timeout", /^11 seconds is above the 10 s API Gateway waits for an authorizer \(it then answers 500\); lower it\.$/],
      ]);
      await refuse({ auth: { lambda: { handler: AUTHORIZER, identitySources: [] } }, routes: { "GET /x": { handler: HELLO, auth: "lambda" } } }, [
        ["auth.lambda.identitySources", /^is empty with resultTtlSeconds 300; .*caching needs at least one: add one, e\.g\. "\$request\.header\.Authorization", or set resultTtlSeconds: 0\.$/],
      ]);
    });

    it("checks the authorizer's function settings like any function's, under auth.lambda", async () => {
      await refuse({ auth: { lambda: { handler: "test/fixtures/missing.handler", memorySize: 64 } }, routes: { "GET /x": { handler: HELLO, auth: "lambda" } } }, [
        ["auth.lambda.memorySize", /^64 MB is outside 128-10240 MB/],
        ["auth.lambda.handler", /^no file "test\/fixtures\/missing"/],
      ]);
    });

    it("refuses a route handler whose function would take the authorizer's name", async () => {
      await refuse({ auth: { lambda: { handler: AUTHORIZER } }, routes: { "GET /x": { handler: AUTHORIZER, auth: "lambda" } } }, [
        ["routes", /^handlers "test\/fixtures\/authorizer\.handler" and "test\/fixtures\/authorizer\.handler" would both be named "api-authorizer"/],
      ]);
    });
  });
});
