import { createHash } from "crypto";
import { expect } from "chai";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { NAME_LIMITS, parameterPath, physicalName, shortHash, slugify } from "../../components/naming";
import {
  ACTIONS_WITHOUT_RESOURCE_LEVEL, checkPermissions, LAMBDA_ASSUME_ROLE_POLICY, PermissionStatement, policyDocument, tlsOnlyQueuePolicy,
} from "../../components/policy";
import { ComponentArgumentsError, LOG_RETENTION_DAYS, ProblemCollector } from "../../components/validation";
import { record } from "../mocks";

/** Evaluates `build` under the harness (project "shop", stack `stack`) and returns its resolved value. */
async function evaluated<T>(build: () => pulumi.Input<T>, stack = "dev"): Promise<T> {
  const { outputs } = await record(() => ({ value: build() }), { stack });
  return outputs.value as T;
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function problemsOf(statements: PermissionStatement[]) {
  const problems = new ProblemCollector();
  checkPermissions("permissions", statements, problems);
  return problems.problems;
}

describe("naming", () => {
  it("shortHash is the start of the SHA-256 hex digest", () => {
    expect(shortHash("GET /orders")).to.equal(sha("GET /orders").slice(0, 8));
    expect(shortHash("GET /orders", 6)).to.equal(sha("GET /orders").slice(0, 6));
  });

  it("slugify makes readable lowercase dash-separated pieces", () => {
    expect(slugify("GET /orders/{orderId}")).to.equal("get-orders-order-id");
    expect(slugify("fulfilOrders")).to.equal("fulfil-orders");
    expect(slugify("$default")).to.equal("default");
    expect(slugify("--A__b  c--")).to.equal("a-b-c");
    expect(slugify("/")).to.equal("");
  });

  it("physicalName is <project>-<stack>-<name> when it fits", async () => {
    expect(await evaluated(() => physicalName("api", 64))).to.equal("shop-dev-api");
    expect(await evaluated(() => physicalName("api", 64), "prod")).to.equal("shop-prod-api");
    expect(await evaluated(() => physicalName("jobs", 80, ".fifo"))).to.equal("shop-dev-jobs.fifo");
  });

  it("physicalName replaces characters AWS names do not take", async () => {
    expect(await evaluated(() => physicalName("a b/c.d:e", 64))).to.equal("shop-dev-a-b-c-d-e");
  });

  it("physicalName cuts a long name to the limit: its start, a dash and a digest of the whole, then the suffix", async () => {
    const name = "x".repeat(70);
    const full = `shop-dev-${name}`;
    const cut = await evaluated(() => physicalName(name, 64));
    expect(cut).to.equal(`${full.slice(0, 55)}-${sha(full).slice(0, 8)}`).and.to.have.length(64);
    const fifo = await evaluated(() => physicalName(name, 80, ".fifo"));
    expect(fifo).to.equal(`${full.slice(0, 80 - 5 - 9)}-${sha(full).slice(0, 8)}.fifo`).and.to.have.length(80);
    expect(await evaluated(() => physicalName("y".repeat(64 - 9), 64))).to.equal(`shop-dev-${"y".repeat(55)}`);
  });

  it("physicalName never exceeds the limit and keeps distinct names distinct", async () => {
    const results = await evaluated(() => {
      const out: Array<[string, number, string]> = [];
      fc.assert(fc.property(fc.string({ unit: fc.constantFrom("a", "b", "-", "1"), minLength: 1, maxLength: 200 }), fc.constantFrom(...Object.values(NAME_LIMITS)), (name, limit) => {
        const result = physicalName(name, limit);
        out.push([name, limit, result]);
        return result.length <= limit && (`shop-dev-${name}`.length <= limit ? result === `shop-dev-${name}` : true);
      }), { numRuns: 300, seed: 42 });
      return out;
    });
    const byResult = new Map<string, string>();
    for (const [name, limit, result] of results) {
      const key = `${limit}:${result}`;
      expect(byResult.get(key) ?? name, `${name} and ${byResult.get(key)} collide`).to.equal(name);
      byResult.set(key, name);
    }
    const [a, b] = await evaluated(() => [physicalName(`${"p".repeat(80)}-one`, 64), physicalName(`${"p".repeat(80)}-two`, 64)]);
    expect(a).not.to.equal(b);
    expect(a.slice(0, 55)).to.equal(b.slice(0, 55));
  });

  it("parameterPath is /<project>/<stack>/<component>", async () => {
    expect(await evaluated(() => parameterPath("orders-api-create-order"))).to.equal("/shop/dev/orders-api-create-order");
    expect(await evaluated(() => parameterPath("worker"), "prod")).to.equal("/shop/prod/worker");
  });

  it("NAME_LIMITS are AWS's", () => {
    expect(NAME_LIMITS).to.deep.equal({ lambdaFunction: 64, iamRole: 64, sqsQueue: 80, httpApi: 128, restApi: 128, webAcl: 128, alarm: 255, eventRule: 64, schedule: 64, logGroup: 512 });
  });
});

describe("policy", () => {
  it("accepts least-privilege statements, prefix wildcards and Output resources", () => {
    expect(problemsOf([
      { actions: ["dynamodb:GetItem", "dynamodb:Query"], resources: ["arn:aws:dynamodb:eu-west-1:1:table/t", "arn:aws:dynamodb:eu-west-1:1:table/t/index/*"] },
      { actions: ["s3:Get*"], resources: [pulumi.output("*")] },
      { actions: ["execute-api:Invoke"], resources: ["arn:aws:execute-api:eu-west-1:1:abc/*"] },
    ])).to.deep.equal([]);
  });

  it("refuses * and service:* actions, malformed actions, a bare * resource and empty lists, each with its path", () => {
    expect(problemsOf([
      { actions: ["*"], resources: ["arn:aws:s3:::b"] },
      { actions: ["s3:GetObject", "s3:*", "GetObject", "s3:Get Object"], resources: ["*"] },
      { actions: [], resources: [] },
    ])).to.deep.equal([
      { path: "permissions[0].actions", reason: "\"*\" grants every action; list the actions the function calls, e.g. \"dynamodb:GetItem\"." },
      { path: "permissions[1].actions", reason: "\"s3:*\" grants every action; list the actions the function calls, e.g. \"dynamodb:GetItem\"." },
      { path: "permissions[1].actions", reason: "\"GetObject\" is not an IAM action; write \"service:Action\", e.g. \"sqs:SendMessage\"." },
      { path: "permissions[1].actions", reason: "\"s3:Get Object\" is not an IAM action; write \"service:Action\", e.g. \"sqs:SendMessage\"." },
      { path: "permissions[1].resources", reason: "\"*\" grants the actions on every resource; name the ARNs, e.g. table.arn." },
      { path: "permissions[2].actions", reason: "is empty; name each action, e.g. \"dynamodb:GetItem\"." },
      { path: "permissions[2].resources", reason: "is empty; name the ARNs the actions apply to." },
    ]);
  });

  it("policyDocument resolves every resource and keeps the statements in order, with Sids when given", async () => {
    const document = await evaluated(() => policyDocument([
      { sid: "First", actions: ["sqs:SendMessage"], resources: [pulumi.output("arn:aws:sqs:eu-west-1:1:q"), "arn:aws:sqs:eu-west-1:1:r"] },
      { actions: ["dynamodb:GetItem"], resources: [Promise.resolve("arn:aws:dynamodb:eu-west-1:1:table/t")] },
    ]));
    expect(JSON.parse(document)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        { Sid: "First", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: ["arn:aws:sqs:eu-west-1:1:q", "arn:aws:sqs:eu-west-1:1:r"] },
        { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: ["arn:aws:dynamodb:eu-west-1:1:table/t"] },
      ],
    });
  });

  it("tlsOnlyQueuePolicy denies every non-TLS request on the queue", async () => {
    expect(JSON.parse(await evaluated(() => tlsOnlyQueuePolicy(pulumi.output("arn:aws:sqs:eu-west-1:1:q"))))).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{
        Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: "arn:aws:sqs:eu-west-1:1:q",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }],
    });
  });

  it("only Lambda may assume a function's role", () => {
    expect(JSON.parse(LAMBDA_ASSUME_ROLE_POLICY)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
  });

  it("lists only X-Ray and the VPC network-interface actions as having no resource level", () => {
    expect([...ACTIONS_WITHOUT_RESOURCE_LEVEL].sort()).to.deep.equal([
      "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
    ]);
  });
});

describe("validation", () => {
  it("integerInRange names the value, the range and the unit, and skips undefined", () => {
    const problems = new ProblemCollector();
    problems.integerInRange("a", undefined, 1, 2);
    problems.integerInRange("b", 1, 1, 2);
    problems.integerInRange("c", 2, 1, 2, "s");
    problems.integerInRange("d", 3, 1, 2, "s");
    problems.integerInRange("e", 0.5, 0, 2);
    problems.integerInRange("f", Number.NaN, 0, 2);
    expect(problems.problems).to.deep.equal([
      { path: "d", reason: "3 s is outside 1-2 s; use a value in that range." },
      { path: "e", reason: "0.5 is not a whole number; use a whole number from 0 to 2." },
      { path: "f", reason: "NaN is not a whole number; use a whole number from 0 to 2." },
    ]);
  });

  it("oneOf lists the allowed choices", () => {
    const problems = new ProblemCollector();
    problems.oneOf("x", undefined, ["a"]);
    problems.oneOf("y", "a", ["a", "b"]);
    problems.oneOf("z", "c", ["a", "b"]);
    expect(problems.problems).to.deep.equal([{ path: "z", reason: "\"c\" is not allowed; use one of \"a\", \"b\"." }]);
  });

  it("throwIfAny throws one ComponentArgumentsError with every problem, and nothing when there is none", () => {
    const problems = new ProblemCollector();
    expect(() => problems.throwIfAny("Thing", "t")).not.to.throw();
    problems.add("a", "is wrong.");
    problems.add("b.c", "is worse.");
    let error: unknown;
    try {
      problems.throwIfAny("Thing", "t");
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(ComponentArgumentsError).and.to.be.instanceOf(Error);
    const thrown = error as ComponentArgumentsError;
    expect(thrown.name).to.equal("ComponentArgumentsError");
    expect(thrown.message).to.equal("Thing \"t\" has invalid arguments:\n  - a: is wrong.\n  - b.c: is worse.");
    expect(thrown.component).to.equal("Thing");
    expect(thrown.resourceName).to.equal("t");
    expect(thrown.problems).to.deep.equal([{ path: "a", reason: "is wrong." }, { path: "b.c", reason: "is worse." }]);
  });

  it("LOG_RETENTION_DAYS are the values CloudWatch Logs accepts", () => {
    expect([...LOG_RETENTION_DAYS]).to.deep.equal([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]);
  });
});
