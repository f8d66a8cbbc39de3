import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SecureFunction } from "../../components";
import { TAGGABLE_TYPES } from "../../components/tags";
import { architectureDiagram, mermaidText } from "../../tools/diagram";
import { diffStacks, flatten, StackDiff, withoutStackName } from "../../tools/diff";
import { policies } from "../../policy/rules";
import { parsePlanArguments } from "../../tools/plan";
import { keySettings } from "../../tools/plan-format";
import { diffAsJson, diffAsMarkdown, diffAsText, planAsJson, planAsMarkdown, planAsText, StackPlan } from "../../tools/plan-render";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { SECRET_PLACEHOLDER } from "../../tools/stack-config";
import { eventSourcesProgram, eventWorkersProgram } from "../fixtures/event-sources";
import { HELLO } from "../components/support";
import { ofType, one, record, stackPlan } from "../mocks";

const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** The id of the diagram node whose label starts with `label`. */
function node(diagram: string, label: string): string {
  const line = diagram.split("\n").find((l) => new RegExp(`^\\s*\\w+\\W*"${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`).test(l));
  if (!line) throw new Error(`no node labelled ${label} in\n${diagram}`);
  return /^\s*(\w+)/.exec(line)![1];
}

/** True when the diagram has an edge from `from` to `to` (with `label`, when given). */
function edge(diagram: string, from: string, to: string, label?: string): boolean {
  return diagram.split("\n").some((l) => {
    const m = /^\s*(\w+) -\.?->?(?:\|"([^"]*)"\|)? (\w+)$/.exec(l);
    return !!m && m[1] === from && m[3] === to && (label === undefined || m[2] === label);
  });
}

describe("the plan for reviewers", () => {
  let dev: StackPlan;
  let prod: StackPlan;
  /** What a stack creates: everything but the root stack resource. */
  const planned = (plan: StackPlan) => plan.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length;
  let diff: StackDiff;
  before(async () => {
    dev = await stackPlan("dev");
    prod = await stackPlan("prod");
    diff = await diffStacks(dev, prod);
  });

  it("hangs the nodes with no edge of their own (the alarm topic, the VPC note) under the top of the chart, so they do not start a second chart beside it", () => {
    const d = prod.diagram;
    const top = node(d, "Cognito customers");
    for (const label of ["SNS alarms", "VPC orders-network"]) expect(d, label).to.include(`  ${top} ~~~ ${node(d, label)}\n`);
  });

  it("shows each deployment: the diagram a group shifting the alias, hooks beside it, no runner or hook function; the plan and the diff the strategy in words", () => {
    const d = prod.diagram;
    const group = d.split("\n").filter((l) => l.includes("CodeDeploy: shifts alias live<br/>canary 10% for 5 min<br/>hook before-traffic handlers/deploy/health-check.check<br/>rolls back on 4 alarms of its function"));
    expect(group).to.have.length(1);
    for (const fn of ["orders-api-create-order", "orders-api-get-order", "orders-api-list-orders", "orders-api-health"]) {
      expect(edge(d, node(d, `λ ${fn}`), node(d, "CodeDeploy: shifts alias live<br/>canary")), fn).to.equal(true);
    }
    expect(edge(d, node(d, "λ fulfilment-consumer"), node(d, "CodeDeploy: shifts alias live<br/>linear 10% every 1 min"))).to.equal(true);
    expect(d).to.not.match(/deployer|λ [\w-]+-(before|after)-traffic/);
    expect(d).to.contain("alias live, provisioned 2 on each new version");
    const text = planAsText(prod);
    expect(text).to.contain("  orders-api-create-order:live: canary 10% for 5 min (CodeDeployDefault.LambdaCanary10Percent5Minutes), before-traffic handlers/deploy/health-check.check, rolls back on 4 alarms (");
    expect(text).to.contain("  fulfilment-consumer:live: linear 10% every 1 min (CodeDeployDefault.LambdaLinear10PercentEvery1Minute), rolls back on 4 alarms (");
    expect(planAsMarkdown(dev)).to.contain("- orders-api-create-order:live: all at once (CodeDeployDefault.LambdaAllAtOnce)");
    const worker = diff.resources.find((r) => r.name === "fulfilment-consumer-deployment-group")!;
    expect(worker.changes.find((c) => c.path === "(strategy)")).to.deep.equal({ path: "(strategy)", from: "all at once", to: "linear 10% every 1 min" });
  });

  it("draws a request top to bottom: identity provider -> API -> routes -> functions -> table -> its stream's worker -> DLQ", () => {
    const d = prod.diagram;
    expect(d.split("\n").slice(0, 2)).to.deep.equal(['%%{init: {"flowchart": {"wrappingWidth": 260}}}%%', "flowchart TB"]);
    const api = node(d, "HTTP API orders-api");
    const table = node(d, "DynamoDB orders");
    const dlq = node(d, "SQS fulfilment-dlq");
    const worker = node(d, "λ fulfilment-consumer");
    expect(edge(d, node(d, "Cognito customers<br/>identity provider"), api, "JWT authorizer jwt")).to.equal(true);
    for (const [route, fn, label] of [
      ["POST /orders", "orders-api-create-order", undefined],
      ["GET /orders/{orderId}", "orders-api-get-order", "alias live"],
      ["GET /orders<br/>", "orders-api-list-orders", "alias live"],
      ["GET /health<br/>public", "orders-api-health", undefined],
    ] as const) {
      const routeId = node(d, route);
      expect(edge(d, api, routeId), `${api} -> ${route}`).to.equal(true);
      expect(edge(d, routeId, node(d, `λ ${fn}`), label), `${route} -> ${fn}`).to.equal(true);
    }
    expect(edge(d, node(d, "λ orders-api-create-order"), table, "PutItem, GetItem, Query")).to.equal(true);
    expect(edge(d, node(d, "λ orders-api-list-orders"), table, "Query")).to.equal(true);
    expect(edge(d, table, worker, "batch 10, bisect, 3 retries, max age 1 h, partial failures, filtered")).to.equal(true);
    expect(edge(d, worker, table, "GetItem, UpdateItem")).to.equal(true);
    expect(edge(d, worker, dlq, "failed batches")).to.equal(true);
    expect(edge(d, node(d, "KMS alarms-key"), node(d, "SNS alarms"), "encrypts")).to.equal(true);
    // The data key: an edge to each store it encrypts, its functions' environments counted on it
    // (every function's: each has FUNCTION_TIMEOUT_SECONDS at least).
    const functions = ofType(prod.resources, "aws:lambda/function:Function").length;
    const dataKey = node(d, `KMS data-key<br/>rotated yearly<br/>and ${functions} functions' environments`);
    const sweeperDlq = node(d, "SQS sweeper-dlq");
    for (const store of [table, dlq, sweeperDlq]) expect(edge(d, dataKey, store, "encrypts"), store).to.equal(true);
    expect(d.match(new RegExp(`${dataKey}\\b[^\\n]*encrypts`, "g")) ?? []).to.have.length(3);
  });

  it("groups each component's resources in its box, and writes the VPC, alarms and parameters on the nodes instead of drawing them", () => {
    const d = prod.diagram;
    const box = (title: string) => {
      const lines = d.split("\n");
      const start = lines.findIndex((l) => l.includes(`["${title}"]`));
      expect(start, `subgraph ${title}`).to.be.greaterThan(-1);
      return lines.slice(start + 1, lines.indexOf("  end", start)).join("\n");
    };
    expect(box("ServerlessApi orders-api")).to.include("HTTP API orders-api").and.to.include("λ orders-api-health").and.to.include("GET /health");
    expect(box("StreamWorker fulfilment")).to.include("SQS fulfilment-dlq").and.to.include("λ fulfilment-consumer");
    expect(box("EventWorker sweeper")).to.include("SQS sweeper-dlq").and.to.include("λ sweeper-function");
    // One box per component the program creates.
    const components = prod.resources.filter((r) => r.type.startsWith("serverless-components:") && !prod.resources.find((p) => p.urn === r.parent)?.type.startsWith("serverless-components:"));
    expect(d.match(/subgraph/g)).to.have.length(components.length);
    expect(d).to.include('("λ orders-api-create-order<br/>1024 MB, 10 s, reserved 50<br/>reads maxItemsPerOrder, maxOrdersPerCustomerPerDay<br/>in VPC · 5 alarms")');
    expect(d).to.include('[["SQS fulfilment-dlq<br/>dead letters, kept 14 days<br/>1 alarm"]]');
    expect(d).to.include(`["SNS alarms<br/>${ofType(prod.resources, "aws:cloudwatch/metricAlarm:MetricAlarm").length} alarms notify email"]`);
    expect(d).to.include('["VPC orders-network<br/>no NAT gateway<br/>endpoints dynamodb, sqs, ssm, xray"]');
    // No alarm edges, no parameter nodes, no VPC box.
    expect(d).not.to.match(/-->\|"\d+"\|/);
    expect(d).not.to.include("SecureString");
    expect(dev.diagram).not.to.include("VPC");
    // Dev's functions have their alias too: CodeDeploy deploys them (all at once).
    expect(dev.diagram).to.include("alias live");
  });

  it("draws every event source into its worker, with the delivery settings on the edge and the failures into the DLQ", async () => {
    const { resources } = await record(eventSourcesProgram);
    const d = architectureDiagram(resources);
    const notifier = node(d, "λ notifier-function");
    const dlq = node(d, "SQS notifier-dlq");
    expect(edge(d, node(d, "DynamoDB orders<br/>PAY_PER_REQUEST, PITR<br/>stream NEW_AND_OLD_IMAGES"), node(d, "λ order-changes-consumer"), "batch 100, window 5 s, ×2 per shard, bisect, 3 retries, max age 1 d, partial failures, filtered")).to.equal(true);
    expect(edge(d, node(d, "Kinesis clicks<br/>2 shards, KMS"), node(d, "λ click-stream-consumer"), "batch 100, window 5 s, ×2 per shard, bisect, 3 retries, max age 1 d, partial failures, filtered")).to.equal(true);
    expect(edge(d, node(d, "λ order-changes-consumer"), node(d, "SQS order-changes-dlq"), "failed batches")).to.equal(true);
    // The consumer's read grant on its stream is the source edge, not a second edge to the table.
    expect(d).not.to.match(/order_changes_consumer_\d+ -->\|"DescribeStream/);
    expect(edge(d, node(d, "SNS order-events"), notifier, "filter type order.created")).to.equal(true);
    expect(edge(d, node(d, "S3 shop-uploads"), notifier, "ObjectCreated:*, incoming/*.csv")).to.equal(true);
    expect(edge(d, node(d, "EventBridge rule notifier-shipped<br/>bus default<br/>source shop.fulfilment, detail-type OrderShipped"), notifier, "4 retries, max age 1 h, DLQ notifier-dlq")).to.equal(true);
    expect(edge(d, node(d, "Schedule notifier-nightly<br/>cron(0 3 * * ? *) Europe/Berlin"), notifier, "2 retries, max age 1 h, DLQ notifier-dlq")).to.equal(true);
    expect(edge(d, notifier, dlq, "failed events")).to.equal(true);
    expect(d).to.include("async live: 2 retries, max age 1 h<br/>4 alarms");
    expect(d).to.include('subgraph notifier_');
    expect(d).to.include('["EventWorker notifier"]');
  });

  it("draws the StreamWorker and EventWorker components the same way, a source the stack only names marked so", async () => {
    const { resources } = await record(eventWorkersProgram);
    const d = architectureDiagram(resources);
    const notifier = node(d, "λ notifier-function");
    const changes = node(d, "λ order-changes-consumer");
    expect(edge(d, node(d, "DynamoDB orders"), changes, "batch 100, bisect, 3 retries, max age 1 h, partial failures, filtered")).to.equal(true);
    expect(edge(d, node(d, "Kinesis clicks"), node(d, "λ click-counter-consumer"), "batch 100, bisect, 3 retries, max age 1 d, partial failures")).to.equal(true);
    // Its grants to read the stream and list the table's streams are that edge, not an edge to the table.
    expect(d).not.to.match(new RegExp(`${changes} -->\\|"[^"]*"\\| ${node(d, "DynamoDB orders")}`));
    expect(edge(d, node(d, "S3 shop-documents<br/>(not in this stack)"), notifier, "ObjectCreated:*, invoices/*.pdf")).to.equal(true);
    expect(edge(d, node(d, "SNS order-events"), notifier, "filter kind paid")).to.equal(true);
    expect(edge(d, node(d, "Schedule notifier-digest"), notifier)).to.equal(true);
    expect(edge(d, node(d, "EventBridge rule notifier-shipped"), notifier)).to.equal(true);
    expect(edge(d, notifier, node(d, "SQS notifier-dlq"), "failed events")).to.equal(true);
    for (const box of ["StreamWorker order-changes", "StreamWorker click-counter", "EventWorker notifier"]) expect(d).to.include(`["${box}"]`);
  });

  it("shows each event source's delivery settings in the resource table, and diffs them setting by setting", async () => {
    const { resources } = await record(eventSourcesProgram);
    const settings = (name: string) => keySettings(resources.find((r) => r.name === name)!);
    expect(settings("order-changes-mapping")).to.equal("batch=100 window=5s partialFailures=yes target=shop-dev-order-changes-consumer:live start=LATEST parallel=2 bisect=yes retries=3 maxAge=86400s onFailure=shop-dev-order-changes-dlq filters=1");
    expect(settings("notifier-function-async-invoke")).to.equal("qualifier=live retries=2 maxAge=3600s onFailure=shop-dev-notifier-dlq");
    expect(settings("notifier-orders")).to.equal('protocol=lambda topic=order-events endpoint=shop-dev-notifier-function:live filter={"type":["order.created"]} filterScope=MessageAttributes');
    expect(settings("notifier-shipped")).to.equal('bus=default pattern={"source":["shop.fulfilment"],"detail-type":["OrderShipped"]}');
    expect(settings("notifier-scheduler-role")).to.equal("trusts=scheduler.amazonaws.com");
    expect(settings("notifier-shipped-target")).to.equal("rule=notifier-shipped target=shop-dev-notifier-function:live retries=4 maxAge=3600s dlq=shop-dev-notifier-dlq");
    expect(settings("notifier-nightly")).to.equal("expression=cron(0 3 * * ? *) timezone=Europe/Berlin window=OFF target=shop-dev-notifier-function:live retries=2 maxAge=3600s dlq=shop-dev-notifier-dlq");
    expect(settings("notifier-shop-uploads")).to.equal("bucket=shop-uploads lambdas=shop-dev-notifier-function:live[s3:ObjectCreated:* incoming/*.csv]");
    expect(settings("notifier-uploads-permission")).to.equal("principal=s3.amazonaws.com qualifier=live sourceArn=arn:aws:s3:::shop-uploads sourceAccount=123456789012");
    expect(settings("clicks")).to.equal("shards=2 encryption=KMS");
    expect(settings("orders")).to.include("stream=NEW_AND_OLD_IMAGES");

    const changed = await record(() => eventSourcesProgram({ streamRetries: 5, schedule: "rate(1 hour)" }));
    const changes = (await diffStacks({ stack: "dev", resources }, { stack: "dev", resources: changed.resources })).resources
      .flatMap((r) => r.changes.map((c) => `${r.type} ${r.name} ${c.path}: ${c.from} -> ${c.to}`));
    expect(changes).to.have.members([
      "lambda:EventSourceMapping order-changes-mapping maximumRetryAttempts: 3 -> 5",
      "lambda:EventSourceMapping click-stream-mapping maximumRetryAttempts: 3 -> 5",
      "scheduler:Schedule notifier-nightly scheduleExpression: cron(0 3 * * ? *) -> rate(1 hour)",
    ]);
  });

  it("escapes label text so Mermaid cannot read it as markup", () => {
    expect(mermaidText('say "hi" <b>|</b><br/>#1')).to.equal("say #34;hi#34; #60;b#62;#124;#60;/b#62;<br/>#35;1");
  });

  it("prints the table, the diagram and the verdicts as text", () => {
    const text = planAsText(prod);
    expect(text.startsWith(`Plan for stack "prod" of serverless-orders (region eu-west-1): ${planned(prod)} resources to create`)).to.equal(true);
    expect(planned(prod)).to.be.greaterThan(80);
    expect(text).to.include("\nflowchart TB\n");
    expect(text).to.include(`Policy pack (policy/, config policy/config.json): ${policies.length} rules, ${policies.length} pass; 0 mandatory violations, 0 advisory`);
    const checked = (policy: string) => prod.verdicts.find((v) => v.policy === policy)!.checked;
    expect(text).to.match(new RegExp(`PASS\\s+sqs-visibility-timeout\\s+mandatory\\s+${checked("sqs-visibility-timeout")} \\(stack\\)`));
    expect(text).to.include('apigateway-route-authorization configured in policy/config.json: {"publicRoutes":["GET /health"]}');
  });

  it("shows the tags once: what every taggable resource carries, then each component's set with its count, and the untagged", () => {
    const taggable = prod.resources.filter((r) => TAGGABLE_TYPES.has(r.type));
    const of = (component: string) => taggable.filter((r) => r.inputs.tags?.component === component).length;
    expect(of("ServerlessApi/orders-api")).to.be.greaterThan(20);
    const text = planAsText(prod);
    expect(text).to.include(`Tags of the ${taggable.length} taggable resources: all carry cost-center=orders owner=team-orders project=serverless-orders stack=prod; 0 untagged:\n`);
    expect(text).to.match(new RegExp(`\n {2}component=ServerlessApi/orders-api +${of("ServerlessApi/orders-api")} resources\n`));
    expect(text).to.match(/\n {2}component=dynamodb\.Table\/orders +1 resource\n/);
    const markdown = planAsMarkdown(prod);
    expect(markdown).to.include(`<details><summary>Tags of the ${taggable.length} taggable resources: all carry cost-center=orders owner=team-orders project=serverless-orders stack=prod; 0 untagged</summary>`);
    expect(markdown).to.include(`| \`component=StreamWorker/fulfilment\` | ${of("StreamWorker/fulfilment")} |`);
    // A resource that lost its tags is named.
    const untagged: StackPlan = { ...prod, resources: prod.resources.map((r) => (r.name === "orders" && r.type === "aws:dynamodb/table:Table" ? { ...r, inputs: { ...r.inputs, tags: undefined } } : r)) };
    expect(planAsText(untagged)).to.include("; 1 untagged:").and.include("\n  untagged: dynamodb:Table orders");
  });

  it("renders a pull-request comment in markdown: a mermaid block, the verdicts, violations with their fix, the resources", () => {
    const markdown = planAsMarkdown(prod);
    expect(markdown.startsWith(`### ✅ Plan for \`prod\`: ${planned(prod)} resources`)).to.equal(true);
    expect(markdown).to.include(`\`\`\`mermaid\n${prod.diagram}\n\`\`\``);
    const checked = prod.verdicts.find((v) => v.policy === "lambda-alarms")!.checked;
    expect(markdown).to.include(`| ✅ | \`lambda-alarms\` | mandatory | ${checked} (stack) |`);
    expect(markdown).to.include("| lambda:Function | &nbsp;&nbsp;&nbsp;&nbsp;orders-api-get-order | memory=1024MB");
    const failing: StackPlan = { ...prod, verdicts: prod.verdicts.map((v) => v.policy !== "sqs-encrypted" ? v : { ...v, violations: [{ policy: v.policy, enforcementLevel: "mandatory", message: "Queue q is not encrypted at rest; set sqsManagedSseEnabled: true (or kmsMasterKeyId).", urn: "u", type: "aws:sqs/queue:Queue", name: "q" }] }) };
    const failed = planAsMarkdown(failing);
    expect(failed).to.match(/^### ❌ Plan for `prod`/);
    expect(failed).to.include(`| ❌ | \`sqs-encrypted\` | mandatory | ${prod.verdicts.find((v) => v.policy === "sqs-encrypted")!.checked} |`);
    expect(failed).to.include("- ❌ `sqs-encrypted` on `sqs:Queue q`: Queue q is not encrypted at rest; set sqsManagedSseEnabled: true (or kmsMasterKeyId).");
  });

  it("gives machines JSON: every resource with resolved inputs, the diagram and the verdicts", async () => {
    const json = JSON.parse(await planAsJson(prod));
    expect(json.summary).to.deep.equal({ resources: planned(prod), rules: policies.length, mandatoryViolations: 0, advisoryViolations: 0 });
    const fn = json.resources.find((r: any) => r.name === "orders-api-get-order" && r.type === "aws:lambda/function:Function");
    expect(fn.inputs.memorySize).to.equal(1024);
    expect(fn.inputs.code).to.match(/^archive sha256:[0-9a-f]{12}$/);
    expect(json.diagram).to.equal(prod.diagram);
    expect(json.verdicts).to.have.length(policies.length);
  });

  it("shows a secret config value as [secret] in the JSON and (secret) in the diagram, never the offline placeholder", async () => {
    // A declared secret the stack files cannot give reaches the program as SECRET_PLACEHOLDER
    // (tools/stack-config.ts); the program then stores it as a SecureString parameter.
    const { resources } = await record(() => {
      new SecureFunction("api", { handler: HELLO, secrets: { apiSigningKey: new pulumi.Config().requireSecret("apiSigningKey") } });
    }, { config: { "shop:apiSigningKey": SECRET_PLACEHOLDER }, secretKeys: ["shop:apiSigningKey"] });
    const text = await planAsJson({ ...dev, resources, placeholders: ["shop:apiSigningKey"] });
    expect(text).not.to.include(SECRET_PLACEHOLDER);
    const parameter = JSON.parse(text).resources.find((r: any) => r.name === "api-secret-apiSigningKey");
    expect(parameter.inputs).to.include({ type: "SecureString", value: "[secret]" });
    expect(architectureDiagram(resources)).to.include("reads apiSigningKey (secret)");
  });

  it("hides every value marked secret, at any depth, in the JSON, text and markdown plans and in every diff", async () => {
    const value = "s3cr3t-value-never-printed";
    const secret = (v: unknown) => ({ [specialSigKey]: specialSecretSig, value: v });
    const resource = (stack: string, secretValue: string) => ({
      urn: `urn:pulumi:${stack}::shop::aws:lambda/permission:Permission::p`, id: "p", type: "aws:lambda/permission:Permission", name: "p", custom: true, protect: false, dependencies: [],
      inputs: { principal: secret("apigateway.amazonaws.com"), sourceArn: secret(secretValue), nested: [{ deep: secret(secretValue) }] }, outputs: {},
    });
    const plan = (stack: string, secretValue: string): StackPlan => ({ ...dev, stack, resources: [resource(stack, secretValue)], outputs: { token: secret(secretValue), plain: "shown" } });
    const first = plan("dev", value);
    const second = plan("prod", `${value}-rotated`);
    const json = JSON.parse(await planAsJson(first));
    expect(json.resources[0].inputs).to.deep.equal({ principal: "[secret]", sourceArn: "[secret]", nested: [{ deep: "[secret]" }] });
    expect(json.outputs).to.deep.equal({ token: "[secret]", plain: "shown" });
    const stackDiff = await diffStacks(first, second);
    for (const printed of [JSON.stringify(json), planAsText(first), planAsMarkdown(first), diffAsJson(stackDiff, first, second), diffAsText(stackDiff, first, second), diffAsMarkdown(stackDiff, first, second)]) {
      expect(printed).not.to.include(value);
    }
    expect(planAsText(first)).to.include("principal=[secret]").and.include("token: [secret]");
    // A rotated secret is no visible change: the diff cannot tell, so it cannot leak either.
    expect(stackDiff.resources).to.deep.equal([]);
  });

  it("diffs dev and prod resource by resource, setting by setting, with the stack name factored out", () => {
    const only = diff.resources.filter((r) => r.status === "only-second").map((r) => `${r.type} ${r.name}`);
    expect(only).to.include.members(["awsx:Vpc orders-network", "lambda:ProvisionedConcurrencyConfig orders-api-get-order-provisioned", "lambda:ProvisionedConcurrencyConfig orders-api-list-orders-provisioned", "sns:TopicSubscription alarms-email"]);
    expect(diff.resources.filter((r) => r.status === "only-first")).to.deep.equal([]);
    const changes = (type: string, name: string) => Object.fromEntries(diff.resources.find((r) => r.type === type && r.name === name)!.changes.map((c) => [c.path, [c.from, c.to]]));
    expect(changes("lambda:Function", "orders-api-get-order")).to.deep.include({ memorySize: ["256", "1024"], reservedConcurrentExecutions: [undefined, "50"] });
    const dataKey = one(prod.resources, "aws:kms/key:Key", "data-key").outputs.arn;
    expect(changes("dynamodb:Table", "orders")).to.deep.equal({ "(protect)": [undefined, "true"], deletionProtectionEnabled: ["false", "true"], "serverSideEncryption.kmsKeyArn": [undefined, dataKey] });
    expect(changes("iam:RolePolicy", "orders-api-health-policy")).to.have.property("policy.Statement[VpcNetworkInterfaces].Resource").that.deep.equals([undefined, '["*"]']);
    expect(changes("apigatewayv2:Stage", "orders-api-stage")).to.deep.equal({ "defaultRouteSettings.throttlingBurstLimit": ["40", "1000"], "defaultRouteSettings.throttlingRateLimit": ["20", "500"] });
    // Physical names differ only by the stack, so they are not differences.
    expect(diff.resources.flatMap((r) => r.changes.map((c) => c.path))).not.to.include("name");
    expect(diff.unchanged).to.be.greaterThan(30);
  });

  it("matches resources by URN without the stack, so one type and name under two parents are two resources", async () => {
    const resource = (stack: string, parentType: string, memorySize: number) => ({
      urn: `urn:pulumi:${stack}::shop::${parentType}$aws:lambda/function:Function::handler`, id: "handler", type: "aws:lambda/function:Function", name: "handler",
      custom: true, protect: false, dependencies: [], inputs: { memorySize }, outputs: {},
    });
    const two = await diffStacks(
      { stack: "dev", resources: [resource("dev", "shop:index:Api", 128), resource("dev", "shop:index:Worker", 256)] },
      { stack: "prod", resources: [resource("prod", "shop:index:Api", 128), resource("prod", "shop:index:Worker", 512)] },
    );
    expect(two.unchanged).to.equal(1);
    expect(two.resources.map((r) => [r.status, r.changes])).to.deep.equal([["changed", [{ path: "memorySize", from: "256", to: "512" }]]]);
  });

  it("prints the diff as text and markdown", () => {
    const text = diffAsText(diff, dev, prod);
    expect(text).to.match(new RegExp(`^Differences between stacks "dev" and "prod" \\(${planned(dev)} and ${planned(prod)} resources\\): 14 only in prod, 0 only in dev, \\d+ changed, \\d+ the same`));
    expect(text).to.match(/lambda:Function orders-api-get-order\n(\s+\S+\s+\S+\s+->\s+\S+\n)*\s+memorySize\s+256\s+->\s+1024/);
    const markdown = diffAsMarkdown(diff, dev, prod);
    expect(markdown).to.include("| prod | awsx:Vpc | orders-network |");
    expect(markdown).to.include("| dynamodb:Table orders | `deletionProtectionEnabled` | false | true |");
  });

  it("flattens documents and keyed lists into setting paths, and factors out the stack name only as a whole word", () => {
    expect([...flatten({ a: { b: 1 }, list: [1, 2], doc: '{"Statement":[{"Sid":"X","Action":["s3:GetObject"]}]}' })]).to.deep.equal([
      ["a.b", "1"], ["list", "[1,2]"], ["doc.Statement[X].Sid", "X"], ["doc.Statement[X].Action", '["s3:GetObject"]'],
    ]);
    expect(withoutStackName("shop-dev-orders /shop/dev/x devices", "dev")).to.equal("shop-<stack>-orders /shop/<stack>/x devices");
  });

  it("reads its command line, and refuses what it does not understand with the usage", () => {
    expect(parsePlanArguments(["prod"])).to.deep.equal({ format: "text", stacks: ["prod"] });
    expect(parsePlanArguments([])).to.deep.equal({ format: "text", stacks: ["dev"] });
    expect(parsePlanArguments(["--diff", "dev", "prod", "--markdown"])).to.deep.equal({ format: "markdown", stacks: ["dev", "prod"] });
    expect(parsePlanArguments(["prod", "--json"])).to.deep.equal({ format: "json", stacks: ["prod"] });
    expect(() => parsePlanArguments(["--diff", "dev"])).to.throw(/--diff compares two stacks, got 1: dev\nusage: npm run -s plan/);
    expect(() => parsePlanArguments(["prod", "--yaml"])).to.throw(/unknown option --yaml/);
    expect(() => parsePlanArguments(["dev", "prod"])).to.throw(/one stack at a time/);
    expect(() => parsePlanArguments(["prod", "--json", "--markdown"])).to.throw(/choose one of --markdown and --json/);
    expect(parsePlanArguments(["--help"])).to.equal("help");
    expect(parsePlanArguments(["prod", "-h"])).to.equal("help");
    expect(parsePlanArguments(["prod", "--json", "--out", "plan.json"])).to.deep.equal({ format: "json", stacks: ["prod"], out: "plan.json" });
    expect(() => parsePlanArguments(["prod", "--out"])).to.throw(/--out needs a file name/);
  });
});

describe("the plan command as documented, through npm", function () {
  // Each run is a fresh process that loads tsx and evaluates the program.
  this.timeout(60000);
  const npm = (args: string[]) => spawnSync("npm", args, { cwd: PROJECT_ROOT, encoding: "utf8" });

  it("prints its usage for --help and exits 0", () => {
    const run = npm(["run", "plan", "--", "--help"]);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include("usage: npm run -s plan -- [<stack>] [--markdown | --json] [--out <file>]");
    expect(run.stdout).to.include("--out <file>  write the output to <file> instead of standard output");
  });

  it("gives JSON on standard output with npm run -s, and in the --out file without it", () => {
    const silent = npm(["run", "-s", "plan", "--", "prod", "--json"]);
    expect(silent.status, silent.stderr).to.equal(0);
    expect(JSON.parse(silent.stdout).summary.mandatoryViolations).to.equal(0);

    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
    try {
      const file = path.join(directory, "plan.json");
      const loud = npm(["run", "plan", "--", "prod", "--json", "--out", file]);
      expect(loud.status, loud.stderr).to.equal(0);
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).to.deep.equal(JSON.parse(silent.stdout));
      expect(loud.stdout).not.to.include("{");
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
