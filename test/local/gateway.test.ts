/**
 * The request pipeline both local API gateways share (local/gateway.ts), over real HTTP:
 * the body limit, the gateway's own 500, HEAD, the headers each API adds and the log line;
 * then the answers the HTTP and REST APIs give through it, down to their headers' casing.
 */
import { expect } from "chai";
import { request } from "node:http";
import { LocalGateway, type GatewayRequest, type RequestLog } from "../../local/gateway";
import { LocalHttpApi } from "../../local/http-api";
import { LocalRestApi } from "../../local/rest-api";
import { SigV4Verifier } from "../../local/sigv4";
import { UsageLimiter } from "../../local/usage-plans";

interface Received {
  status: number;
  /** Node's rawHeaders: the names as the server wrote them. */
  rawHeaders: string[];
  body: string;
}

function send(url: string, method: string, body = ""): Promise<Received> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method, headers: { "content-length": String(Buffer.byteLength(body)) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, rawHeaders: response.rawHeaders, body: Buffer.concat(chunks).toString("utf8") }));
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

/** The header names as written, with their values. */
const written = (raw: string[]) => Object.fromEntries(raw.flatMap((value, i) => (i % 2 === 0 ? [[value, raw[i + 1]]] : [])));

describe("local gateway: the request pipeline of the HTTP and REST APIs", () => {
  const logs: RequestLog[] = [];
  const seen: Array<Omit<GatewayRequest, "request" | "log">> = [];
  const answer = (statusCode: number, text: string) => ({ statusCode, body: Buffer.from(text) });
  const gateway = new LocalGateway({
    maxBodyBytes: 8,
    tooLarge: () => answer(413, "too large"),
    internalError: () => answer(500, "oops"),
    respond: async ({ request: _request, log, ...rest }) => {
      seen.push(rest);
      if (rest.path === "/throw") throw new Error("boom");
      log.note = "served";
      return answer(200, `hello ${rest.body.toString()}`);
    },
    headers: (result, requestId) => ({ "X-Id": requestId, "Content-Length": String(result.body.length) }),
    onRequest: (entry) => logs.push(entry),
  });
  let url = "";

  before(async () => { url = await gateway.start(); });
  after(() => gateway.stop());
  beforeEach(() => { logs.length = 0; seen.length = 0; });

  it("hands respond the request's parts and writes its answer with the API's headers, then logs it once", async () => {
    const response = await send(`${url}/a/b?x=1?y=2`, "POST", "body");
    expect(response.status).to.equal(200);
    expect(response.body).to.equal("hello body");
    const headers = written(response.rawHeaders);
    expect(headers["Content-Length"]).to.equal("10");
    expect(headers["X-Id"]).to.have.length(16);
    expect(seen).to.have.length(1);
    const [got] = seen;
    expect({ method: got.method, url: got.url, path: got.path, query: got.query, body: got.body.toString(), sourceIp: got.sourceIp, host: got.host })
      .to.deep.equal({ method: "POST", url: "/a/b?x=1?y=2", path: "/a/b", query: "x=1?y=2", body: "body", sourceIp: "127.0.0.1", host: new URL(url).host });
    expect(got.requestId).to.equal(headers["X-Id"]);
    expect(logs).to.have.length(1);
    expect(logs[0]).to.include({ method: "POST", path: "/a/b", status: 200, note: "served" });
    expect(logs[0].ms).to.be.a("number").and.at.least(0);
  });

  it("answers a body above the limit with the API's 413 without calling respond, and notes the limit", async () => {
    const response = await send(`${url}/big`, "POST", "123456789");
    expect([response.status, response.body]).to.deep.equal([413, "too large"]);
    expect(seen).to.deep.equal([]);
    expect(logs[0]).to.include({ status: 413, note: "payload above 8 bytes" });
    expect((await send(`${url}/fits`, "POST", "12345678")).status).to.equal(200);
  });

  it("answers an error of respond with the API's 500 and logs its message", async () => {
    const response = await send(`${url}/throw`, "GET");
    expect([response.status, response.body]).to.deep.equal([500, "oops"]);
    expect(written(response.rawHeaders)["Content-Length"]).to.equal("4");
    expect(logs[0]).to.include({ path: "/throw", status: 500, note: "gateway error: boom" });
  });

  it("writes no body for HEAD, with the length of the one GET would get", async () => {
    const response = await send(`${url}/head`, "HEAD");
    expect([response.status, response.body]).to.deep.equal([200, ""]);
    expect(written(response.rawHeaders)["Content-Length"]).to.equal("6");
  });
});

describe("local gateway: what each API adds (its own ids and casing, its 500)", () => {
  const failing = async () => { throw new Error("invoker down"); };
  const logs: RequestLog[] = [];
  const http = new LocalHttpApi({
    routes: [{ routeKey: "GET /fail", functionName: "f", auth: "none", scopes: [] }, { routeKey: "ANY /cookies", functionName: "cookies", auth: "none", scopes: [] }],
    invoke: async (name, _event, requestId) => {
      if (name === "f") return failing();
      return { payload: { statusCode: 200, cookies: ["a=1", "b=2"], body: "ok" }, timedOut: false, cold: false, durationMs: 0, requestId };
    },
    apiId: "local", accountId: "123456789012", sigv4: new SigV4Verifier([], "eu-west-1"), onRequest: (entry) => logs.push(entry),
  });
  const rest = new LocalRestApi({
    routes: [{ routeKey: "GET /fail", resourcePath: "/fail", resourceId: "r1", functionName: "f", auth: "none", scopes: [], apiKeyRequired: false, requiredParameters: [], timeoutMs: 1000 }],
    apiId: "api", accountId: "123456789012", region: "eu-west-1", stageName: "v1", stageVariables: {}, apiKeys: [], limiter: new UsageLimiter(undefined, []), sigv4: new SigV4Verifier([], "eu-west-1"),
    invoke: failing, onRequest: (entry) => logs.push(entry),
  });

  before(async () => { await Promise.all([http.start(), rest.start()]); });
  after(() => Promise.all([http.stop(), rest.stop()]));
  beforeEach(() => { logs.length = 0; });

  it("HTTP API: 500 Internal Server Error with apigw-requestid, lower case", async () => {
    const response = await send(`${http.url}/fail`, "GET");
    expect([response.status, JSON.parse(response.body)]).to.deep.equal([500, { message: "Internal Server Error" }]);
    const headers = written(response.rawHeaders);
    expect(headers).to.include({ "content-type": "application/json", "content-length": String(response.body.length) });
    expect(headers["apigw-requestid"]).to.have.length(16);
    expect(logs[0]).to.include({ method: "GET", path: "/fail", routeKey: "GET /fail", status: 500, note: "gateway error: invoker down" });
  });

  it("HTTP API: the function's cookies as set-cookie headers, and no body for HEAD", async () => {
    const response = await send(`${http.url}/cookies`, "GET");
    expect(response.rawHeaders.filter((_, i) => response.rawHeaders[i - 1] === "set-cookie")).to.deep.equal(["a=1", "b=2"]);
    const head = await send(`${http.url}/cookies`, "HEAD");
    expect([head.status, head.body, written(head.rawHeaders)["content-length"]]).to.deep.equal([200, "", "2"]);
  });

  it("REST API: 500 Internal server error with x-amzn-RequestId and x-amz-apigw-id, in API Gateway's casing", async () => {
    const response = await send(`${rest.url}/fail`, "GET");
    expect([response.status, JSON.parse(response.body)]).to.deep.equal([500, { message: "Internal server error" }]);
    const headers = written(response.rawHeaders);
    expect(headers).to.include({ "Content-Type": "application/json", "Content-Length": String(response.body.length) });
    expect(headers["x-amzn-RequestId"]).to.have.length(16).and.equal(headers["x-amz-apigw-id"]);
    expect(logs[0]).to.include({ method: "GET", path: "/v1/fail", routeKey: "GET /fail", status: 500, note: "gateway error: invoker down" });
  });
});
