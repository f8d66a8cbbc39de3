/** The local runtime's rules that need no servers: batch failures, secrets, route selection, responses, arguments. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { parseArgs } from "../../local/cli";
import { failedMessageIds } from "../../local/event-sources";
import type { InvokeResult } from "../../local/functions";
import { MalformedResponseError, RouteTable, toHttpResponse } from "../../local/http-api";
import { readLocalSecrets, secretVariable } from "../../local/runtime";

const result = (payload: unknown, error?: InvokeResult["error"]): InvokeResult => ({ payload, error, timedOut: false, cold: false, durationMs: 1, requestId: "r" });

describe("local runtime rules", () => {
  describe("partial batch responses (ReportBatchItemFailures)", () => {
    const ids = ["m1", "m2", "m3"];
    const failed = (r: InvokeResult, report = true) => [...failedMessageIds(r, ids, report).failed].sort();

    it("fails only the listed messages; an empty or null answer fails none", () => {
      expect(failed(result({ batchItemFailures: [{ itemIdentifier: "m2" }] }))).to.deep.equal(["m2"]);
      expect(failed(result({ batchItemFailures: [] }))).to.deep.equal([]);
      expect(failed(result(null))).to.deep.equal([]);
      expect(failed(result({}))).to.deep.equal([]);
    });

    it("fails the whole batch for a function error, a malformed answer or an unknown identifier", () => {
      expect(failed(result(undefined, { errorType: "Error", errorMessage: "x" }))).to.deep.equal(ids);
      expect(failed(result("done"))).to.deep.equal(ids);
      expect(failed(result({ batchItemFailures: "m1" }))).to.deep.equal(ids);
      expect(failed(result({ batchItemFailures: [{ itemIdentifier: "other" }] }))).to.deep.equal(ids);
      expect(failed(result({ batchItemFailures: [{ itemIdentifier: "" }] }))).to.deep.equal(ids);
    });

    it("without ReportBatchItemFailures, a successful invocation deletes the whole batch", () => {
      expect(failed(result({ batchItemFailures: [{ itemIdentifier: "m2" }] }), false)).to.deep.equal([]);
    });
  });

  describe("route selection", () => {
    const table = new RouteTable(["GET /a/{x}", "GET /a/b", "ANY /a/{proxy+}", "POST /a/{x}", "ANY /a/{x}", "GET /", "$default"].map((routeKey) => ({ routeKey, functionName: "f", auth: "none" as const, scopes: [] })));
    const key = (method: string, p: string) => table.match(method, p)?.route.routeKey;

    it("prefers literal segments, then parameters, then greedy, and a method over ANY", () => {
      expect(key("GET", "/a/b")).to.equal("GET /a/b");
      expect(key("GET", "/a/c")).to.equal("GET /a/{x}");
      expect(key("PUT", "/a/c")).to.equal("ANY /a/{x}");
      expect(key("GET", "/a/c/d")).to.equal("ANY /a/{proxy+}");
      expect(key("GET", "/")).to.equal("GET /");
      expect(key("GET", "/zzz")).to.equal("$default");
      expect(key("GET", "/a/")).to.equal("$default");
    });

    it("answers undefined (a 404) when nothing matches and there is no $default", () => {
      expect(new RouteTable([{ routeKey: "GET /a", functionName: "f", auth: "none", scopes: [] }]).match("GET", "/b")).to.equal(undefined);
    });
  });

  describe("2.0 responses", () => {
    it("refuses what API Gateway refuses", () => {
      expect(() => toHttpResponse({ statusCode: 99 })).to.throw(MalformedResponseError);
      expect(() => toHttpResponse({ statusCode: 200, body: { not: "a string" } })).to.throw(MalformedResponseError, /body is object/);
      expect(() => toHttpResponse({ statusCode: 200, cookies: "a=1" })).to.throw(MalformedResponseError);
      expect(() => toHttpResponse({ statusCode: 200, headers: { a: { b: 1 } } })).to.throw(MalformedResponseError);
    });

    it("turns a bare value into a 200 JSON response", () => {
      const response = toHttpResponse([1, 2]);
      expect([response.statusCode, response.headers["content-type"], response.body.toString()]).to.deep.equal([200, "application/json", "[1,2]"]);
    });
  });

  describe("secrets for the local run", () => {
    it("take a LOCAL_SECRET_ variable over the git-ignored file, and report where each came from", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secrets-"));
      const file = path.join(dir, "secrets.json");
      fs.writeFileSync(file, JSON.stringify({ apiSigningKey: "from-file", other: "o" }));
      try {
        expect(secretVariable("apiSigningKey")).to.equal("LOCAL_SECRET_API_SIGNING_KEY");
        expect(readLocalSecrets(["apiSigningKey"], {}, file).secrets).to.deep.equal({ apiSigningKey: "from-file" });
        const both = readLocalSecrets(["apiSigningKey", "missing"], { LOCAL_SECRET_API_SIGNING_KEY: "from-env" }, file);
        expect(both).to.deep.equal({ secrets: { apiSigningKey: "from-env" }, sources: { apiSigningKey: "LOCAL_SECRET_API_SIGNING_KEY" } });
        fs.writeFileSync(file, "{ not json");
        expect(() => readLocalSecrets(["apiSigningKey"], {}, file)).to.throw(/secrets.json is not valid JSON/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("npm run dev arguments", () => {
    it("reads the stack and options, and names unknown or incomplete options", () => {
      const parsed = parseArgs(["prod", "--port", "4000", "--persist"]);
      expect(parsed.positional).to.deep.equal(["prod"]);
      expect(Object.fromEntries(parsed.flags)).to.deep.equal({ "--port": "4000", "--persist": true });
      expect(() => parseArgs(["--prot", "1"])).to.throw(/Unknown option --prot/);
      expect(() => parseArgs(["--port"])).to.throw(/--port needs a value/);
    });
  });
});
