/**
 * The resource types other parts of the library add (REST APIs with WAF, Lambda
 * authorizers, custom domains, CodeDeploy safe deployments), priced from small fixture
 * programs of raw resources, as those components will register them.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { pricesFor } from "../../tools/cost/prices";
import { bareFunction, estimateOf, item, trafficOf } from "./support";

const prices = pricesFor("eu-west-1");

describe("cost of REST APIs, WAF, authorizers, custom domains and safe deployments", () => {
  it("a REST API: requests per method (path from its resources) reach the function, priced at REST's tiers; WAF: ACL, rules, inspected requests", async () => {
    const estimate = await estimateOf(() => {
      const fn = bareFunction("orders-rest", 512, "arm64");
      const api = new aws.apigateway.RestApi("rest", { name: "rest" });
      const orders = new aws.apigateway.Resource("orders", { restApi: api.id, parentId: api.rootResourceId, pathPart: "orders" });
      const one = new aws.apigateway.Resource("order", { restApi: api.id, parentId: orders.id, pathPart: "{orderId}" });
      for (const [name, resource, method] of [["list", orders, "GET"], ["get", one, "GET"]] as const) {
        new aws.apigateway.Method(`${name}-method`, { restApi: api.id, resourceId: resource.id, httpMethod: method, authorization: "NONE" });
        new aws.apigateway.Integration(`${name}-integration`, { restApi: api.id, resourceId: resource.id, httpMethod: method, type: "AWS_PROXY", integrationHttpMethod: "POST", uri: fn.invokeArn });
      }
      const deployment = new aws.apigateway.Deployment("deployment", { restApi: api.id });
      const stage = new aws.apigateway.Stage("stage", { restApi: api.id, deployment: deployment.id, stageName: "live" });
      const plan = new aws.apigateway.UsagePlan("plan", { apiStages: [{ apiId: api.id, stage: stage.stageName }] });
      const key = new aws.apigateway.ApiKey("key", {});
      new aws.apigateway.UsagePlanKey("plan-key", { usagePlanId: plan.id, keyId: key.id, keyType: "API_KEY" });
      const acl = new aws.wafv2.WebAcl("acl", {
        scope: "REGIONAL", defaultAction: { allow: {} },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: "acl", sampledRequestsEnabled: true },
        rules: ["common", "bad-inputs"].map((name, priority) => ({
          name, priority, overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: "AWS", name: name === "common" ? "AWSManagedRulesCommonRuleSet" : "AWSManagedRulesKnownBadInputsRuleSet" } },
          visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
        })),
      });
      new aws.wafv2.WebAclAssociation("acl-association", { resourceArn: stage.arn, webAclArn: acl.arn });
    }, trafficOf({ requestsPerMonth: ["GET /orders=1000000", "GET /orders/{orderId}=4000000"], invocationsPerMonth: [] }));
    expect(estimate.unpriced).to.deep.equal([]);
    const rest = item(estimate, "rest", "REST API requests");
    expect(rest.quantity).to.equal(5_000_000);
    expect(rest.monthly).to.be.closeTo(5 * 3.50, 1e-9);
    expect(item(estimate, "orders-rest", "requests").quantity).to.equal(5_000_000);
    expect(item(estimate, "acl", "web ACL")).to.include({ fixed: true, monthly: prices.waf.webAclMonth });
    expect(item(estimate, "acl", "rules")).to.include({ fixed: true, quantity: 2, monthly: 2 * prices.waf.ruleMonth });
    expect(item(estimate, "acl", "requests inspected").quantity).to.equal(5_000_000);
  });

  it("a Lambda authorizer on HTTP API routes runs once per request of the routes it guards (no caching assumed)", async () => {
    const estimate = await estimateOf(() => {
      const target = bareFunction("handler", 256, "arm64");
      const authorizerFn = bareFunction("authorizer", 128, "arm64");
      const api = new aws.apigatewayv2.Api("http", { protocolType: "HTTP" });
      const integration = new aws.apigatewayv2.Integration("integration", { apiId: api.id, integrationType: "AWS_PROXY", integrationUri: target.invokeArn });
      const authorizer = new aws.apigatewayv2.Authorizer("custom", { apiId: api.id, authorizerType: "REQUEST", authorizerUri: authorizerFn.invokeArn, authorizerPayloadFormatVersion: "2.0" });
      new aws.apigatewayv2.Route("guarded", { apiId: api.id, routeKey: "GET /things", target: pulumi.interpolate`integrations/${integration.id}`, authorizationType: "CUSTOM", authorizerId: authorizer.id });
      new aws.apigatewayv2.Route("open", { apiId: api.id, routeKey: "GET /health", target: pulumi.interpolate`integrations/${integration.id}`, authorizationType: "NONE" });
    }, trafficOf({ requestsPerMonth: ["GET /things=700000", "GET /health=300000"] }));
    expect(item(estimate, "handler", "requests").quantity).to.equal(1_000_000);
    expect(item(estimate, "authorizer", "requests").quantity).to.equal(700_000);
  });

  it("custom domains: a hosted zone is fixed; ACM public certificates, records, API domain names and mappings are free", async () => {
    const estimate = await estimateOf(() => {
      const zone = new aws.route53.Zone("zone", { name: "shop.example.com" });
      const certificate = new aws.acm.Certificate("certificate", { domainName: "api.shop.example.com", validationMethod: "DNS" });
      const domain = new aws.apigatewayv2.DomainName("domain", { domainName: "api.shop.example.com", domainNameConfiguration: { certificateArn: certificate.arn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" } });
      new aws.route53.Record("alias", { zoneId: zone.zoneId, name: "api.shop.example.com", type: "A", aliases: [{ name: domain.domainNameConfiguration.targetDomainName, zoneId: domain.domainNameConfiguration.hostedZoneId, evaluateTargetHealth: false }] });
      new aws.acm.CertificateValidation("validation", { certificateArn: certificate.arn });
    }, trafficOf({}));
    expect(estimate.unpriced).to.deep.equal([]);
    expect(estimate.items.map((i) => `${i.resource}: ${i.item}`)).to.deep.equal(["zone: hosted zone (alias queries to AWS resources are free)"]);
    expect(estimate.items[0]).to.include({ fixed: true, monthly: prices.route53.hostedZoneMonth });
  });

  it("safe deployments: CodeDeploy for Lambda is free; its hook and runner functions cost what their invocations say, and are noted when none is given", async () => {
    const estimate = await estimateOf(() => {
      const hook = bareFunction("pre-traffic-hook", 256, "arm64");
      bareFunction("deploy-runner", 256, "arm64");
      const application = new aws.codedeploy.Application("app", { computePlatform: "Lambda" });
      new aws.codedeploy.DeploymentGroup("group", {
        appName: application.name, deploymentGroupName: "group", serviceRoleArn: "arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        deploymentStyle: { deploymentOption: "WITH_TRAFFIC_CONTROL", deploymentType: "BLUE_GREEN" },
      });
      new aws.lambda.Invocation("run-deployment", { functionName: hook.name, input: JSON.stringify({}) });
    }, trafficOf({ invocationsPerMonth: ["pre-traffic-hook=40"], durationMs: ["*=2000"] }));
    expect(estimate.unpriced).to.deep.equal([]);
    expect(item(estimate, "pre-traffic-hook", "requests").quantity).to.equal(40);
    expect(estimate.items.filter((i) => i.resource === "deploy-runner")).to.deep.equal([]);
    expect(estimate.notes).to.include("deploy-runner has no traffic: no route or source of this stack invokes it; give it with trafficInvocationsPerMonth if it runs.");
  });

  it("asynchronous sources: SNS topics, EventBridge buses and rules, Scheduler rates, S3 objects invoke their functions", async () => {
    const estimate = await estimateOf(() => {
      const fn = bareFunction("events", 256, "arm64");
      const topic = new aws.sns.Topic("topic", {});
      new aws.sns.TopicSubscription("sub", { topic: topic.arn, protocol: "lambda", endpoint: fn.arn });
      const bus = new aws.cloudwatch.EventBus("bus", { name: "bus" });
      const rule = new aws.cloudwatch.EventRule("rule", { name: "rule", eventBusName: bus.name, eventPattern: JSON.stringify({ source: ["shop"] }) });
      new aws.cloudwatch.EventTarget("target", { rule: rule.name, eventBusName: bus.name, arn: fn.arn });
      new aws.scheduler.Schedule("every-5-minutes", { scheduleExpression: "rate(5 minutes)", flexibleTimeWindow: { mode: "OFF" }, target: { arn: fn.arn, roleArn: "arn:aws:iam::123456789012:role/scheduler" } });
    }, trafficOf({ messagesPerMonth: ["topic=1000", "rule=2000", "bus=2500"] }));
    const runs = (730 * 60) / 5;
    expect(item(estimate, "events", "requests").quantity).to.be.closeTo(1000 + 2000 + runs, 1e-9);
    expect(item(estimate, "every-5-minutes", "invocations").quantity).to.be.closeTo(runs, 1e-9);
    expect(item(estimate, "bus", "custom events").quantity).to.equal(2500);
    expect(item(estimate, "topic", "publishes").quantity).to.equal(1000);
  });

  it("lists a resource type it has no price for, rather than leaving it out", async () => {
    const estimate = await estimateOf(() => new aws.kinesis.Stream("clicks", { shardCount: 1 }), trafficOf({}));
    expect(estimate.unpriced).to.deep.equal([{ type: "aws:kinesis/stream:Stream", name: "clicks" }]);
  });
});
