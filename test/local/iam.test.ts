/**
 * IAM (SigV4) routes in the local runtime, over real HTTP: a fixture program
 * (fixtures/iam-program.ts) with IAM routes on an HTTP API and a REST API, and the orders
 * service's get-order handler behind one; requests signed by the SDK v3's signer and by the
 * SDK v2's (an implementation of its own), then tampered with.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import { expect } from "chai";
import { formatBanner, parseDevCommand } from "../../local/cli";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { localPrincipal, type LocalPrincipal } from "../../local/sigv4";
import { captureLog, PROJECT_ROOT } from "./support";

// The SDK v2 announces its maintenance mode on load; here it is only a second signer.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AWS: typeof import("aws-sdk") = require("aws-sdk");

const REGION = "eu-west-1";
const UNTRUSTED_USER = "arn:aws:iam::210987654321:user/ops/batch-import";
const MISMATCH = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

interface Call {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  principal?: LocalPrincipal;
  secret?: string;
  signingDate?: Date;
}

/** Signs a request to `url` with the SDK v3's signer, as an SDK client or `@aws-sdk/signature-v4` users do. */
async function signV3(url: string, { method = "GET", body, headers = {}, principal, secret, signingDate }: Call): Promise<Record<string, string>> {
  const target = new URL(url);
  const query: Record<string, string[]> = {};
  for (const [key, value] of target.searchParams) (query[key] ??= []).push(value);
  const signer = new SignatureV4({
    service: "execute-api", region: REGION, sha256: Sha256,
    credentials: { accessKeyId: principal!.accessKeyId, secretAccessKey: secret ?? principal!.secretAccessKey },
  });
  const signed = await signer.sign({
    method, protocol: target.protocol, hostname: target.hostname, port: Number(target.port), path: target.pathname,
    query, headers: { host: target.host, ...headers }, body,
  }, { signingDate });
  return signed.headers as Record<string, string>;
}

describe("local runtime: IAM (SigV4) routes (fixture program)", function () {
  let runtime: LocalRuntime;
  const { lines, log } = captureLog();
  const workDir = path.join(PROJECT_ROOT, ".local", `test-iam-${process.pid}`);
  const service = () => runtime.iamPrincipals[0];
  const untrusted = () => runtime.iamPrincipals.find((p) => p.arn === UNTRUSTED_USER)!;

  before(async function () {
    runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: path.join(__dirname, "fixtures", "iam-program.ts"),
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": REGION }, secretKeys: [], placeholders: [] },
      workDir,
      iamPrincipals: [UNTRUSTED_USER],
      log,
    });
  });

  after(async () => {
    await runtime?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  const send = async (url: string, call: Call, tamper: (headers: Record<string, string>) => Record<string, string> = (h) => h) => {
    const headers = tamper(await signV3(url, call));
    const { host: _host, ...sent } = headers;
    const response = await fetch(url, { method: call.method ?? "GET", headers: sent, body: call.body });
    return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body: (await response.json()) as any };
  };
  const httpUrl = (pathAndQuery: string) => `${runtime.apiUrls.signed.replace(/\/$/, "")}${pathAndQuery}`;
  const restUrl = (pathAndQuery: string) => `${runtime.apiUrls.partners}${pathAndQuery}`;

  it("defines the default principal (role local-service, a session's keys) and the --iam-principal ones, and prints their keys", () => {
    expect(runtime.iamPrincipals.map((p) => p.arn)).to.deep.equal(["arn:aws:iam::123456789012:role/local-service", UNTRUSTED_USER]);
    expect(service().accessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/);
    expect(untrusted().accessKeyId).to.match(/^AKIA[A-Z2-7]{16}$/);
    // Keys derive from the ARN: the same after a restart.
    expect(localPrincipal(UNTRUSTED_USER)).to.deep.equal(untrusted());
    const banner = formatBanner(runtime, "test", 0, new Map());
    expect(banner).to.include(`Keys for the IAM routes (SigV4, service execute-api, region ${REGION}; --iam-principal <arn> adds one):`);
    expect(banner).to.include(`  arn:aws:sts::123456789012:assumed-role/local-service/local: export AWS_ACCESS_KEY_ID=${service().accessKeyId} AWS_SECRET_ACCESS_KEY=${service().secretAccessKey}`);
    expect(parseDevCommand(["test", "--iam-principal", UNTRUSTED_USER, "--iam-principal", "arn:aws:iam::123456789012:role/ci"])).to.deep.include({ iamPrincipals: [UNTRUSTED_USER, "arn:aws:iam::123456789012:role/ci"] });
    expect(() => parseDevCommand(["--iam-principal", "arn:aws:iam::123456789012:group/admins"])).to.throw(/is not an IAM role or user ARN/);
  });

  it("HTTP API: a signed request reaches the function with requestContext.authorizer.iam as payload 2.0 writes it", async () => {
    const body = JSON.stringify({ sku: "book" });
    const { status, body: echoed } = await send(httpUrl("/echo/a%20b?z=1&a=2&a=3"), { method: "POST", body, headers: { "content-type": "application/json" }, principal: service() });
    expect(status).to.equal(200);
    expect(echoed.event.body).to.equal(body);
    expect(echoed.event.requestContext.authorizer).to.deep.equal({
      iam: {
        accessKey: service().accessKeyId, accountId: "123456789012", callerId: service().identity.userId, cognitoIdentity: null,
        principalOrgId: null, userArn: "arn:aws:sts::123456789012:assumed-role/local-service/local", userId: service().identity.userId,
      },
    });
    expect(service().identity.userId).to.match(/^AROA[A-Z2-7]{17}:local$/);
    expect(lines.at(-1)).to.match(/^HTTP POST \/echo\/a%20b \(ANY \/echo\/\{proxy\+\}\) -> 200 .*\[signed by arn:aws:iam::123456789012:role\/local-service\]$/);
  });

  it("HTTP API: accepts the SDK v2's own signer (a second implementation)", async () => {
    const url = new URL(httpUrl("/echo/v2?x=y"));
    const request = new AWS.HttpRequest(new AWS.Endpoint(url.origin), REGION);
    Object.assign(request, { method: "PUT", path: `${url.pathname}${url.search}`, body: "v2 body" });
    request.headers.Host = url.host;
    new (AWS as any).Signers.V4(request, "execute-api").addAuthorization(new AWS.Credentials(untrusted().accessKeyId, untrusted().secretAccessKey), new Date());
    const { Host: _host, ...headers } = request.headers;
    // v2 sends no X-Amz-Content-SHA256: the signature alone covers the body.
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.to.include("x-amz-content-sha256");
    const response = await fetch(url, { method: "PUT", headers, body: "v2 body" });
    expect(response.status).to.equal(200);
    expect(((await response.json()) as any).event.requestContext.authorizer.iam).to.include({ userArn: UNTRUSTED_USER, accountId: "210987654321", userId: untrusted().identity.userId });
    const tampered = await fetch(url, { method: "PUT", headers, body: "v3 body" });
    expect([tampered.status, await tampered.json()]).to.deep.equal([403, { message: MISMATCH }]);
  });

  it("HTTP API: refuses an unsigned request, a tampered body, a wrong secret, an expired date and an unknown key with 403, never invoking the function", async () => {
    const before = lines.length;
    const url = httpUrl("/echo/x");
    const unsigned = await fetch(url);
    expect([unsigned.status, await unsigned.json()]).to.deep.equal([403, { message: "Forbidden" }]);
    const post = { method: "POST", body: '{"quantity":1}', principal: service() };
    const tampered = await signV3(url, post);
    const { host: _host, ...headers } = tampered;
    const changed = await fetch(url, { method: "POST", headers, body: '{"quantity":9}' });
    expect([changed.status, await changed.json()]).to.deep.equal([403, { message: MISMATCH }]);
    expect(lines.at(-1)).to.include("[X-Amz-Content-SHA256 is not the body's hash]");
    const wrongSecret = await send(url, { principal: service(), secret: "not-the-secret" });
    expect([wrongSecret.status, wrongSecret.body]).to.deep.equal([403, { message: MISMATCH }]);
    const signedAt = new Date(Date.now() - 6 * 60 * 1000);
    const expired = await send(url, { principal: service(), signingDate: signedAt });
    expect(expired.status).to.equal(403);
    expect(expired.body.message).to.match(new RegExp(`^Signature expired: ${signedAt.toISOString().replace(/[-:]|\.\d{3}/g, "")} is now earlier than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z - 5 min\\.\\)$`));
    const unknown = await send(url, { principal: { ...service(), accessKeyId: "AKIAUNKNOWNUNKNOWN00" } });
    expect([unknown.status, unknown.body]).to.deep.equal([403, { message: "The security token included in the request is invalid." }]);
    const otherRegion = await send(url, { principal: service() }, (h) => ({ ...h, authorization: h.authorization.replace(`/${REGION}/`, "/us-east-1/") }));
    expect(otherRegion.body).to.deep.equal({ message: "Credential should be scoped to a valid region, not 'us-east-1'. " });
    // Six refused requests, six 403 lines (an empty filter would pass every()), none naming an invoked function.
    const refused = lines.slice(before).filter((line) => line.startsWith("HTTP") && line.includes(" -> 403 "));
    expect(refused, lines.slice(before).join("\n")).to.have.length(6);
    expect(refused.every((line) => !/ (cold|warm)/.test(line)), refused.join("\n")).to.equal(true);
  });

  it("REST API: a signed request gets requestContext.identity (payload 1.0) filled with the caller", async () => {
    const { status, body: event } = await send(restUrl("/signed?q=1"), { method: "POST", body: "{}", headers: { "content-type": "application/json" }, principal: untrusted() });
    expect(status).to.equal(200);
    expect(event.requestContext.identity).to.include({
      accessKey: untrusted().accessKeyId, accountId: "210987654321", caller: untrusted().identity.userId, user: untrusted().identity.userId, userArn: UNTRUSTED_USER,
    });
    expect(event.requestContext.authorizer).to.equal(null);
  });

  it("REST API: refuses with API Gateway's messages and error types (Missing Authentication Token unsigned)", async () => {
    const url = restUrl("/signed");
    const unsigned = await fetch(url, { method: "POST" });
    expect([unsigned.status, unsigned.headers.get("x-amzn-errortype"), await unsigned.json()]).to.deep.equal([403, "MissingAuthenticationTokenException", { message: "Missing Authentication Token" }]);
    const wrongSecret = await send(url, { method: "POST", principal: untrusted(), secret: "nope" });
    expect([wrongSecret.status, wrongSecret.errorType, wrongSecret.body]).to.deep.equal([403, "InvalidSignatureException", { message: MISMATCH }]);
    const expired = await send(url, { method: "POST", principal: untrusted(), signingDate: new Date(Date.now() - 20 * 60 * 1000) });
    expect([expired.status, expired.errorType]).to.deep.equal([403, "InvalidSignatureException"]);
    expect(expired.body.message).to.match(/^Signature expired: /);
    const future = await send(url, { method: "POST", principal: untrusted(), signingDate: new Date(Date.now() + 10 * 60 * 1000) });
    expect(future.body.message).to.match(/^Signature not yet current: /);
    const unknown = await send(url, { method: "POST", principal: { ...untrusted(), accessKeyId: "AKIAUNKNOWNUNKNOWN00" } });
    expect([unknown.errorType, unknown.body]).to.deep.equal(["UnrecognizedClientException", { message: "The security token included in the request is invalid." }]);
    const incomplete = await fetch(url, { method: "POST", headers: { authorization: "AWS4-HMAC-SHA256 Credential=x" } });
    expect(incomplete.headers.get("x-amzn-errortype")).to.equal("IncompleteSignatureException");
    expect(((await incomplete.json()) as any).message).to.equal("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=x");
    // The path is signed: the same headers on another stage path do not verify.
    const elsewhere = await signV3(restUrl("/signed"), { method: "POST", principal: untrusted() });
    const { host: _host, ...headers } = elsewhere;
    const moved = await fetch(restUrl("/signed?extra=1"), { method: "POST", headers });
    expect(moved.status).to.equal(403);
  });

  it("the orders service: a signed call from a principal on TRUSTED_IAM_PRINCIPALS passes callerOf, one not on it gets 403", async () => {
    const orderId = "0".repeat(64);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb, region: REGION, credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
    const order = { orderId, customerId: "someone-else", items: [{ sku: "book", quantity: 1 }], status: "PENDING", createdAt: "2026-12-01T00:00:00.000Z", itemCount: 1 };
    await db.send(new PutCommand({ TableName: "iam-fixture-orders", Item: order }));
    // A trusted service may read any customer's order.
    const trusted = await send(httpUrl(`/orders/${orderId}`), { principal: service() });
    expect([trusted.status, trusted.body]).to.deep.equal([200, order]);
    const refused = await send(httpUrl(`/orders/${orderId}`), { principal: untrusted() });
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal("Forbidden");
    const unsigned = await fetch(httpUrl(`/orders/${orderId}`));
    expect(unsigned.status).to.equal(403);
  });
});
