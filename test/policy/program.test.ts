import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { QueueWorker, QueueWorkerArgs, RestApi, ServerlessApi } from "../../components";
import { minimumVisibilityTimeoutSeconds as componentMinimumVisibility } from "../../components/limits";
import { ACTIONS_WITHOUT_RESOURCE_LEVEL as COMPONENT_ACTIONS } from "../../components/policy";
import { ComponentArgumentsError } from "../../components/validation";
import { ACTIONS_WITHOUT_RESOURCE_LEVEL, minimumVisibilityTimeoutSeconds, policies } from "../../policy/rules";
import type { Evaluation } from "../../tools/mock-engine";
import { checkPolicies, mandatoryViolations, readPackConfig } from "../../tools/policy-check";
import { eventSourcesProgram, eventWorkersProgram } from "../fixtures/event-sources";
import { record, stackPlan } from "../mocks";

const ROOT = path.resolve(__dirname, "../..");
const POLICY_DIR = path.join(ROOT, "policy");

describe("the policy pack on the real program", () => {
  const stacks: Record<string, Evaluation> = {};
  before(async () => {
    for (const stack of ["dev", "prod"]) stacks[stack] = await stackPlan(stack);
  });

  // The orders service has no REST API: those rules are checked on a RestApi below.
  const REST_RULES = ["apigateway-rest-stage-throttling", "apigateway-rest-stage-tracing", "apigateway-rest-waf-in-prod", "apigateway-no-api-key-only-writes"];
  // Nor custom domains: checked on an API that has one (below).
  const API_DOMAIN_RULES = ["apigateway-domain-tls-1-2"];
  // Dev runs without a VPC: the VPC's rules are checked on prod.
  const UNCHECKED_RULES: Record<string, string[]> = { dev: [...REST_RULES, ...API_DOMAIN_RULES, "vpc-endpoint-policy", "vpc-flow-logs-in-prod"], prod: [...REST_RULES, ...API_DOMAIN_RULES] };
  /** A prod RestApi with every feature the REST rules look at; `writeWithKeyOnly` adds a route they refuse. */
  const restProgram = (writeWithKeyOnly = false) => () => new RestApi("partner-api", {
    tags: { "cost-center": "partners", owner: "team-partners" },
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    functionDefaults: { kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alarms"] },
    auth: { cognito: { userPoolArns: ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"] } },
    usagePlans: { gold: { apiKeys: ["acme"] } },
    waf: { rateLimitPerIp: 2000 },
    routes: {
      "GET /catalog": { handler: "test/fixtures/hello.handler", auth: "none", apiKeyRequired: true },
      "POST /orders": { handler: "test/fixtures/orders.list", scopes: ["orders/write"], apiKeyRequired: true },
      ...(writeWithKeyOnly ? { "DELETE /orders/{id}": { handler: "test/fixtures/orders.get", auth: "none" as const, apiKeyRequired: true } } : {}),
    },
  });
  for (const stack of ["dev", "prod"]) {
    it(`passes every rule on ${stack}, each rule but the event sources' (and in dev the VPC's) having resources to check`, async () => {
      const verdicts = await checkPolicies(stacks[stack].resources);
      expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
      // A rule that saw none of its resources would pass vacuously.
      expect(verdicts.filter((v) => v.checked === 0).map((v) => v.policy)).to.have.members(UNCHECKED_RULES[stack]);
    });
  }

  it("passes every rule on an API with a Lambda authorizer (on an alias) and a custom domain, the authorizer's and the domain's rules checking them", async () => {
    const { resources } = await record(() => new ServerlessApi("partner-api", {
      auth: { lambda: { handler: "test/fixtures/authorizer.handler", provisionedConcurrency: 1 } },
      domain: { name: "partners.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" },
      routes: { "GET /things": { handler: "test/fixtures/hello.handler", auth: "lambda" } },
    }));
    const verdicts = await checkPolicies(resources);
    expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    for (const rule of ["apigateway-lambda-authorizer-permission", ...API_DOMAIN_RULES]) {
      expect(verdicts.find((v) => v.policy === rule)?.checked, rule).to.be.greaterThan(0);
    }
  });

  it("passes every rule on a program with every event source, each rule having resources to check there or in the stacks", async () => {
    const { resources } = await record(eventSourcesProgram);
    const verdicts = await checkPolicies(resources);
    expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    const types = new Set(resources.map((r) => r.type));
    for (const type of ["aws:lambda/eventSourceMapping:EventSourceMapping", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "aws:sns/topicSubscription:TopicSubscription", "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget", "aws:scheduler/schedule:Schedule", "aws:s3/bucketNotification:BucketNotification", "aws:lambda/permission:Permission"]) {
      expect(types.has(type), type).to.equal(true);
    }
    const unchecked = new Set(verdicts.filter((v) => v.checked === 0).map((v) => v.policy));
    for (const v of await checkPolicies((await record(restProgram(), { stack: "prod" })).resources)) if (v.checked > 0) unchecked.delete(v.policy);
    for (const stack of ["dev", "prod"]) {
      for (const v of await checkPolicies(stacks[stack].resources)) if (v.checked > 0) unchecked.delete(v.policy);
    }
    // The custom domain's rule checks the API of the test above.
    expect([...unchecked]).to.deep.equal(API_DOMAIN_RULES);
  });

  it("passes every rule on a prod RestApi, and refuses a write route authorized by an API key alone", async () => {
    const verdicts = await checkPolicies((await record(restProgram(), { stack: "prod" })).resources);
    expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    for (const rule of [...REST_RULES, "apigateway-stage-access-logs"]) expect(verdicts.find((v) => v.policy === rule)!.checked, rule).to.be.greaterThan(0);
    const refused = await checkPolicies((await record(restProgram(true), { stack: "prod" })).resources);
    expect(refused.flatMap((v) => v.violations).map((v) => v.policy)).to.deep.equal(["apigateway-no-api-key-only-writes"]);
  });

  it("passes every rule on the StreamWorker and EventWorker components, with a trigger of every kind", async () => {
    const { resources } = await record(eventWorkersProgram);
    const verdicts = await checkPolicies(resources);
    expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    for (const rule of ["lambda-stream-mapping-failure-handling", "event-delivery-dead-letter-queue", "lambda-event-source-invoke-permission", "lambda-event-source-alarms", "lambda-async-failure-destination"]) {
      expect(verdicts.find((v) => v.policy === rule)!.checked, rule).to.be.greaterThan(0);
    }
  });

  it("fires the event-source rules on that program with its failure handling, a qualifier and an alarm taken away", async () => {
    const { resources } = await record(eventSourcesProgram);
    const stripped = resources.filter((r) => r.name !== "click-stream-iterator-age").map((r) => {
      const inputs = { ...r.inputs };
      if (r.type === "aws:lambda/eventSourceMapping:EventSourceMapping") delete inputs.bisectBatchOnFunctionError;
      if (r.type === "aws:cloudwatch/eventTarget:EventTarget") delete inputs.deadLetterConfig;
      if (r.type === "aws:scheduler/schedule:Schedule") inputs.target = { ...inputs.target, retryPolicy: undefined };
      if (r.type === "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig") inputs.qualifier = undefined;
      if (r.name === "notifier-orders-permission") inputs.qualifier = undefined;
      const outputs = { ...r.outputs, ...inputs };
      return { ...r, inputs, outputs: Object.fromEntries(Object.entries(outputs).filter(([key]) => key in inputs || !(key in r.inputs))) };
    });
    const violations = (await checkPolicies(stripped)).flatMap((v) => v.violations.map((x) => `${v.policy} on ${x.name}`));
    expect(violations).to.have.members([
      "lambda-stream-mapping-failure-handling on order-changes-mapping",
      "lambda-stream-mapping-failure-handling on click-stream-mapping",
      "event-delivery-dead-letter-queue on notifier-shipped-target",
      "event-delivery-dead-letter-queue on notifier-nightly",
      "lambda-async-failure-destination on notifier-function",
      "lambda-event-source-invoke-permission on notifier-orders",
      "lambda-event-source-alarms on click-stream-consumer",
    ]);
  });

  it("passes GET /health only through its documented exemption in policy/config.json", async () => {
    expect(readPackConfig()).to.deep.equal({
      "apigateway-route-authorization": { publicRoutes: ["GET /health"] },
      "tags-required-in-prod": { requiredKeys: ["cost-center", "owner"] },
    });
    const violations = mandatoryViolations(await checkPolicies(stacks.prod.resources, {}));
    expect(violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([
      'apigateway-route-authorization: Route "GET /health" has no authorization; set authorizationType "JWT" (with an authorizer) or "AWS_IAM", or, if it is public on purpose, add "GET /health" to publicRoutes of apigateway-route-authorization in policy/config.json.',
    ]);
  });

  it("checks production-only rules by the stack in the URN: dev's unprotected table passes, the same table in prod does not", async () => {
    const table = stacks.dev.resources.find((r) => r.type === "aws:dynamodb/table:Table")!;
    expect(table.inputs.deletionProtectionEnabled).to.equal(false);
    const asProd = { ...table, urn: table.urn.replace("urn:pulumi:dev::", "urn:pulumi:prod::") };
    const verdict = (await checkPolicies([asProd])).find((v) => v.policy === "dynamodb-deletion-protection-in-prod")!;
    expect(verdict.violations.map((v) => v.message)).to.deep.equal(["Table serverless-orders-dev-orders in production stack prod can be deleted; set deletionProtectionEnabled: true."]);
  });

  it("fires the identity, topic and network rules on prod with its hardening taken away", async () => {
    const REMOVED = ["aws:sns/topicPolicy:TopicPolicy", "aws:ec2/flowLog:FlowLog"];
    const weakened = stacks.prod.resources.filter((r) => !REMOVED.includes(r.type)).map((r) => {
      const changed: Record<string, Record<string, unknown>> = {
        "aws:cognito/userPool:UserPool": { mfaConfiguration: "OFF", userPoolAddOns: { advancedSecurityMode: "AUDIT" } },
        "aws:apigatewayv2/route:Route": { authorizationScopes: undefined },
        "aws:ec2/vpcEndpoint:VpcEndpoint": { policy: undefined },
      };
      const inputs: Record<string, any> = { ...r.inputs, ...changed[r.type], ...(r.name === "orders-network-functions" ? { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] } : {}) };
      return { ...r, inputs, outputs: { ...r.outputs, ...inputs } };
    });
    const violations = (await checkPolicies(weakened)).flatMap((v) => v.violations.map((x) => ({ ...x, routeKey: weakened.find((r) => r.urn === x.urn)?.inputs.routeKey })));
    // Routes are named by a hash of their key: name them by the key.
    expect(violations.map((v) => `${v.policy} on ${v.routeKey ?? v.name}`)).to.have.members([
      "cognito-mfa-in-prod on customers",
      "cognito-threat-protection-in-prod on customers",
      "sns-tls-only on alarms",
      "vpc-flow-logs-in-prod on orders-network",
      "lambda-security-group-egress on orders-network-functions",
      ...["dynamodb", "sqs", "ssm", "xray"].map((service) => `vpc-endpoint-policy on orders-network-${service}`),
      ...["POST /orders", "GET /orders/{orderId}", "GET /orders"].map((route) => `apigateway-jwt-route-scopes on ${route}`),
    ]);
  });

  it("asks prod for a safe deployment of every aliased function: the program's pass; without alarm rollback, or without its groups, each fails", async () => {
    const RULE = "lambda-alias-safe-deployment-in-prod";
    const aliases = stacks.prod.resources.filter((r) => r.type === "aws:lambda/alias:Alias");
    expect(aliases.length, "prod has aliased functions").to.be.greaterThan(0);
    const noAlarmRollback = stacks.prod.resources.map((r) => {
      if (r.type !== "aws:codedeploy/deploymentGroup:DeploymentGroup") return r;
      const inputs = { ...r.inputs, autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE"] } };
      return { ...r, inputs, outputs: { ...r.outputs, ...inputs } };
    });
    const groups = stacks.prod.resources.filter((r) => r.type === "aws:codedeploy/deploymentGroup:DeploymentGroup");
    expect((await checkPolicies(noAlarmRollback)).find((v) => v.policy === RULE)!.violations.map((v) => v.name)).to.have.members(groups.map((g) => g.name));
    const noGroups = stacks.prod.resources.filter((r) => r.type !== "aws:codedeploy/deploymentGroup:DeploymentGroup");
    expect((await checkPolicies(noGroups)).find((v) => v.policy === RULE)!.violations.map((v) => v.name)).to.have.members(aliases.map((a) => a.name));
  });

  it("allows a bare * resource for at least every action the components use it for", () => {
    expect(ACTIONS_WITHOUT_RESOURCE_LEVEL).to.include.members([...COMPONENT_ACTIONS]);
  });

  it("asks for the visibility timeout QueueWorker enforces: its copy of the rule is the components' rule", () => {
    for (const timeout of [1, 3, 10, 29, 60, 900]) {
      for (const window of [0, 1, 5, 300]) {
        expect(minimumVisibilityTimeoutSeconds(timeout, window), `timeout ${timeout} s, window ${window} s`).to.equal(componentMinimumVisibility(timeout, window));
      }
    }
  });

  it("passes every visibility timeout QueueWorker accepts, and QueueWorker refuses one second less", async () => {
    const visibilityVerdict = async (args: QueueWorkerArgs) => {
      const { resources } = await record(() => new QueueWorker("jobs", args));
      return (await checkPolicies(resources)).find((v) => v.policy === "sqs-visibility-timeout")!;
    };
    for (const settings of [{ timeout: 30, batchWindowSeconds: 5 }, { timeout: 1 }, { timeout: 60, batchSize: 100, batchWindowSeconds: 20 }]) {
      const minimum = componentMinimumVisibility(settings.timeout, settings.batchWindowSeconds ?? 0);
      const verdict = await visibilityVerdict({ handler: "test/fixtures/worker.handler", ...settings, visibilityTimeoutSeconds: minimum });
      expect(verdict.checked, "the rule saw the queue").to.be.greaterThan(0);
      expect(verdict.violations.map((v) => v.message), JSON.stringify(settings)).to.deep.equal([]);
      expect(() => new QueueWorker("jobs", { handler: "test/fixtures/worker.handler", ...settings, visibilityTimeoutSeconds: minimum - 1 }), JSON.stringify(settings))
        .to.throw(ComponentArgumentsError, new RegExp(`visibilityTimeoutSeconds: ${minimum - 1} seconds is below ${minimum}`));
    }
  });

  it("is a self-sufficient pack folder: its own PulumiPolicy.yaml and package.json, imports only from itself and its dependencies", () => {
    expect(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8")).to.match(/^runtime: nodejs$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
    const lock = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package-lock.json"), "utf8"));
    expect(lock.packages[""].dependencies).to.deep.equal(pkg.dependencies);
    for (const file of fs.readdirSync(POLICY_DIR).filter((f) => f.endsWith(".ts"))) {
      const imports = [...fs.readFileSync(path.join(POLICY_DIR, file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
      for (const specifier of imports) {
        const ok = specifier.startsWith("./") ? fs.existsSync(path.join(POLICY_DIR, `${specifier}.ts`)) : specifier in pkg.dependencies;
        expect(ok, `${file} imports ${specifier}`).to.equal(true);
      }
    }
    expect(fs.readFileSync(path.join(POLICY_DIR, "index.ts"), "utf8")).to.include("new PolicyPack(\"serverless-orders\"");
    expect(policies.length).to.be.greaterThan(20);
  });
});
