/**
 * REST APIs in the local runtime, end to end over real HTTP: a fixture program
 * (fixtures/rest-program.ts) served stage by stage on free ports; handlers and authorizers
 * are real local functions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { formatBanner } from "../../local/cli";
import { LocalRestApi, toRestResponse } from "../../local/rest-api";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { SigV4Verifier } from "../../local/sigv4";
import { UsageLimiter, quotaPeriodStart } from "../../local/usage-plans";
import { captureLog, PROJECT_ROOT } from "./support";

describe("local runtime: REST APIs (fixture program)", function () {
  let runtime: LocalRuntime;
  const { lines, log } = captureLog();
  const workDir = path.join(PROJECT_ROOT, ".local", `test-rest-${process.pid}`);
  const api = (name: string) => runtime.app.restApis.find((a) => a.name === name)!;
  const key = (name: string) => api("partners").apiKeys.find((k) => k.name.endsWith(name))!;
  const lastLine = () => lines.filter((line) => line.startsWith("REST")).at(-1);

  before(async function () {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: path.join(__dirname, "fixtures", "rest-program.ts"),
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
      workDir,
      log,
    });
  });

  after(async () => {
    await runtime?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  const call = (apiName: string, pathAndQuery: string, init: RequestInit = {}) => fetch(`${runtime.apiUrls[apiName]}${pathAndQuery}`, init);
  const json = async (response: Response) => (await response.json()) as any;

  it("serves each stage on its own port under /<stage>, and answers 403 Missing Authentication Token where no method is", async () => {
    expect(runtime.apiUrls.partners).to.match(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(runtime.apiUrls.tenants).to.match(/\/live$/);
    expect(new URL(runtime.apiUrls.partners).port).to.not.equal(new URL(runtime.apiUrls.tenants).port);
    const missing = await call("partners", "/nothing");
    expect(missing.status).to.equal(403);
    expect(missing.headers.get("x-amzn-errortype")).to.equal("MissingAuthenticationTokenException");
    expect(await json(missing)).to.deep.equal({ message: "Missing Authentication Token" });
    const wrongMethod = await call("partners", "/keyed", { method: "POST" });
    expect(await json(wrongMethod)).to.deep.equal({ message: "Missing Authentication Token" });
  });

  it("prints each stage's URL, its routes and the local value of every key in the banner", () => {
    const banner = formatBanner(runtime, "test", 0, new Map());
    if (process.env.SHOW_BANNER) console.log(banner);
    expect(banner, "the program's own project, not the orders service's").to.include('fixture, stack "test", running locally');
    expect(banner).to.include(`REST API partners: ${runtime.apiUrls.partners} (stage v1, throttle 50/s burst 100 per method)`);
    expect(banner).to.match(/POST \/orders +open {2}partners-rest-handlers-echo \(test\/local\/fixtures\/rest-handlers\.echo\) \[x-api-key, body model, parameters\]/);
    expect(banner).to.include(`plan fixture-test-partners-metered: 3 per DAY; keys ${key("globex").name}=${key("globex").value}`);
    // The orders program's commands only where its routes are: this program's POST /orders is REST, keyed.
    expect(banner).not.to.include("idempotency-key: order-1");
  });

  it("builds the 1.0 event as API Gateway does, with the greedy proxy and repeated query values and headers", async () => {
    const response = await call("partners", "/files/a/b%20c.txt?tag=x&tag=y&one=1", { method: "PUT", body: "hello", headers: { "X-Custom": "v1", "content-type": "text/plain" } });
    expect(response.status).to.equal(200);
    // multiValueHeaders of the result reach the client as repeated headers.
    expect(response.headers.get("x-seen")).to.equal("a, b");
    const event = await json(response);
    expect(event).to.include({ resource: "/files/{proxy+}", path: "/files/a/b%20c.txt", httpMethod: "PUT", body: "hello", isBase64Encoded: false, stageVariables: null });
    expect(event.pathParameters).to.deep.equal({ proxy: "a/b c.txt" });
    expect(event.queryStringParameters).to.deep.equal({ tag: "y", one: "1" });
    expect(event.multiValueQueryStringParameters).to.deep.equal({ tag: ["x", "y"], one: ["1"] });
    // Header names keep their case (1.0 does not lower them).
    expect(event.headers["X-Custom"]).to.equal("v1");
    expect(event.multiValueHeaders["X-Custom"]).to.deep.equal(["v1"]);
    const context = event.requestContext;
    expect(context).to.include({ stage: "v1", resourcePath: "/files/{proxy+}", path: "/v1/files/a/b%20c.txt", httpMethod: "PUT", apiId: api("partners").apiId, accountId: "123456789012", protocol: "HTTP/1.1", authorizer: null });
    expect(context.identity).to.include({ sourceIp: "127.0.0.1", apiKey: null, apiKeyId: null });
    expect(context.requestTimeEpoch).to.be.a("number");
    expect(context.requestTime).to.match(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    const none = await json(await call("partners", "/files/x"));
    expect(none).to.include({ queryStringParameters: null, multiValueQueryStringParameters: null, body: null });
  });

  it("answers 502 Internal server error to a malformed result, a failed function or one past its own timeout", async () => {
    for (const [route, note] of [["/malformed", /malformed Lambda proxy response: body is object/], ["/broken", /Error: handler broke/], ["/slow", /function timed out/]] as const) {
      const response = await call("partners", route);
      expect(response.status, route).to.equal(502);
      expect(await json(response)).to.deep.equal({ message: "Internal server error" });
      expect(lastLine(), route).to.match(note);
    }
  });

  it("requires a known x-api-key on apiKeyRequired methods and sets identity.apiKey and apiKeyId", async () => {
    for (const headers of [{}, { "x-api-key": "not-a-key" }]) {
      const response = await call("partners", "/keyed", { headers });
      expect(response.status).to.equal(403);
      expect(await json(response)).to.deep.equal({ message: "Forbidden" });
    }
    const globex = key("globex");
    expect(globex.value).to.have.length(40);
    const event = await json(await call("partners", "/keyed", { headers: { "x-api-key": globex.value } }));
    expect(event.requestContext.identity).to.include({ apiKey: globex.value, apiKeyId: globex.id });
  });

  it("enforces the plan's quota (429 Limit Exceeded) and throttle (429 Too Many Requests) per key", async () => {
    // globex: 3 a day, one used by the test above.
    const globex = { "x-api-key": key("globex").value };
    const quota = [];
    for (let i = 0; i < 3; i++) quota.push((await call("partners", "/keyed", { headers: globex })).status);
    expect(quota).to.deep.equal([200, 200, 429]);
    expect(await json(await call("partners", "/keyed", { headers: globex }))).to.deep.equal({ message: "Limit Exceeded" });
    // acme: 4 a second, burst 2.
    const acme = { "x-api-key": key("acme").value };
    const burst = await Promise.all([0, 1, 2].map(() => call("partners", "/keyed", { headers: acme })));
    expect(burst.map((r) => r.status).sort()).to.deep.equal([200, 200, 429]);
    expect(await json(burst.find((r) => r.status === 429)!)).to.deep.equal({ message: "Too Many Requests" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call("partners", "/keyed", { headers: acme })).status).to.equal(200);
  });

  it("throttles each method of a stage by its rate and burst", async () => {
    const first = await call("tenants", "/open");
    const second = await call("tenants", "/open");
    expect([first.status, second.status]).to.deep.equal([200, 429]);
    expect(await json(second)).to.deep.equal({ message: "Too Many Requests" });
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });

  it("validates required parameters, then the body against the draft-04 model, with API Gateway's messages", async () => {
    const headers = { "x-api-key": key("acme").value, "content-type": "application/json" };
    await new Promise((resolve) => setTimeout(resolve, 600));
    const missing = await call("partners", "/orders", { method: "POST", headers, body: "{}" });
    expect(missing.status).to.equal(400);
    expect(missing.headers.get("x-amzn-errortype")).to.equal("BadRequestException");
    expect(await json(missing)).to.deep.equal({ message: "Missing required request parameters: [x-request-id, tenant]" });
    for (const body of ["{\"sku\":\"book\"}", "{\"sku\":\"book\",\"quantity\":0}", "not json"]) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const invalid = await call("partners", "/orders?tenant=t1", { method: "POST", headers: { ...headers, "x-request-id": "r1" }, body });
      expect(invalid.status, body).to.equal(400);
      expect(invalid.headers.get("x-amzn-errortype")).to.equal("BadRequestException");
      expect(await json(invalid)).to.deep.equal({ message: "Invalid request body" });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const valid = await call("partners", "/orders?tenant=t1", { method: "POST", headers: { ...headers, "x-request-id": "r1" }, body: "{\"sku\":\"book\",\"quantity\":2}" });
    expect(valid.status).to.equal(200);
  });

  describe("a Lambda TOKEN authorizer", () => {
    const get = (pathAndQuery: string, token?: string, method = "GET") => call("partners", pathAndQuery, { method, headers: token ? { authorization: token } : {} });

    it("passes principalId and context to the route, after a TOKEN event with the method ARN", async () => {
      const event = await json(await get("/things/7", "allow-ann"));
      const { authorizer } = event.requestContext;
      expect(authorizer).to.include({ principalId: "ann", user: "ann", admin: false, level: 3, type: "TOKEN" });
      expect(authorizer.methodArn).to.equal(`arn:aws:execute-api:eu-west-1:123456789012:${api("partners").apiId}/v1/GET/things/7`);
      expect(authorizer.keys).to.equal("authorizationToken,methodArn,type");
    });

    it("answers 401 without invoking it for a missing token or one the validation expression refuses", async () => {
      for (const token of [undefined, "garbage"]) {
        const response = await get("/things/1", token);
        expect(response.status, token).to.equal(401);
        expect(await json(response)).to.deep.equal({ message: "Unauthorized" });
      }
      expect(lastLine()).to.match(/token does not match identityValidationExpression .*; the authorizer was not invoked/);
    });

    it("answers 403 to an explicit Deny and to a policy without a matching Allow, 401 to Unauthorized, 500 {message: null} to a broken answer or a timeout", async () => {
      const deny = await get("/things/1", "deny");
      expect(deny.status).to.equal(403);
      expect(await json(deny)).to.deep.equal({ message: "User is not authorized to access this resource with an explicit deny" });
      const other = await get("/things/1", "other");
      expect(other.status).to.equal(403);
      expect(await json(other)).to.deep.equal({ message: "User is not authorized to access this resource" });
      const unauthorized = await get("/things/1", "unauthorized");
      expect([unauthorized.status, await json(unauthorized)]).to.deep.equal([401, { message: "Unauthorized" }]);
      for (const token of ["broken", "slow"]) {
        const response = await get("/things/1", token);
        expect(response.status, token).to.equal(500);
        expect(await json(response)).to.deep.equal({ message: null });
      }
    });

    it("caches the policy per token for resultTtlSeconds and evaluates the cached policy for each method", async () => {
      const first = await json(await get("/things/1", "allow-bob"));
      const second = await json(await get("/things/1", "allow-bob"));
      expect(second.requestContext.authorizer.decision).to.equal(first.requestContext.authorizer.decision);
      expect(lastLine()).to.match(/authorizer policy from the cache/);
      // The cached policy names GET /things/1 only: another method of the stage is denied within the TTL.
      const other = await get("/things/1", "allow-bob", "DELETE");
      expect([other.status, await json(other)]).to.deep.equal([403, { message: "User is not authorized to access this resource" }]);
      const wide = await get("/things/1", "any-cy", "DELETE");
      expect(wide.status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const expired = await json(await get("/things/1", "allow-bob"));
      expect(expired.requestContext.authorizer.decision).to.not.equal(first.requestContext.authorizer.decision);
    });
  });

  it("runs a REQUEST authorizer with the request's 1.0 parts and no body; a missing identity source is 401", async () => {
    const allowed = await call("tenants", "/r/5?tenant=t1", { headers: { authorization: "x" } });
    expect(allowed.status).to.equal(200);
    const { authorizer } = (await json(allowed)).requestContext;
    expect(authorizer).to.include({ principalId: "tenant-user", type: "REQUEST", resource: "/r/{id}", hasBody: false, tenant: "t1" });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const denied = await call("tenants", "/r/5?tenant=t2", { headers: { authorization: "x" } });
    expect([denied.status, await json(denied)]).to.deep.equal([403, { message: "User is not authorized to access this resource with an explicit deny" }]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const missing = await call("tenants", "/r/5", { headers: { authorization: "x" } });
    expect([missing.status, await json(missing)]).to.deep.equal([401, { message: "Unauthorized" }]);
  });

  it("checks Cognito tokens of the user pool: an ID token without scopes, an access token with one of the method's scopes", async () => {
    const authorizerId = Object.keys(api("partners").authorizers).find((id) => api("partners").authorizers[id].type === "COGNITO_USER_POOLS")!;
    const idToken = runtime.tokens[authorizerId];
    const me = await call("partners", "/me", { headers: { authorization: idToken } });
    expect(me.status).to.equal(200);
    const claims = (await json(me)).requestContext.authorizer.claims;
    expect(claims).to.include({ sub: "local-developer", token_use: "id", iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Partners" });
    const reader = await runtime.issueToken(authorizerId, ["reports/read"]);
    expect((await call("partners", "/reports", { headers: { authorization: reader } })).status).to.equal(200);
    for (const [route, token] of [["/reports", idToken], ["/reports", await runtime.issueToken(authorizerId, ["reports/write"])], ["/me", reader], ["/me", undefined], ["/me", "not-a-jwt"]] as const) {
      const response = await call("partners", route, { headers: token ? { authorization: token } : {} });
      expect(response.status, `${route} ${String(token).slice(0, 10)}`).to.equal(401);
      expect(await json(response)).to.deep.equal({ message: "Unauthorized" });
    }
  });

  it("refuses an unsigned request to an IAM method with 403 Missing Authentication Token, and checks a SigV4 one (test/local/iam.test.ts signs them)", async () => {
    const unsigned = await call("partners", "/signed");
    expect([unsigned.status, await json(unsigned)]).to.deep.equal([403, { message: "Missing Authentication Token" }]);
    const forged = await call("partners", "/signed", { headers: { "x-amz-date": "20260101T000000Z", authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=0" } });
    expect([forged.status, forged.headers.get("x-amzn-errortype")]).to.deep.equal([403, "InvalidSignatureException"]);
  });
});

describe("local REST gateway: the integration timeout and 1.0 results", () => {
  it("answers 504 Endpoint request timed out when the integration outlives its timeout", async () => {
    const rest = new LocalRestApi({
      routes: [{ routeKey: "GET /wait", resourcePath: "/wait", resourceId: "r1", functionName: "f", auth: "none", scopes: [], apiKeyRequired: false, requiredParameters: [], timeoutMs: 100 }],
      apiId: "api", accountId: "123456789012", region: "eu-west-1", stageName: "v1", stageVariables: {}, apiKeys: [], limiter: new UsageLimiter(undefined, []), sigv4: new SigV4Verifier([], "eu-west-1"),
      // A function that answers after the integration gave up on it.
      invoke: () => new Promise((resolve) => setTimeout(() => resolve({ payload: { statusCode: 200 }, timedOut: false, cold: false, durationMs: 400, requestId: "r" }), 400)),
      onRequest: () => undefined,
    });
    const url = await rest.start();
    try {
      const response = await fetch(`${url}/wait`);
      expect(response.status).to.equal(504);
      expect(await response.json()).to.deep.equal({ message: "Endpoint request timed out" });
    } finally {
      await rest.stop();
    }
  });

  it("reads headers and multiValueHeaders (the lists win for a name in both), base64 bodies, and defaults Content-Type to JSON", () => {
    const result = toRestResponse({ statusCode: 201, headers: { a: "1", b: "2" }, multiValueHeaders: { b: ["3", "4"] }, body: Buffer.from("hi").toString("base64"), isBase64Encoded: true });
    expect(result.statusCode).to.equal(201);
    expect(result.headers).to.deep.equal({ a: ["1"], b: ["3", "4"], "Content-Type": ["application/json"] });
    expect(result.body.toString()).to.equal("hi");
    for (const bad of [null, "text", { body: "x" }, { statusCode: "200" }, { statusCode: 200, headers: { a: {} } }, { statusCode: 200, multiValueHeaders: { a: "1" } }, { statusCode: 200, body: 5 }]) {
      expect(() => toRestResponse(bad), JSON.stringify(bad)).to.throw();
    }
  });

  it("starts quota periods at 00:00 UTC, on Mondays and on the 1st, moved by the offset", () => {
    const at = Date.UTC(2026, 4, 14, 15, 30); // Thursday 14 May 2026
    expect(new Date(quotaPeriodStart("DAY", 0, at)).toISOString()).to.equal("2026-05-14T00:00:00.000Z");
    expect(new Date(quotaPeriodStart("WEEK", 0, at)).toISOString()).to.equal("2026-05-11T00:00:00.000Z");
    expect(new Date(quotaPeriodStart("WEEK", 4, at)).toISOString()).to.equal("2026-05-08T00:00:00.000Z");
    expect(new Date(quotaPeriodStart("MONTH", 0, at)).toISOString()).to.equal("2026-05-01T00:00:00.000Z");
    expect(new Date(quotaPeriodStart("MONTH", 20, at)).toISOString()).to.equal("2026-04-21T00:00:00.000Z");
  });
});
