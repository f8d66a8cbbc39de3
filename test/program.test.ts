import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load as parse } from "js-yaml";
import { evaluateProgram, Evaluation } from "../tools/mock-engine";
import { listStacks, loadStackConfig, SECRET_PLACEHOLDER, StackConfig } from "../tools/stack-config";
import { planAsText } from "../tools/plan-render";
import { ordersTable } from "../handlers/orders/table";
import { TAGGABLE_TYPES } from "../components/tags";
import { ofType, one, RecordedResource, stackPlan } from "./mocks";

const ROOT = path.resolve(__dirname, "..");
const PROGRAM = path.join(ROOT, "index.ts");

function evaluateStack(stack: string, overrides: Record<string, string> = {}): Promise<Evaluation> {
  const stackConfig: StackConfig = loadStackConfig(stack, ROOT);
  return evaluateProgram(PROGRAM, { ...stackConfig, config: { ...stackConfig.config, ...overrides } });
}

const functionNamed = (resources: RecordedResource[], name: string) => one(resources, "aws:lambda/function:Function", name);
/** The functions a deployment adds: its hooks and its runner. */
const isDeploymentFunction = (fn: RecordedResource) => /-(before-traffic|after-traffic|deployer)$/.test(fn.name);
const appFunctions = (resources: RecordedResource[]) => ofType(resources, "aws:lambda/function:Function").filter((fn) => !isDeploymentFunction(fn));

describe("the orders program, per stack", () => {
  let dev: Evaluation;
  let prod: Evaluation;
  before(async () => {
    dev = await stackPlan("dev");
    prod = await stackPlan("prod");
  });

  it("has exactly the dev and prod stacks, and every key in their files is declared in Pulumi.yaml", () => {
    expect(listStacks(ROOT)).to.deep.equal(["dev", "prod"]);
    for (const stack of ["dev", "prod"]) expect(() => loadStackConfig(stack, ROOT)).not.to.throw();
  });

  it("points `pulumi up` at the program, not at the package's exports (the component library)", () => {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { main: string };
    expect(project.main).to.equal("index.ts");
    expect(fs.existsSync(path.join(ROOT, project.main))).to.equal(true);
  });

  it("refuses a stack file key that Pulumi.yaml does not declare, and a value of the wrong type", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), "config:\n  serverless-orders:apiMemory: 512\n  serverless-orders:apiTimeout: soon\n");
    expect(() => loadStackConfig("bad", dir)).to.throw(/serverless-orders:apiMemory is not declared in Pulumi.yaml[\s\S]*apiTimeout = "soon" is not of type integer/);
    expect(() => loadStackConfig("missing", dir)).to.throw(/No stack "missing"/);
  });

  it("deploys the table from the handlers' schema: on demand, PITR, encrypted; protected only in prod", () => {
    for (const [evaluation, protectedData] of [[dev, false], [prod, true]] as const) {
      const table = one(evaluation.resources, "aws:dynamodb/table:Table");
      expect(table.inputs.hashKey).to.equal(ordersTable.hashKey);
      expect(table.inputs.attributes).to.deep.equal(ordersTable.attributes);
      expect(table.inputs.globalSecondaryIndexes).to.deep.equal(ordersTable.globalSecondaryIndexes);
      expect(table.inputs.billingMode).to.equal("PAY_PER_REQUEST");
      expect(table.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
      expect(table.inputs.serverSideEncryption.enabled).to.equal(true);
      expect(table.inputs.deletionProtectionEnabled).to.equal(protectedData);
      expect(table.protect).to.equal(protectedData);
      expect(one(evaluation.resources, "aws:cognito/userPool:UserPool").protect).to.equal(protectedData);
    }
  });

  it("keeps the read path warm in prod only: provisioned concurrency on the deployed version, behind the alias the API invokes", () => {
    for (const name of ["orders-api-get-order", "orders-api-list-orders"]) {
      const fn = functionNamed(prod.resources, name);
      expect(fn.inputs.publish).to.equal(true);
      const alias = one(prod.resources, "aws:lambda/alias:Alias", `${name}-alias`);
      const provisioned = one(prod.resources, "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", `${name}-provisioned`);
      expect(provisioned.inputs).to.include({ provisionedConcurrentExecutions: 2, qualifier: fn.outputs.version });
      expect(one(prod.resources, "aws:apigatewayv2/integration:Integration", `${name}-integration`).inputs.integrationUri).to.equal(alias.outputs.arn);
      const permissions = ofType(prod.resources, "aws:lambda/permission:Permission").filter((p) => p.name.startsWith(`${name}-invoke-`));
      expect(permissions).to.have.length(1);
      expect(permissions[0].inputs.qualifier).to.equal("live");
    }
    // Every function CodeDeploy deploys has its alias, warm or not.
    expect(ofType(prod.resources, "aws:lambda/alias:Alias")).to.have.length(5);
    expect(ofType(dev.resources, "aws:lambda/alias:Alias")).to.have.length(5);
    expect(ofType(dev.resources, "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")).to.have.length(0);
  });

  it("applies each stack's sizes, concurrency, retention and throttling", () => {
    expect(functionNamed(dev.resources, "orders-api-get-order").inputs).to.include({ memorySize: 256, timeout: 10 });
    expect(functionNamed(dev.resources, "orders-api-get-order").inputs.reservedConcurrentExecutions).to.equal(undefined);
    expect(functionNamed(prod.resources, "orders-api-get-order").inputs).to.include({ memorySize: 1024, reservedConcurrentExecutions: 50 });
    expect(functionNamed(prod.resources, "fulfilment-consumer").inputs).to.include({ timeout: 60, reservedConcurrentExecutions: 10 });
    // Fulfilment reads the table's stream (the outbox), new orders only, from the trim horizon.
    const mapping = one(prod.resources, "aws:lambda/eventSourceMapping:EventSourceMapping").inputs;
    expect(mapping).to.include({ eventSourceArn: one(prod.resources, "aws:dynamodb/table:Table").outputs.streamArn, startingPosition: "TRIM_HORIZON" });
    expect(mapping.filterCriteria.filters.map((f: { pattern: string }) => JSON.parse(f.pattern))).to.deep.equal([{ eventName: ["INSERT"] }]);
    expect(mapping.destinationConfig.onFailure.destinationArn).to.be.a("string");
    // Each function's SDK clients size their timeouts from its own (handlers/lib/aws-clients.ts), set by SecureFunction.
    expect(functionNamed(prod.resources, "fulfilment-consumer").inputs.environment.variables.FUNCTION_TIMEOUT_SECONDS).to.equal("60");
    for (const fn of ofType(prod.resources, "aws:lambda/function:Function")) {
      expect(fn.inputs.environment.variables.FUNCTION_TIMEOUT_SECONDS, fn.name).to.equal(String(fn.inputs.timeout));
    }
    for (const [evaluation, days, rate, burst] of [[dev, 7, 20, 40], [prod, 90, 500, 1000]] as const) {
      for (const logGroup of ofType(evaluation.resources, "aws:cloudwatch/logGroup:LogGroup")) expect(logGroup.inputs.retentionInDays).to.equal(days);
      const stage = one(evaluation.resources, "aws:apigatewayv2/stage:Stage");
      expect(stage.inputs.defaultRouteSettings).to.include({ throttlingRateLimit: rate, throttlingBurstLimit: burst });
    }
  });

  it("runs prod in the isolated subnets of a VPC with endpoints and no NAT; dev without a VPC", () => {
    const vpc = one(prod.resources, "awsx:ec2:Vpc");
    expect(vpc.inputs.natGateways).to.deep.equal({ strategy: "None" });
    expect(vpc.inputs.subnetSpecs.map((s: { type: string }) => s.type)).to.deep.equal(["Isolated"]);
    const endpoints = ofType(prod.resources, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => [e.inputs.serviceName, e.inputs.vpcEndpointType]);
    expect(endpoints).to.have.deep.members([
      ["com.amazonaws.eu-west-1.dynamodb", "Gateway"],
      ["com.amazonaws.eu-west-1.sqs", "Interface"],
      ["com.amazonaws.eu-west-1.ssm", "Interface"],
      ["com.amazonaws.eu-west-1.xray", "Interface"],
    ]);
    for (const fn of appFunctions(prod.resources)) {
      expect(fn.inputs.vpcConfig.subnetIds, fn.name).to.deep.equal(vpc.outputs.isolatedSubnetIds);
    }
    // The hooks and runners call only Lambda and CodeDeploy, which the VPC has no endpoint for.
    const deploymentFunctions = ofType(prod.resources, "aws:lambda/function:Function").filter(isDeploymentFunction);
    expect(deploymentFunctions, "the hooks and runners").not.to.be.empty;
    for (const fn of deploymentFunctions) expect(fn.inputs.vpcConfig, fn.name).to.equal(undefined);
    expect(ofType(dev.resources, "awsx:ec2:Vpc")).to.have.length(0);
    for (const fn of ofType(dev.resources, "aws:lambda/function:Function")) expect(fn.inputs.vpcConfig, fn.name).to.equal(undefined);
  });

  it("authorizes every route with the stack's Cognito user pool except GET /health", () => {
    const pool = one(dev.resources, "aws:cognito/userPool:UserPool");
    const client = one(dev.resources, "aws:cognito/userPoolClient:UserPoolClient");
    const authorizer = one(dev.resources, "aws:apigatewayv2/authorizer:Authorizer");
    expect(authorizer.inputs.jwtConfiguration).to.deep.equal({ issuer: `https://${pool.outputs.endpoint}`, audiences: [client.id] });
    expect(authorizer.inputs.jwtConfiguration.audiences).to.have.length(1);
    const routes = Object.fromEntries(ofType(dev.resources, "aws:apigatewayv2/route:Route").map((r) => [r.inputs.routeKey, r.inputs.authorizationType]));
    expect(routes).to.deep.equal({ "POST /orders": "JWT", "GET /orders/{orderId}": "JWT", "GET /orders": "JWT", "GET /health": "NONE" });
  });

  it("hands the stack's trusted IAM principals to every API function, and none to the worker", async () => {
    const role = "arn:aws:iam::123456789012:role/orders-support";
    const trusting = await evaluateStack("dev", { "serverless-orders:trustedIamPrincipals": JSON.stringify([role]) });
    const functions = appFunctions(trusting.resources);
    const api = functions.filter((fn) => fn.name.startsWith("orders-api-"));
    expect(api).to.have.length(4);
    for (const fn of api) expect(fn.inputs.environment.variables.TRUSTED_IAM_PRINCIPALS, fn.name).to.equal(JSON.stringify([role]));
    for (const fn of [...appFunctions(dev.resources), ...appFunctions(prod.resources)].filter((f) => f.name.startsWith("orders-api-"))) {
      expect(fn.inputs.environment.variables.TRUSTED_IAM_PRINCIPALS, fn.name).to.equal("[]");
    }
    for (const fn of functions.filter((f) => !f.name.startsWith("orders-api-"))) expect(fn.inputs.environment?.variables, fn.name).not.to.have.property("TRUSTED_IAM_PRINCIPALS");
  });

  it("refuses trusted IAM principals that are not a list of role or user ARNs, naming each", async () => {
    const refusal = (value: string) => evaluateStack("dev", { "serverless-orders:trustedIamPrincipals": value }).then(() => undefined, (e: Error) => e.message);
    expect(await refusal(JSON.stringify(["*", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/ok"])))
      .to.include('serverless-orders:trustedIamPrincipals[0] = "*" is not an IAM role or user ARN')
      .and.include('serverless-orders:trustedIamPrincipals[1] = "arn:aws:iam::123456789012:root" is not an IAM role or user ARN')
      .and.not.include("trustedIamPrincipals[2]");
    expect(await refusal("arn:aws:iam::123456789012:role/ok")).to.include('serverless-orders:trustedIamPrincipals = "arn:aws:iam::123456789012:role/ok" is not a list');
  });

  it("deploys prod's API functions canary 10% for 5 minutes after a health probe, the worker linear; dev all at once", () => {
    const configs = (evaluation: Evaluation) => Object.fromEntries(ofType(evaluation.resources, "aws:codedeploy/deploymentGroup:DeploymentGroup")
      .map((group) => [group.name.replace(/-deployment-group$/, ""), group.inputs.deploymentConfigName]));
    const api = ["orders-api-create-order", "orders-api-get-order", "orders-api-list-orders", "orders-api-health"];
    expect(configs(prod)).to.deep.equal({
      ...Object.fromEntries(api.map((name) => [name, "CodeDeployDefault.LambdaCanary10Percent5Minutes"])),
      "fulfilment-consumer": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    });
    expect(configs(dev)).to.deep.equal(Object.fromEntries([...api, "fulfilment-consumer"].map((name) => [name, "CodeDeployDefault.LambdaAllAtOnce"])));
    for (const evaluation of [dev, prod]) {
      const hooks = ofType(evaluation.resources, "aws:lambda/function:Function").filter((fn) => fn.name.endsWith("-before-traffic"));
      expect(hooks.map((hook) => hook.name).sort()).to.deep.equal(api.map((name) => `${name}-before-traffic`).sort());
      const invocations = ofType(evaluation.resources, "aws:lambda/invocation:Invocation");
      expect(invocations, "the deployments' invocations").not.to.be.empty;
      for (const invocation of invocations) expect(JSON.parse(invocation.inputs.input).waitForCompletion, invocation.name).to.equal(true);
    }
  });

  it("refuses a deployment strategy and step outside what CodeDeploy accepts, naming each key", async () => {
    const message = await evaluateStack("prod", { "serverless-orders:apiDeploymentStrategy": "bluegreen", "serverless-orders:workerDeploymentPercentage": "100" })
      .then(() => "", (e: Error) => e.message);
    expect(message).to.include('serverless-orders:apiDeploymentStrategy = "bluegreen" is not one of allAtOnce, canary, linear')
      .and.include('serverless-orders:workerDeploymentPercentage = "100" is outside 1-99 percent');
  });

  it("lets API Gateway invoke each function from its own route only", () => {
    const api = one(prod.resources, "aws:apigatewayv2/api:Api");
    const scopes = ofType(prod.resources, "aws:lambda/permission:Permission").filter((p) => p.inputs.principal === "apigateway.amazonaws.com")
      .map((p) => [p.inputs.function, p.inputs.sourceArn.slice(api.outputs.executionArn.length)]);
    expect(scopes).to.have.deep.members([
      ["serverless-orders-prod-orders-api-create-order", "/*/POST/orders"],
      ["serverless-orders-prod-orders-api-get-order", "/*/GET/orders/*"],
      ["serverless-orders-prod-orders-api-list-orders", "/*/GET/orders"],
      ["serverless-orders-prod-orders-api-health", "/*/GET/health"],
    ]);
  });

  it("needs no secret config and deploys no SecureString: create-order reads only its two limits", () => {
    // Order ids hash the customer and the idempotency key, so no stack holds a secret; the
    // components' own tests cover how a secret would be stored (test/components/secure-function.test.ts).
    for (const [stack, evaluation] of [["dev", dev], ["prod", prod]] as const) {
      expect(loadStackConfig(stack, ROOT).secretKeys, stack).to.deep.equal([]);
      expect(ofType(evaluation.resources, "aws:ssm/parameter:Parameter").map((p) => [p.inputs.name, p.inputs.type]), stack).to.deep.equal([
        [`/serverless-orders/${stack}/orders-api-create-order/maxItemsPerOrder`, "String"],
        [`/serverless-orders/${stack}/orders-api-create-order/maxOrdersPerCustomerPerDay`, "String"],
      ]);
    }
  });

  it("sweeps what the stream path left PENDING: a schedule per stack setting, the pending index, least privilege, an alarm on anything swept", async () => {
    for (const [stack, evaluation] of [["dev", dev], ["prod", prod]] as const) {
      const table = one(evaluation.resources, "aws:dynamodb/table:Table");
      expect(table.inputs.globalSecondaryIndexes, stack).to.deep.include({ name: "pending", hashKey: "status", rangeKey: "pendingSince", projectionType: "KEYS_ONLY" });
      const schedule = one(evaluation.resources, "aws:scheduler/schedule:Schedule");
      const fn = functionNamed(evaluation.resources, "sweeper-function");
      expect(schedule.inputs.scheduleExpression, stack).to.equal("rate(5 minutes)");
      expect(schedule.inputs.target.arn, stack).to.equal(fn.outputs.arn);
      expect(fn.inputs.handler, stack).to.equal("index.handler");
      expect(fn.inputs.reservedConcurrentExecutions, stack).to.equal(1);
      expect(fn.inputs.environment.variables, stack).to.include({ TABLE_NAME: table.outputs.name, SWEEP_GRACE_MINUTES: "10", SWEEP_MAX_ORDERS: "100", POWERTOOLS_SERVICE_NAME: "sweeper" });
      const config = one(evaluation.resources, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
      expect(config.inputs, stack).to.include({ maximumRetryAttempts: 0, maximumEventAgeInSeconds: 300 });
      const policy = one(evaluation.resources, "aws:iam/rolePolicy:RolePolicy", "sweeper-function-policy");
      const dynamodb = JSON.parse(policy.inputs.policy).Statement.filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith("dynamodb:")));
      expect(dynamodb.map((s: { Action: string[]; Resource: string[] }) => [s.Action, s.Resource]), stack).to.deep.equal([
        [["dynamodb:Query"], [`${table.outputs.arn}/index/pending`]],
        [["dynamodb:UpdateItem", "dynamodb:GetItem"], [table.outputs.arn]],
      ]);
      const alarm = one(evaluation.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "sweeper-orders-swept");
      expect(alarm.inputs, stack).to.include({ namespace: "ServerlessOrders", metricName: "OrderSwept", statistic: "Sum", period: 300, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold" });
      expect(alarm.inputs.dimensions, stack).to.deep.equal({ service: "sweeper" });
      expect(alarm.inputs.alarmActions, stack).to.deep.equal([one(evaluation.resources, "aws:sns/topic:Topic").outputs.arn]);
    }
    const faster = await evaluateStack("dev", { "serverless-orders:sweepIntervalMinutes": "1", "serverless-orders:sweepGraceMinutes": "30" });
    expect(one(faster.resources, "aws:scheduler/schedule:Schedule").inputs.scheduleExpression).to.equal("rate(1 minute)");
    expect(one(faster.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "sweeper-orders-swept").inputs.period).to.equal(60);
    expect(one(faster.resources, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs.maximumEventAgeInSeconds).to.equal(60);
    expect(functionNamed(faster.resources, "sweeper-function").inputs.environment.variables.SWEEP_GRACE_MINUTES).to.equal("30");
    let error: Error | undefined;
    await evaluateStack("dev", { "serverless-orders:sweepIntervalMinutes": "0", "serverless-orders:sweepGraceMinutes": "1", "serverless-orders:sweepMaxOrders": "5000" }).catch((e) => (error = e));
    expect(error?.message).to.include('serverless-orders:sweepIntervalMinutes = "0" is outside 1-60 minutes')
      .and.include('serverless-orders:sweepGraceMinutes = "1" is outside 5-1440 minutes')
      .and.include('serverless-orders:sweepMaxOrders = "5000" is outside 1-1000 orders');
  });

  it("exports the API URL, table, fulfilment dead-letter queue and user pool", () => {
    expect(prod.outputs.apiUrl).to.match(/^https:\/\/\w+\.execute-api\.eu-west-1\.amazonaws\.com\/$/);
    expect(prod.outputs.tableName).to.equal("serverless-orders-prod-orders");
    expect(prod.outputs).to.include.keys("userPoolId", "userPoolClientId", "deadLetterQueueUrl", "alarmTopicArn");
  });

  it("sends prod alarms to the on-call email; every alarm has the topic as action", () => {
    const topic = one(prod.resources, "aws:sns/topic:Topic");
    expect(one(prod.resources, "aws:sns/topicSubscription:TopicSubscription").inputs).to.include({ protocol: "email", endpoint: "oncall@example.com" });
    expect(ofType(dev.resources, "aws:sns/topicSubscription:TopicSubscription")).to.have.length(0);
    const alarms = ofType(prod.resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    // 17 of the service, 6 of the sweeper (its function's 3, dead letters, dropped events,
    // orders swept), 2 per deployed function on its new version, 3 per hook and runner.
    expect(alarms).to.have.length(17 + 6 + 5 * 2 + 9 * 3);
    for (const alarm of alarms) expect(alarm.inputs.alarmActions, alarm.name).to.deep.equal([topic.outputs.arn]);
  });

  it("encrypts the alarm topic with its own key that CloudWatch may use (the aws/sns key would silence every alarm)", () => {
    const key = one(prod.resources, "aws:kms/key:Key", "alarms-key");
    expect(one(prod.resources, "aws:sns/topic:Topic").inputs.kmsMasterKeyId).to.equal(key.outputs.arn);
    expect(key.inputs.enableKeyRotation).to.equal(true);
    const statements = JSON.parse(key.inputs.policy).Statement;
    expect(statements).to.deep.include({
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    expect(statements.find((s: { Sid: string }) => s.Sid === "AccountAdministersKey").Principal).to.deep.equal({ AWS: "arn:aws:iam::123456789012:root" });
  });

  it("encrypts prod's queue, log groups, table and function environments with its one rotated data key; dev keeps AWS managed keys", () => {
    const key = one(prod.resources, "aws:kms/key:Key", "data-key");
    expect(key.inputs.enableKeyRotation).to.equal(true);
    const arn = key.outputs.arn;
    expect(arn).to.match(/^arn:aws:kms:eu-west-1:123456789012:key\/[0-9a-f-]{36}$/);
    const encrypted = (evaluation: Evaluation) => ({
      queues: ofType(evaluation.resources, "aws:sqs/queue:Queue").map((q) => [q.inputs.kmsMasterKeyId, q.inputs.sqsManagedSseEnabled]),
      logGroups: ofType(evaluation.resources, "aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs.kmsKeyId),
      table: one(evaluation.resources, "aws:dynamodb/table:Table").inputs.serverSideEncryption.kmsKeyArn,
      // Every function has variables (FUNCTION_TIMEOUT_SECONDS at least) for the key to encrypt.
      functions: ofType(evaluation.resources, "aws:lambda/function:Function").map((f) => f.inputs.environment && f.inputs.kmsKeyArn),
    });
    const inProd = encrypted(prod);
    // The dead-letter queues of the fulfilment worker and of the sweeper.
    expect(inProd.queues).to.deep.equal([[arn, undefined], [arn, undefined]]);
    expect(inProd.logGroups).to.have.length(8 + 9).and.to.satisfy((keys: string[]) => keys.every((k) => k === arn));
    expect(inProd.table).to.equal(arn);
    expect(inProd.functions).to.have.length(6 + 4 + 5).and.to.satisfy((keys: string[]) => keys.every((k) => k === arn));
    expect(ofType(dev.resources, "aws:kms/key:Key").map((k) => k.name)).to.deep.equal(["alarms-key"]);
    const inDev = encrypted(dev);
    expect(inDev.queues).to.deep.equal([[undefined, true], [undefined, true]]);
    expect([...inDev.logGroups, inDev.table, ...inDev.functions].every((k) => k === undefined)).to.equal(true);
  });

  it("lets CloudWatch Logs use the data key for this account's log groups, and SNS and EventBridge send dead letters, for this account only", () => {
    const statements = JSON.parse(one(prod.resources, "aws:kms/key:Key", "data-key").inputs.policy).Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).to.deep.equal(["AccountAdministersKey", "CloudWatchLogsEncryptsLogGroups", "ServicesSendUndeliveredEvents"]);
    expect(statements[1]).to.deep.equal({
      Sid: "CloudWatchLogsEncryptsLogGroups",
      Effect: "Allow",
      Principal: { Service: "logs.eu-west-1.amazonaws.com" },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*" } },
    });
    expect(statements[2].Condition).to.deep.equal({ StringEquals: { "aws:SourceAccount": "123456789012" } });
  });

  it("grants each prod role exactly the kms actions it needs on the data key: the stream's consumer and the table's callers decrypt", () => {
    const arn = one(prod.resources, "aws:kms/key:Key", "data-key").outputs.arn;
    const kmsStatements = (functionName: string) => {
      const policy = ofType(prod.resources, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === `${functionName}-policy`)!;
      return JSON.parse(policy.inputs.policy).Statement.filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith("kms:"))).map((s: { Action: string[]; Resource: string[] }) => [s.Action, s.Resource]);
    };
    const decrypt = [["kms:Decrypt"], [arn]];
    // create-order: the table only (it reads no secret).
    expect(kmsStatements("orders-api-create-order")).to.deep.equal([decrypt]);
    // fulfilment-consumer: sending failure records to its encrypted dead-letter queue, reading the stream (and so the table).
    expect(kmsStatements("fulfilment-consumer")).to.deep.equal([[["kms:GenerateDataKey", "kms:Decrypt"], [arn]], decrypt]);
    expect(kmsStatements("orders-api-get-order")).to.deep.equal([decrypt]);
    expect(kmsStatements("orders-api-list-orders")).to.deep.equal([decrypt]);
    expect(kmsStatements("orders-api-health")).to.deep.equal([]);
    // sweeper: its encrypted dead-letter queue (its failed runs), and the table.
    expect(kmsStatements("sweeper-function")).to.deep.equal([decrypt, [["kms:GenerateDataKey", "kms:Decrypt"], [arn]]]);
    expect(ofType(dev.resources, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.policy.includes("kms:")).map((p) => p.name)).to.deep.equal([]);
  });

  it("tags every taggable resource with the stack's tags, project, stack and its component; the program's own resources are their own component", () => {
    for (const [stack, evaluation] of [["dev", dev], ["prod", prod]] as const) {
      const taggable = evaluation.resources.filter((r) => TAGGABLE_TYPES.has(r.type));
      const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
      for (const r of taggable) {
        // The outermost of our components above the resource, or the resource itself.
        let owner: RecordedResource | undefined;
        for (let at = byUrn.get(r.parent!); at; at = byUrn.get(at.parent!)) if (at.type.startsWith("serverless-components:")) owner = at;
        const component = owner ? `${owner.type.split(":").pop()}/${owner.name}` : `${r.type.split(":")[1].split("/")[0]}.${r.type.split(":").pop()}/${r.name}`;
        expect(r.inputs.tags, `${stack} ${r.type} ${r.name}`).to.deep.equal({ "cost-center": "orders", owner: "team-orders", project: "serverless-orders", stack, component });
      }
      const components = new Set(taggable.map((r) => r.inputs.tags.component));
      expect([...components].filter((c) => !c.includes(".")), stack).to.have.members(["StreamWorker/fulfilment", "EventWorker/sweeper", "ServerlessApi/orders-api"]);
      expect(components, stack).to.include.members(["dynamodb.Table/orders", "sns.Topic/alarms", "cognito.UserPool/customers"]);
    }
    expect(prod.resources.filter((r) => TAGGABLE_TYPES.has(r.type)).map((r) => r.inputs.tags.component)).to.include.members(["kms.Key/data-key", "ec2.Vpc/orders-network"]);
  });

  it("refuses stack tags AWS would refuse, and a stack without cost-center or owner", async () => {
    let error: Error | undefined;
    await evaluateStack("dev", { "aws:defaultTags": JSON.stringify({ tags: { owner: "", "aws:team": "x", note: "a;b" } }) }).catch((e) => (error = e));
    expect(error?.message).to.include('Stack "dev" has invalid configuration')
      .and.include('aws:defaultTags.tags.aws:team: starts with "aws:", which AWS reserves for its own tags; choose another key. Set it in Pulumi.dev.yaml under aws:defaultTags')
      .and.include('aws:defaultTags.tags.note: "a;b" is not a valid tag value')
      .and.include("aws:defaultTags.tags.cost-center: is not set; every stack names its cost center and owning team.")
      .and.include("aws:defaultTags.tags.owner: is not set;");
  });

  it("names the stack, the key and the allowed range for every bad value, all at once", async () => {
    let error: Error | undefined;
    await evaluateStack("prod", { "serverless-orders:apiMemorySize": "64", "serverless-orders:workerBatchSize": "50", "serverless-orders:logRetentionDays": "10", "serverless-orders:readProvisionedConcurrency": "60", "serverless-orders:alarmEmail": "oncall", "serverless-orders:vpcEnabled": "yes" }).catch((e) => (error = e));
    expect(error?.message).to.include('Stack "prod" has invalid configuration')
      .and.include('serverless-orders:apiMemorySize = "64" is outside 128-10240 MB')
      .and.include('serverless-orders:workerBatchSize = "50" is outside 1-10 messages')
      .and.include("serverless-orders:logRetentionDays = \"10\" is not a CloudWatch Logs retention")
      .and.include("serverless-orders:readProvisionedConcurrency = 60 is above apiReservedConcurrency = 50")
      .and.include('serverless-orders:alarmEmail = "oncall" is not an email address')
      .and.include('serverless-orders:vpcEnabled = "yes" is not true or false');
  });

  it("stands a placeholder in for a declared secret the stack files cannot give, and marks it secret", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    try {
      const declared = "  apiSigningKey:\n    type: string\n    secret: true\n    description: a secret for this test\n";
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").replace(/^config:\n/m, `config:\n${declared}`));
      fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
      const stackConfig = loadStackConfig("dev", dir);
      expect(stackConfig.secretKeys).to.deep.equal(["serverless-orders:apiSigningKey"]);
      expect(stackConfig.placeholders).to.deep.equal(["serverless-orders:apiSigningKey"]);
      expect(stackConfig.config["serverless-orders:apiSigningKey"]).to.equal(SECRET_PLACEHOLDER);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints the plan of a stack offline: every resource with its key settings", async () => {
    const plan = await stackPlan("prod");
    const { resources } = plan;
    const text = planAsText(plan);
    expect(text).to.include('Plan for stack "prod"');
    expect(text).to.match(/apigatewayv2:Route\s+orders-api-route-get-orders-order-id-\w+\s+route=GET \/orders\/\{orderId\} auth=JWT/);
    expect(text).to.match(/lambda:ProvisionedConcurrencyConfig\s+orders-api-get-order-provisioned\s+provisioned=2 qualifier=1/);
    expect(text).to.match(/dynamodb:Table\s+orders\s+.*deletionProtection=on.*protect=yes/);
    expect(text).to.include(`${resources.length - 1} resources to create`);
  });
});
