import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { expect } from "chai";
import { TRUSTED_PRINCIPAL_ARN } from "../../handlers/lib/principals";
import {
  callHttp,
  httpEvent,
  iamCaller,
  postOrder,
  setUpHandlerEnvironment,
  TRUSTED_ROLE_ARN,
  TRUSTED_SESSION_ARN,
  withJwt,
  withoutCaller,
  type HttpHandler,
} from "./support";

type Http = typeof import("../../handlers/lib/http");

/** A route that acts for the `customerId` of its JSON body, as create-order does. */
function actForBodyCustomer(http: Http): HttpHandler {
  return http.httpHandler(async (event) => {
    const body = http.readJsonBody(event) as { customerId: string };
    http.requireOwnCustomer(event, body.customerId);
    return http.json(200, { actedFor: body.customerId, caller: http.callerOf(event) });
  });
}

function signedBy(event: APIGatewayProxyEventV2, userArn: string): APIGatewayProxyEventV2 {
  return { ...event, requestContext: { ...event.requestContext, authorizer: { iam: iamCaller(userArn) } } as APIGatewayProxyEventV2["requestContext"] };
}

describe("handlers/lib/http", () => {
  let http: Http;
  let route: HttpHandler;
  let trusted: string | undefined;

  before(async () => {
    // The handlers' environment first: the logger and metrics read it when first imported.
    await setUpHandlerEnvironment();
    trusted = process.env.TRUSTED_IAM_PRINCIPALS;
    process.env.TRUSTED_IAM_PRINCIPALS = JSON.stringify([TRUSTED_ROLE_ARN, "arn:aws:iam::123456789012:user/ops/batch-import"]);
    http = require("../../handlers/lib/http") as Http;
    route = actForBodyCustomer(http);
  });
  after(() => {
    if (trusted === undefined) delete process.env.TRUSTED_IAM_PRINCIPALS;
    else process.env.TRUSTED_IAM_PRINCIPALS = trusted;
  });

  describe("deny by default", () => {
    const request = postOrder({ customerId: "cust-1" });

    it("lets a JWT caller act for itself only (403 for another customerId)", async () => {
      const own = await callHttp(route, withJwt(request, "cust-1"));
      expect(own.status).to.equal(200);
      expect(own.body).to.deep.equal({ actedFor: "cust-1", caller: { kind: "customer", customerId: "cust-1" } });

      const other = await callHttp(route, withJwt(request, "cust-2"));
      expect(other.status).to.equal(403);
      expect(other.body.error.code).to.equal("Forbidden");
    });

    it("lets a JWT without a subject act for nobody (403)", async () => {
      const call = await callHttp(route, withJwt(request, "", { client_id: "app" }));
      expect(call.status).to.equal(403);
    });

    it("lets a session of a trusted role, or a trusted user, act for any customer", async () => {
      const role = await callHttp(route, signedBy(request, TRUSTED_SESSION_ARN));
      expect(role.status).to.equal(200);
      expect(role.body.caller).to.deep.equal({ kind: "service", principalArn: TRUSTED_SESSION_ARN });

      const user = await callHttp(route, signedBy(request, "arn:aws:iam::123456789012:user/ops/batch-import"));
      expect(user.status).to.equal(200);
    });

    const untrusted: [string, string][] = [
      ["another role", "arn:aws:sts::123456789012:assumed-role/orders-support-2/s"],
      ["the trusted role's name in another account", "arn:aws:sts::210987654321:assumed-role/orders-support/s"],
      ["a user named like the trusted role", "arn:aws:iam::123456789012:user/orders-support"],
      ["the trusted user under another path", "arn:aws:iam::123456789012:user/batch-import"],
      ["the account root", "arn:aws:iam::123456789012:root"],
    ];
    for (const [name, userArn] of untrusted) {
      it(`refuses an IAM caller not on the allow-list (403): ${name}`, async () => {
        const call = await callHttp(route, signedBy(request, userArn));
        expect(call.status).to.equal(403);
        expect(call.body).to.deep.equal({ error: { code: "Forbidden", message: "The caller is not allowed to use this API" } });
      });
    }

    it("identifies a request's caller once: the wrapper and the route get the same answer, and the allow-list follows its variable", () => {
      const event = signedBy(postOrder({ customerId: "cust-1" }), TRUSTED_SESSION_ARN);
      const first = http.callerOf(event);
      expect(http.callerOf(event), "the same object, not found again").to.equal(first);
      const saved = process.env.TRUSTED_IAM_PRINCIPALS;
      try {
        process.env.TRUSTED_IAM_PRINCIPALS = "[]";
        expect(() => http.callerOf(signedBy(postOrder({ customerId: "cust-1" }), TRUSTED_SESSION_ARN)), "a new value of the variable is read").to.throw(/not allowed/);
      } finally {
        process.env.TRUSTED_IAM_PRINCIPALS = saved;
      }
    });

    it("refuses every IAM caller when the stack trusts none", async () => {
      process.env.TRUSTED_IAM_PRINCIPALS = "[]";
      try {
        expect((await callHttp(route, signedBy(request, TRUSTED_SESSION_ARN))).status).to.equal(403);
        delete process.env.TRUSTED_IAM_PRINCIPALS;
        expect((await callHttp(route, signedBy(request, TRUSTED_SESSION_ARN))).status).to.equal(403);
      } finally {
        process.env.TRUSTED_IAM_PRINCIPALS = JSON.stringify([TRUSTED_ROLE_ARN, "arn:aws:iam::123456789012:user/ops/batch-import"]);
      }
    });

    const anonymous: [string, APIGatewayProxyEventV2][] = [
      ['an auth "none" route', withoutCaller(request)],
      ["the $default route", { ...withoutCaller(request), routeKey: "$default", requestContext: { ...withoutCaller(request).requestContext, routeKey: "$default" } }],
      ["a direct invoke (no requestContext)", { body: request.body, headers: request.headers } as unknown as APIGatewayProxyEventV2],
      ["an authorizer it does not know (lambda)", { ...request, requestContext: { ...request.requestContext, authorizer: { lambda: { customerId: "cust-1" } } } as APIGatewayProxyEventV2["requestContext"] }],
    ];
    for (const [name, event] of anonymous) {
      it(`refuses a call without credentials (401), before reading its body: ${name}`, async () => {
        const call = await callHttp(route, { ...event, body: "{not json" });
        expect(call.status).to.equal(401);
        expect(call.body).to.deep.equal({ error: { code: "Unauthorized", message: "The request carries no credentials this API accepts" } });
      });
    }

    it("serves a public handler without credentials", async () => {
      const open = http.httpHandler(async () => http.json(200, { ok: true }), { public: true });
      expect((await callHttp(open, withoutCaller(httpEvent({ method: "GET", path: "/health" })))).status).to.equal(200);
    });

    it("accepts as trusted only IAM role and user ARNs", () => {
      expect(TRUSTED_PRINCIPAL_ARN.test(TRUSTED_ROLE_ARN)).to.equal(true);
      expect(TRUSTED_PRINCIPAL_ARN.test("arn:aws-us-gov:iam::123456789012:user/a/b/c")).to.equal(true);
      for (const arn of ["*", "arn:aws:iam::123456789012:root", "arn:aws:iam::*:role/x", "arn:aws:sts::123456789012:assumed-role/x/s", "arn:aws:iam::123456789012:role/x*"]) {
        expect(TRUSTED_PRINCIPAL_ARN.test(arn), arn).to.equal(false);
      }
    });
  });

  describe("error bodies echo nothing the client sent", () => {
    const marker = "<script>alert(1)</script>";
    const cases: [string, APIGatewayProxyEventV2, number, string][] = [
      ["a Content-Type", postOrder({ customerId: "cust-1" }, { "content-type": `text/html; x=${marker}` }), 415, "UnsupportedMediaType"],
      ["JSON the parser quotes", postOrder(`{"customerId": ${marker}}`), 400, "InvalidJson"],
      ["an oversized body", postOrder({ customerId: marker.repeat(1000) }), 413, "PayloadTooLarge"],
    ];
    for (const [name, event, status, code] of cases) {
      it(`answers ${status} ${code} with a fixed message for ${name}`, async () => {
        const call = await callHttp(route, withJwt(event, "cust-1"));
        expect(call.status).to.equal(status);
        expect(call.body.error.code).to.equal(code);
        expect(call.result.body).not.to.include("script");
        expect(call.result.body).not.to.include("customerId");
      });
    }

    it("gives a ValidationError a fixed message, whatever its details", async () => {
      const error = http.validationError([{ field: "items[0].sku", message: "is required" }]);
      expect(error.message).to.equal("The request is invalid; details lists each problem");
    });

    it("names the object, not the fields, when an object has unknown fields", () => {
      expect(http.unknownFieldsProblem([marker, "a"], ["a", "b"], "(body)")).to.deep.equal([{ field: "(body)", message: "has fields that are not allowed; allowed: a, b" }]);
      expect(http.unknownFieldsProblem(["a"], ["a", "b"], "(body)")).to.deep.equal([]);
    });

    it("sends X-Content-Type-Options: nosniff on successes, errors and 500s", async () => {
      const failing = http.httpHandler(async () => {
        throw new Error(marker);
      });
      const calls = [
        await callHttp(route, withJwt(postOrder({ customerId: "cust-1" }), "cust-1")),
        await callHttp(route, withoutCaller(postOrder({}))),
        await callHttp(failing, withJwt(postOrder({}), "cust-1")),
      ];
      expect(calls.map((call) => call.status)).to.deep.equal([200, 401, 500]);
      for (const call of calls) expect(call.result.headers?.["x-content-type-options"]).to.equal("nosniff");
      expect(calls[2].result.body).not.to.include("script");
    });
  });
});
