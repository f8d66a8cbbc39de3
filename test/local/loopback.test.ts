/**
 * Every local endpoint answers only requests addressed to a loopback name: a web page that
 * rebinds its own DNS name to 127.0.0.1 sends `Host: <its name>`, and must read nothing.
 */
import { expect } from "chai";
import { request } from "node:http";
import { startDynamo, type LocalDynamo } from "../../local/dynamodb";
import { LocalHttpApi } from "../../local/http-api";
import { isLoopbackHost } from "../../local/loopback";
import { SigV4Verifier } from "../../local/sigv4";
import { LocalSqs } from "../../local/sqs";
import { LocalSsm } from "../../local/ssm";

/** One raw POST with the given Host header (no SDK: an SDK always sends the endpoint's own host). */
function post(endpoint: string, host: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const sent = request({ host: url.hostname, port: url.port, path: "/", method: "POST", headers: { ...headers, host, "content-length": String(Buffer.byteLength(body)) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

describe("local endpoints accept only loopback hosts", () => {
  const ssm = new LocalSsm();
  const sqs = new LocalSqs();
  let dynamo: LocalDynamo;
  let invoked = 0;
  const api = new LocalHttpApi({
    routes: [{ routeKey: "POST /", functionName: "hello", auth: "none", scopes: [] }],
    invoke: async (_name, _event, requestId) => { invoked++; return { payload: { statusCode: 200, body: "hello" }, timedOut: false, cold: false, durationMs: 0, requestId }; },
    apiId: "local", accountId: "123456789012", sigv4: new SigV4Verifier([], "eu-west-1"), onRequest: () => {},
  });
  /** Each endpoint with a request that reads something through it. */
  const endpoints: Record<string, { url: () => string; headers: Record<string, string>; body: string; answer: RegExp }> = {
    SSM: { url: () => ssm.endpoint, headers: { "x-amz-target": "AmazonSSM.GetParameter", "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify({ Name: "/app/secret", WithDecryption: true }), answer: /s3cr3t/ },
    "SQS (JSON)": { url: () => sqs.endpoint, headers: { "x-amz-target": "AmazonSQS.ListQueues", "content-type": "application/x-amz-json-1.0" }, body: "{}", answer: /work/ },
    "SQS (Query)": { url: () => sqs.endpoint, headers: { "content-type": "application/x-www-form-urlencoded" }, body: "Action=ListQueues&Version=2012-11-05", answer: /work/ },
    // dynalite wants a SigV4-shaped Authorization header; it does not check the signature.
    DynamoDB: { url: () => dynamo.endpoint, headers: { "x-amz-target": "DynamoDB_20120810.ListTables", "content-type": "application/x-amz-json-1.0", "x-amz-date": "20260101T000000Z", authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0" }, body: "{}", answer: /TableNames/ },
    "HTTP API": { url: () => api.url, headers: {}, body: "", answer: /hello/ },
  };

  before(async () => {
    ssm.put({ name: "/app/secret", type: "SecureString", value: "s3cr3t" });
    await ssm.start();
    await sqs.start();
    sqs.addQueue({ name: "work", arn: "arn:aws:sqs:eu-west-1:123456789012:work" });
    dynamo = await startDynamo([], { region: "eu-west-1" });
    await api.start();
  });

  after(async () => {
    await Promise.all([ssm.stop(), sqs.stop(), dynamo.stop(), api.stop()]);
  });

  for (const [name, endpoint] of Object.entries(endpoints)) {
    it(`${name}: refuses Host: attacker.example with 403 before doing anything, answers localhost`, async () => {
      const before = invoked;
      const refused = await post(endpoint.url(), "attacker.example", endpoint.headers, endpoint.body);
      expect(refused.status).to.equal(403);
      expect(refused.body).not.to.match(endpoint.answer);
      expect(refused.body).to.match(/attacker\.example.*loopback/);
      expect(invoked, "the function behind the HTTP API ran").to.equal(before);
      const port = new URL(endpoint.url()).port;
      const answered = await post(endpoint.url(), `localhost:${port}`, endpoint.headers, endpoint.body);
      expect(answered.status).to.equal(200);
      expect(answered.body).to.match(endpoint.answer);
    });
  }

  it("names the loopback hosts: localhost, 127.0.0.1 and [::1], with or without a port", () => {
    for (const host of ["localhost", "LOCALHOST:4566", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:8080"]) expect(isLoopbackHost(host), host).to.equal(true);
    for (const host of [undefined, "", "attacker.example", "localhost.attacker.example", "127.0.0.1.nip.io", "127.0.0.2", "0.0.0.0", "[::2]", "localhost:", "localhost:http", "::1"]) {
      expect(isLoopbackHost(host), String(host)).to.equal(false);
    }
  });
});
