/**
 * Lambda authorizers in the local runtime, end to end over real HTTP: a fixture program
 * (fixtures/authorizer-program.ts) served on a free port; the authorizer is a real local
 * function, invoked with the 2.0 authorizer event, its decisions cached per identity.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { captureLog, PROJECT_ROOT } from "./support";

describe("local runtime: Lambda authorizers (fixture program)", function () {
  let runtime: LocalRuntime;
  let url: string;
  const { lines, log } = captureLog();
  const workDir = path.join(PROJECT_ROOT, ".local", `test-authorizer-${process.pid}`);

  before(async function () {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: path.join(__dirname, "fixtures", "authorizer-program.ts"),
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
      workDir,
      log,
    });
    url = runtime.url;
  });

  after(async () => {
    await runtime?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  const call = (pathAndQuery: string, authorization?: string, init: RequestInit = {}) =>
    fetch(`${url}${pathAndQuery}`, { ...init, headers: { ...(authorization ? { authorization } : {}), ...(init.headers as Record<string, string>) } });

  it("passes the authorizer's context to the route as requestContext.authorizer.lambda, after a 2.0 REQUEST event without the body", async () => {
    const response = await call("/things/42?tenant=t1", "allow-ann");
    expect(response.status, await response.clone().text()).to.equal(200);
    const event = (await response.json()) as any;
    const { lambda } = event.requestContext.authorizer;
    expect(lambda).to.include({ user: "ann" });
    expect(lambda.seen).to.deep.equal({
      version: "2.0", type: "REQUEST", routeKey: "GET /things/{id}", hasBody: false,
      routeArn: `arn:aws:execute-api:eu-west-1:123456789012:${runtime.app.apis[0].apiId}/$default/GET/things/42`,
      identitySource: ["allow-ann", "t1"],
    });
    const post = await call("/things?tenant=t2", "allow-bob", { method: "POST", body: "{\"a\":1}", headers: { "content-type": "application/json" } });
    const posted = (await post.json()) as any;
    expect(posted.body).to.equal("{\"a\":1}");
    expect(posted.requestContext.authorizer.lambda.seen.hasBody).to.equal(false);
  });

  it("answers 401 without invoking the authorizer when an identity source is missing or empty", async () => {
    const before = lines.length;
    for (const [query, authorization] of [["?tenant=t1", undefined], ["", "allow-ann"], ["?tenant=", "allow-ann"]] as const) {
      const response = await call(`/things/1${query}`, authorization);
      expect(response.status, `${query} ${authorization}`).to.equal(401);
      expect(await response.json()).to.deep.equal({ message: "Unauthorized" });
    }
    const logged = lines.slice(before);
    const requests = logged.filter((line) => line.startsWith("HTTP"));
    // One line per request (an empty list would pass \`every\`), each naming the missing source.
    expect(requests, logged.join("\n")).to.have.length(3);
    expect(requests.every((line) => /identity source \$request\.(header\.Authorization|querystring\.tenant) is missing or empty; the authorizer was not invoked/.test(line)), logged.join("\n")).to.equal(true);
  });

  it("answers 403 {\"message\":\"Forbidden\"} when the authorizer says isAuthorized: false, without running the route", async () => {
    const response = await call("/things/1?tenant=t1", "deny");
    expect(response.status).to.equal(403);
    expect(await response.json()).to.deep.equal({ message: "Forbidden" });
    // No function name in the line: the route's function never ran.
    expect(lines.filter((line) => line.startsWith("HTTP")).at(-1)).to.match(/\(GET \/things\/\{id\}\) -> 403 \d+ ms \[authorizer denied the request\]$/);
  });

  it("answers 500 {\"message\":\"Internal Server Error\"} when the authorizer throws, times out or answers another shape", async () => {
    for (const [authorization, note] of [["throw", /authorizer failed: Error: authorizer broke/], ["slow", /authorizer timed out/], ["malformed", /not a simple response/]] as const) {
      const response = await call("/things/1?tenant=t1", authorization);
      expect(response.status, authorization).to.equal(500);
      expect(await response.json()).to.deep.equal({ message: "Internal Server Error" });
      expect(lines.filter((line) => line.startsWith("HTTP")).at(-1), authorization).to.match(note);
    }
  });

  it("caches a decision per combination of identity source values for resultTtlSeconds, then asks again", async () => {
    const decision = async (query: string, authorization: string) => ((await (await call(`/things/1${query}`, authorization)).json()) as any).requestContext.authorizer.lambda.decision;
    const first = await decision("?tenant=cache", "allow-cat");
    expect(await decision("?tenant=cache", "allow-cat"), "same identity: from the cache").to.equal(first);
    expect(lines.filter((line) => line.startsWith("HTTP")).at(-1)).to.match(/\[authorizer decision from the cache\]$/);
    // The cache is the authorizer's, not the route's: another route with the same identity shares it.
    const posted = (await (await call("/things?tenant=cache", "allow-cat", { method: "POST" })).json()) as any;
    expect(posted.requestContext.authorizer.lambda.decision).to.equal(first);
    expect(await decision("?tenant=other", "allow-cat"), "another tenant: a new decision").not.to.equal(first);
    // A cached denial stays a denial until it expires.
    expect((await call("/things/1?tenant=cache", "deny")).status).to.equal(403);
    expect((await call("/things/1?tenant=cache", "deny")).status).to.equal(403);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await decision("?tenant=cache", "allow-cat"), "after the TTL: a new decision").not.to.equal(first);
  });

  it("leaves public routes alone", async () => {
    const response = await call("/open");
    expect(response.status).to.equal(200);
    expect(((await response.json()) as any).requestContext).not.to.have.property("authorizer");
  });
});
