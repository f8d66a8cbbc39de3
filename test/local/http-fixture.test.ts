/**
 * The local runtime's HTTP API semantics, end to end: a fixture program (fixtures/program.ts)
 * evaluated and served in-process on free ports, driven with fetch over loopback.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import { LocalIssuer } from "../../local/jwt";
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "../../local/runtime";
import type { LockHolder } from "../../local/runtime-lock";
import { captureLog, eventually, PROJECT_ROOT } from "./support";

const tmpDir = path.join(PROJECT_ROOT, "test", "local", `.tmp-${process.pid}`);
const versionFile = path.join(tmpDir, "version.ts");
const signingKeyFile = path.join(PROJECT_ROOT, ".local", `test-fixture-${process.pid}-signing-key.json`);
const writeVersion = (n: number) => fs.writeFileSync(versionFile, `export const handler = async () => ({ version: ${n} });\n`);

describe("local runtime: HTTP API semantics and queue mappings (fixture program)", function () {
  let runtime: LocalRuntime;
  let url: string;
  const { lines, times, log } = captureLog();
  const options: LocalRuntimeOptions = {
    root: PROJECT_ROOT,
    stack: "test",
    programFile: path.join(__dirname, "fixtures", "program.ts"),
    stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1" }, secretKeys: [], placeholders: [] },
    workDir: path.join(PROJECT_ROOT, ".local", `test-fixture-${process.pid}`),
    watch: true,
    signingKeyFile,
    log,
  };

  before(async function () {
    fs.mkdirSync(tmpDir, { recursive: true });
    writeVersion(1);
    process.env.LOCAL_FIXTURE_VERSION_HANDLER = path.relative(PROJECT_ROOT, versionFile).replace(/\.ts$/, "");
    runtime = await startLocalRuntime(options);
    url = runtime.url;
  });

  after(async () => {
    await runtime?.stop();
    fs.rmSync(tmpDir, { recursive: true, force: true });
    fs.rmSync(signingKeyFile, { force: true });
    delete process.env.LOCAL_FIXTURE_VERSION_HANDLER;
  });

  const echo = async (input: string, init?: RequestInit) => {
    const response = await fetch(`${url}${input}`, init);
    expect(response.status, await response.clone().text()).to.equal(200);
    return (await response.json()) as any;
  };

  it("selects the most specific route: literal over {param} over {proxy+}, $default last", async () => {
    expect((await echo("/items/special")).event.routeKey).to.equal("GET /items/special");
    const byId = await echo("/items/42");
    expect(byId.event.routeKey).to.equal("GET /items/{id}");
    expect(byId.event.pathParameters).to.deep.equal({ id: "42" });
    const proxy = await echo("/echo/a/b%20c/d", { method: "DELETE" });
    expect(proxy.event.routeKey).to.equal("ANY /echo/{proxy+}");
    expect(proxy.event.pathParameters).to.deep.equal({ proxy: "a/b c/d" });
    expect(proxy.event.requestContext.http.method).to.equal("DELETE");
    expect((await echo("/items/42/more")).event.routeKey).to.equal("$default");
    expect((await echo("/items", { method: "POST" })).event.routeKey).to.equal("$default");
  });

  it("builds payload format 2.0 events: headers, cookies, query strings, base64 bodies, request context", async () => {
    const body = Buffer.from([0xff, 0x00, 0x10]);
    const { event, context, env } = await echo("/echo/x?a=1&a=2&b=%20y", {
      method: "POST",
      headers: { "content-type": "application/octet-stream", cookie: "s=1; t=2", "x-multi": "v" },
      body,
    });
    expect(event.version).to.equal("2.0");
    expect(event.rawPath).to.equal("/echo/x");
    expect(event.rawQueryString).to.equal("a=1&a=2&b=%20y");
    expect(event.queryStringParameters).to.deep.equal({ a: "1,2", b: " y" });
    expect(event.cookies).to.deep.equal(["s=1", "t=2"]);
    expect(event.headers).to.include({ "content-type": "application/octet-stream", "x-multi": "v" });
    expect(event.headers).not.to.have.property("cookie");
    expect(event.isBase64Encoded).to.equal(true);
    expect(Buffer.from(event.body, "base64").equals(body)).to.equal(true);
    expect(event.requestContext).to.include({ routeKey: "ANY /echo/{proxy+}", stage: "$default", accountId: "123456789012" });
    expect(event.requestContext.requestId).to.be.a("string").with.length.greaterThan(8);
    expect(event.requestContext.http).to.include({ path: "/echo/x", sourceIp: "127.0.0.1" });
    expect(event.requestContext.time).to.match(/^\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(context.awsRequestId).to.equal(event.requestContext.requestId);
    expect(context.memoryLimitInMB).to.equal("128");
    expect(context.remaining).to.be.within(1, 1000);
    expect(env).to.deep.equal({ AWS_LAMBDA_FUNCTION_NAME: "fixture-test-fixture-handlers-echo", GREETING: "hello", AWS_REGION: "eu-west-1" });

    const json = await echo("/echo/j", { method: "POST", headers: { "content-type": "application/json" }, body: "{\"k\":1}" });
    expect(json.event).to.include({ body: "{\"k\":1}", isBase64Encoded: false });
    const none = await echo("/echo/n");
    expect(none.event).not.to.have.property("body");
    expect(none.event).not.to.have.property("queryStringParameters");
  });

  it("answers by the response rules: structured, base64 bodies and cookies, and the bare-value shorthand", async () => {
    const binary = await fetch(`${url}/binary`);
    expect(binary.status).to.equal(201);
    expect(binary.headers.get("content-type")).to.equal("application/octet-stream");
    expect(binary.headers.get("x-answer")).to.equal("42");
    expect(binary.headers.getSetCookie()).to.deep.equal(["a=1; Path=/", "b=2; HttpOnly"]);
    expect(Buffer.from(await binary.arrayBuffer()).equals(Buffer.from([0, 1, 2, 255]))).to.equal(true);
    expect(binary.headers.get("apigw-requestid")).to.be.a("string");

    const shorthand = await fetch(`${url}/shorthand`);
    expect(shorthand.status).to.equal(200);
    expect(shorthand.headers.get("content-type")).to.equal("application/json");
    expect(await shorthand.json()).to.deep.equal({ hello: "world" });
    const text = await fetch(`${url}/text`);
    expect(await text.text()).to.equal("plain words");
  });

  it("answers as the gateway does: 500 for errors and malformed responses, 503 on a timeout", async () => {
    for (const route of ["/broken", "/malformed"]) {
      const response = await fetch(`${url}${route}`);
      expect(response.status, route).to.equal(500);
      expect(await response.json()).to.deep.equal({ message: "Internal Server Error" });
    }
    const slow = await fetch(`${url}/slow`);
    expect(slow.status).to.equal(503);
    expect(await slow.json()).to.deep.equal({ message: "Service Unavailable" });
    expect(lines.some((line) => /GET \/slow .*-> 503 .*function timed out/.test(line))).to.equal(true);
  });

  it("answers 500 when the function's environment dies, and starts a fresh one for the next request", async () => {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${url}/crash`);
      expect(response.status).to.equal(500);
      expect(lines.filter((l) => l.startsWith("HTTP GET /crash")).at(-1)).to.match(/-> 500 .* cold \[Runtime.ExitError: Runtime exited with code 3\]$/);
    }
  });

  it("starts each environment cold once, then reuses it warm", async () => {
    const first = await echo("/items/1");
    const second = await echo("/items/2");
    expect(second.invocations).to.be.greaterThan(1);
    expect(first.invocations).to.be.lessThan(second.invocations);
    expect(lines.filter((line) => line.includes("GET /items/2 ")).at(-1)).to.match(/-> 200 \d+ ms fixture-handlers-echo warm$/);
  });

  it("authorizes JWT routes: 401 without or with a bad token, 403 without the scope, 200 with a good one", async () => {
    expect((await fetch(`${url}/secure`)).status).to.equal(401);
    const unauthorized = await fetch(`${url}/secure`, { headers: { authorization: "Bearer not-a-jwt" } });
    expect(unauthorized.status).to.equal(401);
    expect(await unauthorized.json()).to.deep.equal({ message: "Unauthorized" });

    const token = Object.values(runtime.tokens)[0];
    const ok = await echo("/secure", { headers: { authorization: `Bearer ${token}` } });
    expect(ok.event.requestContext.authorizer.jwt.scopes).to.deep.equal(["orders/read"]);
    expect(ok.event.requestContext.authorizer.jwt.claims).to.include({ iss: "https://issuer.example.com", client_id: "fixture-client" });

    const authorizerId = Object.keys(runtime.tokens)[0];
    const unscoped = await runtime.issueToken(authorizerId, ["orders/write"]);
    const forbidden = await fetch(`${url}/secure`, { headers: { authorization: `Bearer ${unscoped}` } });
    expect(forbidden.status).to.equal(403);
    expect(await forbidden.json()).to.deep.equal({ message: "Forbidden" });

    for (const [what, overrides] of [
      ["another audience", { audience: "someone-else" }],
      ["another issuer", { issuer: "https://elsewhere.example.com" }],
      ["an expired token", { expiresIn: Math.floor(Date.now() / 1000) - 60 }],
    ] as const) {
      const token = await runtime.issueToken(authorizerId, ["orders/read"], overrides);
      expect((await fetch(`${url}/secure`, { headers: { authorization: `Bearer ${token}` } })).status, what).to.equal(401);
    }

    const stranger = await LocalIssuer.create();
    const foreign = await stranger.issue({ issuer: "https://issuer.example.com", audiences: ["fixture-client"] }, { scopes: ["orders/read"] });
    expect((await fetch(`${url}/secure`, { headers: { authorization: `Bearer ${foreign}` } })).status, "other key").to.equal(401);
  });

  it("refuses, as API Gateway does, a token without exp, or with iat or nbf in the future", async () => {
    // Signed with the runtime's own key, as its tokens are, so only the claims differ.
    const { privateJwk } = JSON.parse(fs.readFileSync(signingKeyFile, "utf8")) as { privateJwk: JWK };
    const key = await importJWK(privateJwk, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const status = async (claims: JWTPayload) => {
      const token = await new SignJWT({ iss: "https://issuer.example.com", client_id: "fixture-client", scope: "orders/read", sub: "someone", ...claims })
        .setProtectedHeader({ alg: "ES256", kid: privateJwk.kid }).sign(key);
      return (await fetch(`${url}/secure`, { headers: { authorization: `Bearer ${token}` } })).status;
    };
    expect(await status({ iat: now, exp: now + 600 }), "exp ahead, iat now").to.equal(200);
    expect(await status({ iat: now }), "no exp").to.equal(401);
    expect(await status({ iat: now + 120, exp: now + 600 }), "iat in the future").to.equal(401);
    expect(await status({ nbf: now + 120, exp: now + 600 }), "nbf in the future").to.equal(401);
    expect(lines.filter((l) => l.startsWith("HTTP GET /secure ")).slice(-3).join("\n")).to.include("\"exp\"").and.include("\"iat\"").and.include("\"nbf\"");
  });

  it("answers 413 above the HTTP API's 10 MB payload limit, without invoking the function", async () => {
    const before = lines.length;
    const response = await fetch(`${url}/echo/big`, { method: "POST", body: Buffer.alloc(10 * 1024 * 1024 + 1) });
    expect(response.status).to.equal(413);
    expect(lines.slice(before).join("\n")).to.match(/-> 413 .*payload above/).and.not.to.match(/handlers-echo/);
  });

  describe("one runtime per work folder (per stack under npm run dev)", () => {
    const readLock = (workDir: string) => JSON.parse(fs.readFileSync(`${workDir}.lock`, "utf8")) as LockHolder;
    /** The start's error; a start that succeeds is stopped again, which is the harm the lock prevents. */
    const startError = (overrides: LocalRuntimeOptions) => startLocalRuntime({ ...options, ...overrides, log: () => undefined })
      .then(async (second) => { await second.stop(); return undefined; }, (error: Error) => error);

    it("refuses a second runtime while the first lives, naming it, and leaves the first's bundles and answers alone", async () => {
      const bundles = fs.readdirSync(options.workDir!);
      const error = await startError({});
      expect(error, "the second start is refused").to.be.instanceOf(Error);
      expect(error!.message).to.include(`Stack "test" already runs locally in process ${process.pid}`).and.include(`serving ${url}`).and.include(`kill ${process.pid}`);
      expect(fs.readdirSync(options.workDir!)).to.deep.equal(bundles);
      expect(await echo("/items/1")).to.have.property("invocations");
      expect(readLock(options.workDir!).url).to.equal(url);
    });

    const staleWorkDir = path.join(PROJECT_ROOT, ".local", `test-fixture-stale-${process.pid}`);
    after(() => fs.rmSync(`${staleWorkDir}.lock`, { force: true }));

    it("takes over a stale lock, whose process is gone, and removes its own lock when it stops", async () => {
      const workDir = staleWorkDir;
      const gone = spawnSync(process.execPath, ["-e", ""]).pid;
      fs.writeFileSync(`${workDir}.lock`, JSON.stringify({ pid: gone, stack: "test", startedAt: "2026-01-01T00:00:00.000Z", token: "stale" }));
      const second = await startLocalRuntime({ ...options, workDir, watch: false, log: () => undefined });
      try {
        expect(readLock(workDir)).to.include({ pid: process.pid, url: second.url });
        expect((await fetch(`${second.url}/items/1`)).status).to.equal(200);
      } finally {
        await second.stop();
      }
      expect(fs.existsSync(`${workDir}.lock`)).to.equal(false);
    });
  });

  describe("queue mappings", () => {
    let sqs: SQSClient;
    before(() => {
      sqs = new SQSClient({ region: "eu-west-1", endpoint: runtime.endpoints.sqs, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    });
    after(() => sqs.destroy());
    const queueUrl = (name: string) => runtime.app.queues.find((q) => q.name === `fixture-test-${name}`)!.url;
    const batchesOf = (queue: string, from: number) => lines.slice(from).filter((l) => l.startsWith(`SQS  fixture-test-${queue} -> `));

    it("invokes the consumer with at most the mapping's batch size, and keeps only the failed messages", async () => {
      const from = lines.length;
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl("jobs"), Entries: ["a", "fail", "b", "c", "d"].map((body, i) => ({ Id: `m${i}`, MessageBody: body })) }));
      await eventually(async () => (batchesOf("jobs", from).length >= 3 ? true : undefined), 3000, "three batches");
      const sizes = batchesOf("jobs", from).map((l) => Number(/batch of (\d+)/.exec(l)![1]));
      expect(sizes.reduce((a, b) => a + b, 0)).to.equal(5);
      expect(Math.max(...sizes)).to.equal(2);
      expect(batchesOf("jobs", from).filter((l) => l.includes("1 failed"))).to.have.length(1);
      const queue = runtime.sqs.list().find((q) => q.name === "fixture-test-jobs")!;
      expect(queue.messages.map((m) => m.body)).to.deep.equal(["fail"]);
    });

    it("gathers messages for the batching window before invoking", async () => {
      const from = lines.length;
      const sent = Date.now();
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl("gathered"), MessageBody: "first" }));
      const [line] = await eventually(async () => { const found = batchesOf("gathered", from); return found.length ? found : undefined; }, 3000, "a batch");
      expect(times[lines.indexOf(line, from)] - sent, "invoked after the 1 s window").to.be.at.least(950);
    });
  });

  it("rebuilds and restarts a function when its handler file changes", async () => {
    expect(await (await fetch(`${url}/version`)).json()).to.deep.equal({ version: 1 });
    writeVersion(2);
    const body = await eventually(async () => {
      const answer = (await (await fetch(`${url}/version`)).json()) as { version: number };
      return answer.version === 2 ? answer : undefined;
    }, 8000, "the rebuilt handler");
    expect(body).to.deep.equal({ version: 2 });
    expect(lines.some((line) => line.startsWith("RELOAD fixture-version: rebuilt"))).to.equal(true);
    expect(lines.filter((line) => line.includes("GET /version")).at(-1)).to.match(/cold$/);
    expect(await runtime.rebuild(), "nothing changed since").to.deep.equal([]);
  });

  it("keeps watching a handler saved by rename (sed -i, vim, safe write), and serves its next plain write", async () => {
    const versionServed = (n: number) => eventually(async () => {
      const answer = (await (await fetch(`${url}/version`)).json()) as { version: number };
      return answer.version === n ? answer : undefined;
    }, 8000, `version ${n} served`);
    const saved = `${versionFile}.tmp`;
    fs.writeFileSync(saved, "export const handler = async () => ({ version: 3 });\n");
    fs.renameSync(saved, versionFile);
    await versionServed(3);
    writeVersion(4);
    expect(await versionServed(4)).to.deep.equal({ version: 4 });
  });
});
