import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { createHash } from "crypto";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { SecureFunction, SecureFunctionArgs } from "../../components";
import { BUNDLING_DEFAULTS, bundleHandler, parseHandler, resolveHandlerFile } from "../../components/bundling";
import {
  checkCallbackHandler, checkRuntime, LambdaRuntime, prepareFunction, SECURE_FUNCTION_DEFAULTS, withFunctionDefaults,
} from "../../components/secure-function";
import { NODEJS_RUNTIMES, supportedRuntimes } from "../../components/limits";
import { ProblemCollector } from "../../components/validation";
import { LAMBDA_ASSUME_ROLE_POLICY } from "../../components/policy";
import { checkPolicies } from "../../tools/policy-check";
import { Evaluation, isSecretValue, revealSecrets } from "../../tools/mock-engine";
import { one, ofType, record, RecordedResource } from "../mocks";
import {
  archiveFiles, BROKEN, childrenOf, expectDeploymentFailure, expectRefused, HELLO, lambdaArn, libraryTags,
  logGroupArn, ORDERS_LIST, physical, recordComponent, recordRefusal, recordWithoutFailure, ssmArn, statementsBySid, TEST_REGION, TYPES,
} from "./support";
import { CALLBACK } from "./support";

const ROOT = process.cwd();
/** The bytes of the variable SecureFunction always adds, at the default timeout: FUNCTION_TIMEOUT_SECONDS=10. */
const TIMEOUT_VARIABLE_BYTES = "FUNCTION_TIMEOUT_SECONDS".length + "10".length;

/** Evaluates one SecureFunction and returns the evaluation, the component and its resolved outputs. */
function recordFunction(name: string, args: SecureFunctionArgs, options: Parameters<typeof record>[1] = {}) {
  return recordComponent(() => new SecureFunction(name, args), (component) => ({
    arn: component.arn,
    name: component.name,
    invokeArn: component.invokeArn,
    targetArn: component.targetArn,
    parameterPath: component.parameterPath,
    ...(component.qualifier ? { qualifier: component.qualifier } : {}),
  }), options);
}

function refuse(args: SecureFunctionArgs, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new SecureFunction("api", args), "SecureFunction", "api", problems);
}

describe("SecureFunction", () => {
  describe("with the defaults", () => {
    let evaluation: Evaluation & { component: SecureFunction };
    let resources: RecordedResource[];
    let fn: RecordedResource;

    before(async () => {
      evaluation = await recordFunction("api", { handler: HELLO });
      resources = evaluation.resources;
      fn = one(resources, TYPES.function);
    });

    it("registers the component and exactly its children, all parented to it", () => {
      const component = one(resources, TYPES.secureFunction, "api");
      expect(component.parent).to.equal(one(resources, TYPES.stack).urn);
      expect(childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`).sort()).to.deep.equal([
        `${TYPES.role}::api-role`,
        `${TYPES.rolePolicy}::api-policy`,
        `${TYPES.alarm}::api-duration`,
        `${TYPES.alarm}::api-errors`,
        `${TYPES.alarm}::api-throttles`,
        `${TYPES.logGroup}::api-logs`,
        `${TYPES.function}::api`,
      ].sort());
      expect(resources).to.have.length(9);
      expect(resources.every((r) => r.protect === false)).to.equal(true);
    });

    it("creates the function with the documented defaults", () => {
      const { code: _code, ...inputs } = fn.inputs;
      expect(inputs).to.deep.equal({
        tags: libraryTags("SecureFunction/api"),
        name: "shop-dev-api",
        role: "arn:aws:iam::123456789012:role/shop-dev-api",
        runtime: "nodejs24.x",
        architectures: ["arm64"],
        handler: "index.handler",
        memorySize: 512,
        timeout: 10,
        publish: false,
        // Always: the handlers' SDK clients size their timeouts and retries from it.
        environment: { variables: { FUNCTION_TIMEOUT_SECONDS: "10" } },
        tracingConfig: { mode: "Active" },
        loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/shop-dev-api", applicationLogLevel: "INFO", systemLogLevel: "WARN" },
      });
      // No PARAMETERS_PATH without parameters, no VPC, no reserved concurrency.
      expect(fn.inputs).not.to.have.any.keys("vpcConfig", "reservedConcurrentExecutions", "description");
    });

    it("ships the handler bundled as index.mjs, the bytes bundleHandler gives, and the bundle runs", async () => {
      const files = await archiveFiles(fn);
      const expected = bundleHandler(path.join(ROOT, "test/fixtures/hello.ts"), "handler", ROOT, BUNDLING_DEFAULTS);
      expect(Object.keys(files)).to.deep.equal(["index.mjs"]);
      expect(files["index.mjs"]).to.equal(expected.files["index.mjs"]);
      expect(evaluation.component.bundleBytes).to.equal(expected.bytes).and.to.equal(Buffer.byteLength(files["index.mjs"]));
      // Equal to bundleHandler's output proves the wiring, not the bundle: run what is shipped.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secure-function-test-"));
      try {
        fs.writeFileSync(path.join(dir, "index.mjs"), files["index.mjs"]);
        const shipped = await import(pathToFileURL(path.join(dir, "index.mjs")).href);
        expect(await shipped.handler()).to.deep.equal({ statusCode: 200, body: "hello" });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("creates the log group /aws/lambda/<function name> with 30 days retention, before the function", () => {
      const logGroup = one(resources, TYPES.logGroup, "api-logs");
      expect(logGroup.inputs).to.deep.equal({ tags: libraryTags("SecureFunction/api"), name: "/aws/lambda/shop-dev-api", retentionInDays: 30 });
      expect(fn.dependencies).to.include(logGroup.urn);
    });

    it("creates its own role that only Lambda may assume", () => {
      const role = one(resources, TYPES.role, "api-role");
      expect(role.inputs).to.deep.equal({
        tags: libraryTags("SecureFunction/api"),
        name: "shop-dev-api",
        description: "Execution role of the Lambda function shop-dev-api",
        assumeRolePolicy: LAMBDA_ASSUME_ROLE_POLICY,
      });
      expect(JSON.parse(role.inputs.assumeRolePolicy)).to.deep.equal({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      });
      expect(ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
    });

    it("grants exactly: logs on its own log group's streams, X-Ray with *", () => {
      const policy = one(resources, TYPES.rolePolicy, "api-policy");
      expect(policy.inputs.role).to.equal("shop-dev-api");
      expect(statementsBySid(policy)).to.deep.equal({
        WriteOwnLogs: {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [`${logGroupArn("/aws/lambda/shop-dev-api")}:*`],
        },
        Tracing: { Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: ["*"] },
      });
    });

    it("hands the role ARN to the function only once the role policy exists", () => {
      const policy = one(resources, TYPES.rolePolicy, "api-policy");
      const role = one(resources, TYPES.role, "api-role");
      expect(fn.dependencies).to.include(policy.urn);
      expect(fn.dependencies).to.include(role.urn);
      expect(policy.dependencies).to.include(role.urn);
    });

    it("creates Errors, Throttles and p99 Duration alarms (80% of the timeout, in ms), without actions", () => {
      const common = {
        namespace: "AWS/Lambda",
        dimensions: { FunctionName: "shop-dev-api" },
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [],
        okActions: [],
        evaluationPeriods: 1,
      };
      expect(one(resources, TYPES.alarm, "api-errors").inputs).to.deep.equal({
        tags: libraryTags("SecureFunction/api"),
        ...common, name: "shop-dev-api-errors", alarmDescription: "api: the function reported errors.",
        metricName: "Errors", statistic: "Sum", period: 60, threshold: 1,
      });
      expect(one(resources, TYPES.alarm, "api-throttles").inputs).to.deep.equal({
        tags: libraryTags("SecureFunction/api"),
        ...common, name: "shop-dev-api-throttles",
        alarmDescription: "api: invocations were throttled (reserved concurrency or account limit reached).",
        metricName: "Throttles", statistic: "Sum", period: 60, threshold: 1,
      });
      expect(one(resources, TYPES.alarm, "api-duration").inputs).to.deep.equal({
        tags: libraryTags("SecureFunction/api"),
        ...common, name: "shop-dev-api-duration", alarmDescription: "api: p99 duration reached 80% of the 10 s timeout.",
        metricName: "Duration", extendedStatistic: "p99", period: 300, threshold: 8000,
      });
    });

    it("has no alias, provisioned concurrency or parameters; callers invoke the function itself", () => {
      expect(ofType(resources, TYPES.alias)).to.deep.equal([]);
      expect(ofType(resources, TYPES.provisioned)).to.deep.equal([]);
      expect(ofType(resources, TYPES.parameter)).to.deep.equal([]);
      expect(evaluation.component.alias).to.equal(undefined);
      expect(evaluation.component.qualifier).to.equal(undefined);
      const functionArn = lambdaArn("shop-dev-api");
      expect(evaluation.outputs).to.deep.equal({
        arn: functionArn,
        name: "shop-dev-api",
        invokeArn: `arn:aws:apigateway:${TEST_REGION}:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
        targetArn: functionArn,
        parameterPath: "/shop/dev/api",
      });
    });
  });

  describe("with every option set", () => {
    const permissions = [
      { actions: ["dynamodb:GetItem", "dynamodb:Query"], resources: ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"] },
      { actions: ["s3:Get*"], resources: ["arn:aws:s3:::bucket/*"] },
    ];
    let evaluation: Evaluation & { component: SecureFunction };
    let resources: RecordedResource[];
    let fn: RecordedResource;

    before(async () => {
      evaluation = await recordFunction("orders", {
        handler: ORDERS_LIST,
        runtime: "nodejs22.x",
        architecture: "x86_64",
        memorySize: 1024,
        timeout: 25,
        description: "Lists orders",
        environment: { TABLE_NAME: "orders", MODE: pulumi.output("strict") },
        parameters: { maxItems: "3", "feature.flag": pulumi.output("on") },
        secrets: { tokenSecret: pulumi.secret("s3cr3t-value-never-in-plain-text") },
        permissions,
        reservedConcurrency: 10,
        provisionedConcurrency: 2,
        aliasName: "warm",
        logRetentionDays: 90,
        logLevel: "DEBUG",
        tracing: false,
        alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alerts"],
        vpc: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: [pulumi.output("sg-1")] },
      });
      resources = evaluation.resources;
      fn = one(resources, TYPES.function);
    });

    it("passes every setting to the function", () => {
      const { code: _code, ...inputs } = fn.inputs;
      expect(inputs).to.deep.equal({
        tags: libraryTags("SecureFunction/orders"),
        name: "shop-dev-orders",
        description: "Lists orders",
        role: "arn:aws:iam::123456789012:role/shop-dev-orders",
        runtime: "nodejs22.x",
        architectures: ["x86_64"],
        handler: "index.list",
        memorySize: 1024,
        timeout: 25,
        reservedConcurrentExecutions: 10,
        publish: true,
        environment: { variables: { TABLE_NAME: "orders", MODE: "strict", PARAMETERS_PATH: "/shop/dev/orders", FUNCTION_TIMEOUT_SECONDS: "25" } },
        tracingConfig: { mode: "PassThrough" },
        loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/shop-dev-orders", applicationLogLevel: "DEBUG", systemLogLevel: "WARN" },
        vpcConfig: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"] },
      });
    });

    it("keeps logs for logRetentionDays", () => {
      expect(one(resources, TYPES.logGroup).inputs).to.deep.equal({ tags: libraryTags("SecureFunction/orders"), name: "/aws/lambda/shop-dev-orders", retentionInDays: 90 });
    });

    it("stores parameters as String and secrets as SecureString under /<project>/<stack>/<component>/<key>", () => {
      const parameters = ofType(resources, TYPES.parameter).map((p) => ({ resource: p.name, ...p.inputs, value: revealSecrets(p.inputs.value) }));
      expect(parameters).to.deep.equal([
        { tags: libraryTags("SecureFunction/orders"), resource: "orders-parameter-maxItems", name: "/shop/dev/orders/maxItems", type: "String", tier: "Standard", value: "3" },
        { tags: libraryTags("SecureFunction/orders"), resource: "orders-parameter-feature.flag", name: "/shop/dev/orders/feature.flag", type: "String", tier: "Standard", value: "on" },
        { tags: libraryTags("SecureFunction/orders"), resource: "orders-secret-tokenSecret", name: "/shop/dev/orders/tokenSecret", type: "SecureString", tier: "Standard", value: "s3cr3t-value-never-in-plain-text" },
      ]);
      expect(isSecretValue(one(resources, TYPES.parameter, "orders-secret-tokenSecret").inputs.value), "the secret reaches the engine as a secret").to.equal(true);
    });

    it("never puts the secret value in the environment, another resource or an output", () => {
      const secretParameter = one(resources, TYPES.parameter, "orders-secret-tokenSecret");
      const elsewhere = resources.filter((r) => r !== secretParameter);
      expect(JSON.stringify(elsewhere.map((r) => r.inputs))).not.to.include("s3cr3t-value-never-in-plain-text");
      expect(JSON.stringify(evaluation.outputs)).not.to.include("s3cr3t-value-never-in-plain-text");
      expect(Object.values(fn.inputs.environment.variables)).not.to.include("s3cr3t-value-never-in-plain-text");
    });

    it("creates the function after its parameters", () => {
      for (const parameter of ofType(resources, TYPES.parameter)) expect(fn.dependencies).to.include(parameter.urn);
    });

    it("grants exactly: logs, its own parameter path and parameters, VPC interfaces, then the user's statements", () => {
      const policy = one(resources, TYPES.rolePolicy);
      expect(JSON.parse(policy.inputs.policy).Statement.map((s: { Sid: string }) => s.Sid)).to.deep.equal([
        "WriteOwnLogs", "ReadOwnParametersByPath", "ReadOwnParameters", "VpcNetworkInterfaces", "Granted0", "Granted1",
      ]);
      expect(statementsBySid(policy)).to.deep.equal({
        WriteOwnLogs: { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroupArn("/aws/lambda/shop-dev-orders")}:*`] },
        ReadOwnParametersByPath: { Effect: "Allow", Action: ["ssm:GetParametersByPath"], Resource: [ssmArn("/shop/dev/orders")] },
        ReadOwnParameters: {
          Effect: "Allow",
          Action: ["ssm:GetParameter", "ssm:GetParameters"],
          Resource: [ssmArn("/shop/dev/orders/maxItems"), ssmArn("/shop/dev/orders/feature.flag"), ssmArn("/shop/dev/orders/tokenSecret")],
        },
        VpcNetworkInterfaces: {
          Effect: "Allow",
          Action: [
            "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
          ],
          Resource: ["*"],
        },
        Granted0: { Effect: "Allow", Action: permissions[0].actions, Resource: permissions[0].resources },
        Granted1: { Effect: "Allow", Action: permissions[1].actions, Resource: permissions[1].resources },
      });
    });

    it("publishes a version, points the alias at it and puts provisioned concurrency on the alias", () => {
      const alias = one(resources, TYPES.alias, "orders-alias");
      expect(alias.inputs).to.deep.equal({ name: "warm", functionName: "shop-dev-orders", functionVersion: "1" });
      expect(fn.outputs.version).to.equal("1");
      expect(alias.inputs.functionVersion).to.equal(fn.outputs.version);
      expect(alias.dependencies).to.include(fn.urn);
      const provisioned = one(resources, TYPES.provisioned, "orders-provisioned");
      expect(provisioned.inputs).to.deep.equal({ functionName: "shop-dev-orders", qualifier: "warm", provisionedConcurrentExecutions: 2 });
      expect(provisioned.dependencies).to.include(alias.urn);
    });

    it("exposes the alias as what callers invoke", () => {
      const aliasArn = lambdaArn("shop-dev-orders", "warm");
      expect(evaluation.outputs).to.deep.equal({
        arn: lambdaArn("shop-dev-orders"),
        name: "shop-dev-orders",
        invokeArn: `arn:aws:apigateway:${TEST_REGION}:lambda:path/2015-03-31/functions/${aliasArn}/invocations`,
        targetArn: aliasArn,
        qualifier: "warm",
        parameterPath: "/shop/dev/orders",
      });
    });

    it("wires alarmActions (and okActions) into all three alarms, duration at 80% of 25 s", () => {
      const alarms = ofType(resources, TYPES.alarm);
      expect(alarms.map((a) => a.name)).to.deep.equal(["orders-errors", "orders-throttles", "orders-duration"]);
      for (const alarm of alarms) {
        expect(alarm.inputs.alarmActions).to.deep.equal(["arn:aws:sns:eu-west-1:123456789012:alerts"]);
        expect(alarm.inputs.okActions).to.deep.equal(["arn:aws:sns:eu-west-1:123456789012:alerts"]);
      }
      expect(one(resources, TYPES.alarm, "orders-duration").inputs.threshold).to.equal(20000);
    });
  });

  describe("parameters, secrets and PARAMETERS_PATH", () => {
    it("sets PARAMETERS_PATH when there are only secrets, and grants only that path", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, secrets: { key: pulumi.secret("k") } });
      expect(one(resources, TYPES.function).inputs.environment).to.deep.equal({ variables: { PARAMETERS_PATH: "/shop/dev/api", FUNCTION_TIMEOUT_SECONDS: "10" } });
      const statements = statementsBySid(one(resources, TYPES.rolePolicy));
      expect(statements.ReadOwnParametersByPath.Resource).to.deep.equal([ssmArn("/shop/dev/api")]);
      expect(statements.ReadOwnParameters.Resource).to.deep.equal([ssmArn("/shop/dev/api/key")]);
    });

    it("sets no PARAMETERS_PATH and grants no SSM access without parameters, keeping the user's environment", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, environment: { A: "1" } });
      expect(one(resources, TYPES.function).inputs.environment).to.deep.equal({ variables: { A: "1", FUNCTION_TIMEOUT_SECONDS: "10" } });
      expect(Object.keys(statementsBySid(one(resources, TYPES.rolePolicy)))).to.deep.equal(["WriteOwnLogs", "Tracing"]);
    });

    it("accepts a secret read with config.requireSecret", async () => {
      const { resources } = await record(() => {
        const config = new pulumi.Config();
        new SecureFunction("api", { handler: HELLO, secrets: { token: config.requireSecret("token") } });
      }, { config: { "shop:token": "from-config" }, secretKeys: ["shop:token"] });
      const parameter = one(resources, TYPES.parameter, "api-secret-token");
      expect(parameter.inputs.type).to.equal("SecureString");
      expect(isSecretValue(parameter.inputs.value)).to.equal(true);
      expect(revealSecrets(parameter.inputs.value)).to.equal("from-config");
    });

    it("fails the deployment, naming the argument, when a secret is a plain (non-secret) Output", async () => {
      const error = await expectDeploymentFailure(
        () => new SecureFunction("api", { handler: HELLO, secrets: { token: pulumi.output("not-a-secret") } }),
        "SecureFunction", "api",
        ["secrets.token", /^is not a Pulumi secret; read it with config\.requireSecret\(\.\.\.\) or wrap it in pulumi\.secret\(\.\.\.\)\.$/],
      );
      expect(error.message, "the value is not echoed").not.to.include("not-a-secret");
    });

    it("fails the deployment when a Pulumi secret is passed as an environment variable", async () => {
      const error = await expectDeploymentFailure(
        () => new SecureFunction("api", { handler: HELLO, environment: { API_KEY: pulumi.secret("s3cr3t-value") } }),
        "SecureFunction", "api",
        ["environment.API_KEY", /^is a Pulumi secret; .*pass it in `secrets` instead\.$/],
      );
      expect(error.message, "the value is not echoed").not.to.include("s3cr3t-value");
    });
  });

  describe("values known only once they resolve", () => {
    for (const [what, wildcard] of [["pulumi.output(\"*\")", () => pulumi.output("*")], ["pulumi.interpolate`*`", () => pulumi.interpolate`*`]] as const) {
      it(`fails the deployment when a permission's resource is ${what}`, async () => {
        await expectDeploymentFailure(
          () => new SecureFunction("api", { handler: HELLO, permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*", wildcard()] }] }),
          "SecureFunction", "api",
          ["permissions[0].resources[1]", /^"\*" grants the actions on every resource; name the ARNs, e.g\. table\.arn\.$/],
        );
      });
    }

    it("fails the deployment when environment Outputs resolve to more than 4 KB", async () => {
      await expectDeploymentFailure(
        () => new SecureFunction("api", { handler: HELLO, environment: { SMALL: "s", BIG: pulumi.output("x".repeat(4096 - "SMALLsBIG".length - TIMEOUT_VARIABLE_BYTES + 1)) } }),
        "SecureFunction", "api",
        ["environment", /^takes 4097 bytes \(with FUNCTION_TIMEOUT_SECONDS, which SecureFunction adds\), above Lambda's 4 KB limit; move large values to `parameters`\.$/],
      );
    });

    it("counts the variables SecureFunction adds, at construction and once Outputs resolve", async () => {
      const added = "PARAMETERS_PATH".length + "/shop/dev/api".length + "NODE_OPTIONS".length + "--enable-source-maps".length + TIMEOUT_VARIABLE_BYTES;
      const big = "x".repeat(4096 - "BIG".length - added + 1);
      await refuse({ handler: HELLO, parameters: { a: "1" }, bundling: { sourceMap: true }, environment: { BIG: big } }, [
        ["environment", /^takes 4097 bytes \(with PARAMETERS_PATH, NODE_OPTIONS and FUNCTION_TIMEOUT_SECONDS, which SecureFunction adds\), above Lambda's 4 KB limit; move large values to `parameters`\.$/],
      ]);
      await expectDeploymentFailure(
        () => new SecureFunction("api", { handler: HELLO, parameters: { a: "1" }, bundling: { sourceMap: true }, environment: { BIG: pulumi.output(big) } }),
        "SecureFunction", "api",
        ["environment", /^takes 4097 bytes \(with PARAMETERS_PATH, NODE_OPTIONS and FUNCTION_TIMEOUT_SECONDS, which SecureFunction adds\), above/],
      );
      const { resources } = await recordWithoutFailure(() => {
        new SecureFunction("api", { handler: HELLO, parameters: { a: "1" }, bundling: { sourceMap: true }, environment: { BIG: pulumi.output(big.slice(1)) } });
      });
      expect(Object.keys(one(resources, TYPES.function).inputs.environment.variables)).to.have.members(["BIG", "PARAMETERS_PATH", "NODE_OPTIONS", "FUNCTION_TIMEOUT_SECONDS"]);
    });

    it("passes resolved values on unchanged when they are fine", async () => {
      const { resources } = await recordWithoutFailure(() => {
        new SecureFunction("api", {
          handler: HELLO,
          environment: { NAME: pulumi.output("orders") },
          secrets: { token: pulumi.secret("t") },
          permissions: [{ actions: ["s3:GetObject"], resources: [pulumi.interpolate`arn:aws:s3:::b/*`] }],
        });
      });
      expect(one(resources, TYPES.function).inputs.environment).to.deep.equal({ variables: { NAME: "orders", PARAMETERS_PATH: "/shop/dev/api", FUNCTION_TIMEOUT_SECONDS: "10" } });
      expect(revealSecrets(one(resources, TYPES.parameter).inputs.value)).to.equal("t");
      expect(statementsBySid(one(resources, TYPES.rolePolicy)).Granted0.Resource).to.deep.equal(["arn:aws:s3:::b/*"]);
    });

    it("checks nothing a preview does not know yet, so the preview succeeds and shows the function", async () => {
      const { resources } = await recordWithoutFailure(() => {
        const uploads = new aws.s3.Bucket("uploads");
        new SecureFunction("api", {
          handler: HELLO,
          environment: { BUCKET: uploads.arn, BIG: uploads.bucketDomainName },
          secrets: { token: uploads.id },
          permissions: [{ actions: ["s3:GetObject"], resources: [uploads.arn] }],
        });
      }, { preview: true });
      expect(pulumi.isUnknown(one(resources, TYPES.function).inputs.environment.variables), "environment").to.equal(true);
      expect(pulumi.isUnknown(revealSecrets(one(resources, TYPES.parameter).inputs.value)), "secret").to.equal(true);
      expect(pulumi.isUnknown(one(resources, TYPES.rolePolicy).inputs.policy), "policy").to.equal(true);
    });
  });

  describe("reserved concurrency and the alias", () => {
    it("sets reserved concurrency without an alias when nothing is provisioned", async () => {
      const { resources, component } = await recordFunction("api", { handler: HELLO, reservedConcurrency: 3, aliasName: "custom" });
      expect(one(resources, TYPES.function).inputs.reservedConcurrentExecutions).to.equal(3);
      expect(one(resources, TYPES.function).inputs.publish).to.equal(false);
      expect(ofType(resources, TYPES.alias)).to.deep.equal([]);
      expect(ofType(resources, TYPES.provisioned)).to.deep.equal([]);
      expect(component.qualifier).to.equal(undefined);
    });

    it("reserves 0 concurrent executions, switching the function off, only when disabled says so", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, disabled: true });
      expect(one(resources, TYPES.function).inputs.reservedConcurrentExecutions).to.equal(0);
      const enabled = await recordFunction("api", { handler: HELLO, disabled: false });
      expect(one(enabled.resources, TYPES.function).inputs).not.to.have.property("reservedConcurrentExecutions");
    });

    it("accepts an alias name that starts with a digit but is not only digits", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, provisionedConcurrency: 1, aliasName: "2026-release" });
      expect(one(resources, TYPES.alias).inputs.name).to.equal("2026-release");
    });

    it("names the alias \"live\" by default and allows provisioned == reserved", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, reservedConcurrency: 2, provisionedConcurrency: 2 });
      expect(one(resources, TYPES.alias).inputs.name).to.equal("live");
      expect(one(resources, TYPES.provisioned).inputs).to.deep.equal({ functionName: "shop-dev-api", qualifier: "live", provisionedConcurrentExecutions: 2 });
    });
  });

  describe("alarms", () => {
    for (const [timeout, threshold] of [[1, 800], [3, 2400], [900, 720000]] as const) {
      it(`sets the p99 duration alarm at ${threshold} ms for a ${timeout} s timeout`, async () => {
        const { resources } = await recordFunction("api", { handler: HELLO, timeout });
        expect(one(resources, TYPES.alarm, "api-duration").inputs.threshold).to.equal(threshold);
      });
    }
  });

  describe("physical names", () => {
    it("cuts a long name to each service's limit, keeping its start and adding a digest of the whole", async () => {
      const name = "fulfilment-notification-dispatcher-for-enterprise-customers";
      const full = `shop-dev-${name}`;
      const digest = createHash("sha256").update(full).digest("hex").slice(0, 8);
      const cut64 = `${full.slice(0, 64 - 9)}-${digest}`;
      const { resources } = await recordFunction(name, { handler: HELLO });
      expect(full.length).to.be.greaterThan(64);
      expect(cut64).to.have.length(64);
      expect(one(resources, TYPES.function).inputs.name).to.equal(cut64);
      expect(one(resources, TYPES.role).inputs.name).to.equal(cut64);
      expect(one(resources, TYPES.logGroup).inputs.name).to.equal(`/aws/lambda/${cut64}`);
      // Alarm names allow 255 characters: not cut.
      expect(one(resources, TYPES.alarm, `${name}-errors`).inputs.name).to.equal(`${full}-errors`);
    });

    it("keeps a name at the limit as it is", async () => {
      const name = "n".repeat(64 - "shop-dev-".length);
      const { resources } = await recordFunction(name, { handler: HELLO });
      expect(one(resources, TYPES.function).inputs.name).to.equal(physical(name)).and.to.have.length(64);
    });

    it("uses the stack, so dev and prod never collide", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO }, { stack: "prod" });
      expect(one(resources, TYPES.function).inputs.name).to.equal("shop-prod-api");
      expect(one(resources, TYPES.role).inputs.name).to.equal("shop-prod-api");
    });
  });

  describe("prepareFunction", () => {
    it("resolves every default and bundles the handler when the arguments are valid", () => {
      const problems = new ProblemCollector();
      const prepared = prepareFunction("api", { handler: ORDERS_LIST, memorySize: 256, timeout: undefined }, "", problems);
      expect(problems.problems).to.deep.equal([]);
      expect(prepared?.exportName).to.equal("list");
      expect(prepared?.args).to.deep.equal({ ...SECURE_FUNCTION_DEFAULTS, handler: ORDERS_LIST, memorySize: 256 });
      expect(Object.keys(prepared?.bundle.files ?? {})).to.deep.equal(["index.mjs"]);
    });

    it("returns nothing and adds its problems under the path prefix when the arguments are not valid", () => {
      const problems = new ProblemCollector();
      problems.add("earlier", "is a problem of another argument.");
      const prepared = prepareFunction("api", { handler: "test/fixtures/orders.handler", memorySize: 64 }, 'routes["GET /x"]', problems);
      expect(prepared).to.equal(undefined);
      expect(problems.problems.map((p) => p.path)).to.deep.equal(["earlier", 'routes["GET /x"].memorySize', 'routes["GET /x"].handler']);
      // A handler that bundles fine does not make a function with other problems valid.
      const valid = new ProblemCollector();
      expect(prepareFunction("api", { handler: ORDERS_LIST, timeout: 0 }, "", valid)).to.equal(undefined);
      expect(valid.problems.map((p) => p.path)).to.deep.equal(["timeout"]);
    });

    it("withFunctionDefaults lets an explicit undefined fall back to the default", () => {
      expect(withFunctionDefaults({ handler: HELLO, memorySize: undefined, tracing: false })).to.deep.equal({ ...SECURE_FUNCTION_DEFAULTS, handler: HELLO, tracing: false });
    });
  });

  describe("runtimes and AWS's deprecation dates (the day is given, not read from the clock)", () => {
    const at = (day: string) => new Date(`${day}T12:00:00Z`);
    const runtimeProblemsOn = (day: string, runtime: string) => {
      const problems = new ProblemCollector();
      checkRuntime(runtime as LambdaRuntime, "runtime", problems, at(day));
      return problems.problems;
    };
    const handlerProblemsOn = (day: string, runtime: LambdaRuntime, handler: string) => {
      const parsed = parseHandler(handler)!;
      const { handlerParameters } = bundleHandler(resolveHandlerFile(parsed.modulePath, ROOT)!, parsed.exportName, ROOT, BUNDLING_DEFAULTS);
      const problems = new ProblemCollector();
      checkCallbackHandler(handler, runtime, handlerParameters, "handler", problems, at(day));
      return problems.problems;
    };

    it("accepts a runtime up to the day before its deprecation date, and refuses it from that day, with the dates and the fix", () => {
      expect(runtimeProblemsOn("2027-04-29", "nodejs22.x")).to.deep.equal([]);
      expect(runtimeProblemsOn("2027-04-30", "nodejs22.x")).to.deep.equal([{
        path: "runtime",
        reason: `"nodejs22.x" is past AWS's deprecation date 2027-04-30 (no more security patches); AWS blocks creating functions on it from 2027-06-01 and updating them from 2027-07-01: use "nodejs24.x".`,
      }]);
      expect(runtimeProblemsOn("2026-04-29", "nodejs20.x")).to.deep.equal([]);
      expect(runtimeProblemsOn("2026-12-01", "nodejs20.x").map((p) => p.reason)).to.deep.equal([
        `"nodejs20.x" is past AWS's deprecation date 2026-04-30 (no more security patches); AWS blocks creating functions on it from 2026-08-31 and updating them from 2026-09-30: use "nodejs24.x".`,
      ]);
    });

    it("offers only the runtimes still supported that day, the one supported longest first", () => {
      expect(supportedRuntimes(new Date("2026-12-01T00:00:00Z"))).to.deep.equal(["nodejs24.x", "nodejs22.x"]);
      expect(supportedRuntimes(new Date("2026-04-29T23:59:59Z"))).to.deep.equal(["nodejs24.x", "nodejs22.x", "nodejs20.x"]);
      expect(runtimeProblemsOn("2026-12-01", "nodejs18.x").map((p) => p.reason)).to.deep.equal([`"nodejs18.x" is not allowed; use one of "nodejs24.x", "nodejs22.x".`]);
      expect(runtimeProblemsOn("2028-04-30", "nodejs24.x").map((p) => p.reason)).to.deep.equal([
        `"nodejs24.x" is past AWS's deprecation date 2028-04-30 (no more security patches); AWS blocks creating functions on it from 2028-06-01 and updating them from 2028-07-01: upgrade this library for a runtime AWS still supports.`,
      ]);
    });

    it("refuses a callback-style handler on a runtime that no longer calls them, offering the async form and the runtimes that still do", () => {
      const fix = "Make it async and return the result: `async (event, context) => result`";
      expect(handlerProblemsOn("2026-12-01", "nodejs24.x", CALLBACK)).to.deep.equal([{
        path: "handler",
        reason: `"${CALLBACK}" takes a callback (event, context, callback); nodejs24.x no longer calls callback-style handlers, so every invocation would fail. ${fix}, or keep the callback on "nodejs22.x" until its deprecation on 2027-04-30.`,
      }]);
      expect(handlerProblemsOn("2027-05-01", "nodejs24.x", CALLBACK).map((p) => p.reason)).to.deep.equal([
        `"${CALLBACK}" takes a callback (event, context, callback); nodejs24.x no longer calls callback-style handlers, so every invocation would fail. ${fix}.`,
      ]);
      expect(handlerProblemsOn("2026-12-01", "nodejs22.x", CALLBACK)).to.deep.equal([]);
      // A handler that takes no callback is what nodejs24.x calls.
      expect(handlerProblemsOn("2026-12-01", "nodejs24.x", HELLO)).to.deep.equal([]);
    });

    it("keeps one table: every runtime of the LambdaRuntime enum has AWS's three dates, in order", () => {
      expect(Object.keys(NODEJS_RUNTIMES)).to.have.members(Object.values(LambdaRuntime));
      for (const [runtime, facts] of Object.entries(NODEJS_RUNTIMES)) {
        const dates = [facts.deprecation, facts.blockCreate, facts.blockUpdate];
        for (const date of dates) expect(new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10), runtime).to.equal(date);
        expect([...dates].sort(), runtime).to.deep.equal(dates);
      }
    });
  });

  describe("asynchronous invocation (asyncInvoke)", () => {
    const INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig";
    const QUEUE = "arn:aws:sqs:eu-west-1:123456789012:failures";
    const TOPIC = "arn:aws:sns:eu-west-1:123456789012:succeeded";
    const FUNCTION = physical("api");

    it("registers no invoke config without asyncInvoke, so existing functions keep Lambda's own behaviour", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO });
      expect(ofType(resources, INVOKE_CONFIG)).to.deep.equal([]);
    });

    it("configures 2 retries and 6 hours by default, with no destination and no extra permission", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, asyncInvoke: {} });
      expect(one(resources, INVOKE_CONFIG, "api-async-invoke").inputs).to.deep.equal({ functionName: FUNCTION, maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600 });
      expect(Object.keys(statementsBySid(one(resources, TYPES.rolePolicy)))).to.deep.equal(["WriteOwnLogs", "Tracing"]);
    });

    const destinations: Array<[string, string, string]> = [
      ["an SQS queue", QUEUE, "sqs:SendMessage"],
      ["an SNS topic", "arn:aws:sns:eu-west-1:123456789012:failures", "sns:Publish"],
      ["a Lambda function", "arn:aws:lambda:eu-west-1:123456789012:function:on-failure", "lambda:InvokeFunction"],
      ["a Lambda alias", "arn:aws:lambda:eu-west-1:123456789012:function:on-failure:live", "lambda:InvokeFunction"],
      ["an EventBridge bus", "arn:aws:events:eu-west-1:123456789012:event-bus/failures", "events:PutEvents"],
    ];
    for (const [what, arn, action] of destinations) {
      it(`sends failed events to ${what}, its role allowed exactly ${action} on it`, async () => {
        const { resources } = await recordFunction("api", { handler: HELLO, asyncInvoke: { onFailure: pulumi.output(arn), maxRetries: 0, maxEventAgeSeconds: 60 } });
        expect(one(resources, INVOKE_CONFIG).inputs).to.deep.equal({
          functionName: FUNCTION, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60, destinationConfig: { onFailure: { destination: arn } },
        });
        expect(statementsBySid(one(resources, TYPES.rolePolicy)).SendFailedAsyncEvents).to.deep.equal({ Effect: "Allow", Action: [action], Resource: [arn] });
      });
    }

    it("sends successes and failures each to its own destination, after the role may send there, on the alias when there is one", async () => {
      const { resources } = await recordFunction("api", { handler: HELLO, provisionedConcurrency: 1, asyncInvoke: { onFailure: QUEUE, onSuccess: TOPIC } });
      const config = one(resources, INVOKE_CONFIG);
      expect(config.inputs).to.deep.equal({
        functionName: FUNCTION, qualifier: "live", maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: QUEUE }, onSuccess: { destination: TOPIC } },
      });
      const policy = one(resources, TYPES.rolePolicy);
      expect(config.dependencies, "Lambda refuses a destination the role may not send to").to.include(policy.urn);
      const statements = statementsBySid(policy);
      expect(statements.SendFailedAsyncEvents).to.deep.equal({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [QUEUE] });
      expect(statements.SendSucceededAsyncEvents).to.deep.equal({ Effect: "Allow", Action: ["sns:Publish"], Resource: [TOPIC] });
    });

    it("satisfies the policy pack's lambda-async-failure-destination rule, which refuses the same function without onFailure", async () => {
      const verdict = async (asyncInvoke: SecureFunctionArgs["asyncInvoke"]) => {
        const { resources } = await record(() => {
          const fn = new SecureFunction("api", { handler: HELLO, asyncInvoke });
          new aws.lambda.Permission("api-from-topic", { action: "lambda:InvokeFunction", function: fn.name, principal: "sns.amazonaws.com", sourceArn: TOPIC });
        });
        return (await checkPolicies(resources)).find((v) => v.policy === "lambda-async-failure-destination")!;
      };
      const satisfied = await verdict({ onFailure: QUEUE });
      expect(satisfied.checked).to.be.greaterThan(0);
      expect(satisfied.violations).to.deep.equal([]);
      expect((await verdict({ maxRetries: 1 })).violations.map((v) => v.message)).to.deep.equal([
        `Function api is invoked asynchronously (sns.amazonaws.com) but failed events are dropped after the retries; add an aws.lambda.FunctionEventInvokeConfig with destinationConfig.onFailure.destination (an SQS queue or SNS topic).`,
      ]);
    });

    it("fails the deployment when an Output destination resolves to an ARN Lambda cannot send to", async () => {
      await expectDeploymentFailure(
        () => new SecureFunction("api", { handler: HELLO, asyncInvoke: { onSuccess: pulumi.output("arn:aws:dynamodb:eu-west-1:123456789012:table/orders") } }),
        "SecureFunction", "api",
        ["asyncInvoke.onSuccess", /^"arn:aws:dynamodb:eu-west-1:123456789012:table\/orders" is an ARN of the dynamodb service; give an SQS queue, an SNS topic, a Lambda function or an EventBridge bus ARN, e\.g\. "arn:aws:sqs:/],
      );
    });
  });

  describe("validation (nothing is registered)", () => {
    const cases: Array<[string, Partial<SecureFunctionArgs>, Array<[string, RegExp]>]> = [
      ["memory below 128 MB", { memorySize: 64 }, [["memorySize", /^64 MB is outside 128-10240 MB; use a value in that range\.$/]]],
      ["memory above 10240 MB", { memorySize: 10241 }, [["memorySize", /^10241 MB is outside 128-10240 MB/]]],
      ["fractional memory", { memorySize: 256.5 }, [["memorySize", /^256\.5 MB is not a whole number; use a whole number from 128 to 10240 MB\.$/]]],
      ["timeout 0", { timeout: 0 }, [["timeout", /^0 seconds is outside 1-900 seconds/]]],
      ["timeout above 900 s", { timeout: 901 }, [["timeout", /^901 seconds is outside 1-900 seconds/]]],
      ["an unknown runtime", { runtime: "nodejs18.x" as never }, [["runtime", /^"nodejs18\.x" is not allowed; use one of "nodejs2\d\.x"(?!.*nodejs20)/]]],
      ["a runtime past its deprecation date", { runtime: "nodejs20.x" }, [["runtime", /^"nodejs20\.x" is past AWS's deprecation date 2026-04-30 \(no more security patches\); AWS blocks creating functions on it from 2026-08-31 and updating them from 2026-09-30: use "nodejs2\d\.x"\.$/]]],
      ["an unknown architecture", { architecture: "arm" as never }, [["architecture", /^"arm" is not allowed; use one of "arm64", "x86_64"\.$/]]],
      ["a retention CloudWatch does not offer", { logRetentionDays: 45 }, [["logRetentionDays", /^45 is not allowed; use one of 1, 3, 5, 7, 14, 30, 60, 90/]]],
      ["retention 0 (never expire)", { logRetentionDays: 0 }, [["logRetentionDays", /^0 is not allowed/]]],
      ["an unknown log level", { logLevel: "TRACE" as never }, [["logLevel", /^"TRACE" is not allowed; use one of "DEBUG", "INFO", "WARN", "ERROR"\.$/]]],
      ["negative reserved concurrency", { reservedConcurrency: -1 }, [["reservedConcurrency", /^-1 is not a whole number of 1 or more/]]],
      ["reserved concurrency 0 (the function could never run)", { reservedConcurrency: 0 }, [["reservedConcurrency", /^0 throttles every invocation, so nothing can run the function; use 1 or more, leave it out to share the account's pool, or set disabled: true to switch the function off on purpose\.$/]]],
      ["reserved concurrency beside disabled", { disabled: true, reservedConcurrency: 0 }, [["reservedConcurrency", /^0 is set with disabled: true, which reserves 0 itself; remove one of them\.$/]]],
      ["provisioned concurrency on a disabled function", { disabled: true, provisionedConcurrency: 1 }, [["provisionedConcurrency", /^1 environments of a disabled function would be paid for and never run; set it to 0 or remove disabled: true\.$/]]],
      ["fractional provisioned concurrency", { provisionedConcurrency: 1.5 }, [["provisionedConcurrency", /^1\.5 is not a whole number of 0 or more/]]],
      ["provisioned above reserved", { reservedConcurrency: 2, provisionedConcurrency: 3 }, [["provisionedConcurrency", /^3 is above reservedConcurrency 2; .*lower it or raise reservedConcurrency\.$/]]],
      ["a reserved environment variable", { environment: { AWS_REGION: "eu-west-1" } }, [["environment.AWS_REGION", /is reserved by Lambda/]]],
      ["_HANDLER in the environment", { environment: { _HANDLER: "index.other" } }, [["environment._HANDLER", /is reserved by Lambda/]]],
      ["an AWS_LAMBDA_ variable", { environment: { AWS_LAMBDA_FUNCTION_NAME: "x" } }, [["environment.AWS_LAMBDA_FUNCTION_NAME", /is reserved by Lambda/]]],
      ["PARAMETERS_PATH in the environment", { environment: { PARAMETERS_PATH: "/x" } }, [["environment.PARAMETERS_PATH", /is set by SecureFunction/]]],
      ["NODE_OPTIONS in the environment", { environment: { NODE_OPTIONS: "--inspect" } }, [["environment.NODE_OPTIONS", /is set by SecureFunction/]]],
      ["FUNCTION_TIMEOUT_SECONDS in the environment", { timeout: 20, environment: { FUNCTION_TIMEOUT_SECONDS: "20" } }, [["environment.FUNCTION_TIMEOUT_SECONDS", /^is set by SecureFunction from `timeout`; remove it, or choose another name for a variable of your own\.$/]]],
      ["an invalid variable name", { environment: { "1BAD": "x" } }, [["environment.1BAD", /is not a valid variable name/]]],
      ["an environment over 4 KB", { environment: { BIG: "x".repeat(4094 - TIMEOUT_VARIABLE_BYTES) } }, [["environment", /^takes 4097 bytes \(with FUNCTION_TIMEOUT_SECONDS, which SecureFunction adds\), above Lambda's 4 KB limit; move large values to `parameters`\.$/]]],
      ["an invalid parameter key", { parameters: { "a/b": "x" } }, [["parameters.a/b", /is not a valid parameter name/]]],
      ["an empty parameter", { parameters: { empty: "" } }, [["parameters.empty", /^is 0 bytes; a standard parameter holds 1 to 4096 bytes\.$/]]],
      ["a parameter over 4 KB", { parameters: { big: "é".repeat(2049) } }, [["parameters.big", /^is 4098 bytes/]]],
      ["a key that is both parameter and secret", { parameters: { k: "v" }, secrets: { k: pulumi.secret("s") } }, [["secrets.k", /is both a parameter and a secret/]]],
      ["a plain string in secrets", { secrets: { token: "plain" } }, [["secrets.token", /^is a plain string, not a Pulumi secret; read it with config\.requireSecret/]]],
      ["the * action", { permissions: [{ actions: ["*"], resources: ["arn:aws:s3:::b"] }] }, [["permissions[0].actions", /^"\*" grants every action; list the actions/]]],
      ["a service:* action", { permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b"] }, { actions: ["s3:*"], resources: ["arn:aws:s3:::b"] }] }, [["permissions[1].actions", /^"s3:\*" grants every action/]]],
      ["a malformed action", { permissions: [{ actions: ["dynamodb-GetItem"], resources: ["arn:aws:dynamodb:::t"] }] }, [["permissions[0].actions", /is not an IAM action; write "service:Action"/]]],
      ["a bare * resource", { permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b", "*"] }] }, [["permissions[0].resources", /^"\*" grants the actions on every resource; name the ARNs/]]],
      ["empty actions and resources", { permissions: [{ actions: [], resources: [] }] }, [["permissions[0].actions", /^is empty/], ["permissions[0].resources", /^is empty/]]],
      ["4 async retries", { asyncInvoke: { maxRetries: 3 } }, [["asyncInvoke.maxRetries", /^3 retries is outside 0-2 retries; use a value in that range\.$/]]],
      ["an async event age above 6 hours", { asyncInvoke: { maxEventAgeSeconds: 21601 } }, [["asyncInvoke.maxEventAgeSeconds", /^21601 seconds is outside 60-21600 seconds/]]],
      ["an async event age below a minute", { asyncInvoke: { maxEventAgeSeconds: 59 } }, [["asyncInvoke.maxEventAgeSeconds", /^59 seconds is outside 60-21600 seconds/]]],
      ["a destination that is no ARN", { asyncInvoke: { onFailure: "failures" } }, [["asyncInvoke.onFailure", /^"failures" is not an ARN; give an SQS queue, an SNS topic, a Lambda function or an EventBridge bus ARN, e\.g\. "arn:aws:sqs:eu-west-1:123456789012:failures"\.$/]]],
      ["a destination of a service Lambda cannot send to", { asyncInvoke: { onFailure: "arn:aws:s3:eu-west-1:123456789012:bucket" } }, [["asyncInvoke.onFailure", /^"arn:aws:s3:eu-west-1:123456789012:bucket" is an ARN of the s3 service; give an SQS queue/]]],
      ["an EventBridge rule for a bus", { asyncInvoke: { onSuccess: "arn:aws:events:eu-west-1:123456789012:rule/orders" } }, [["asyncInvoke.onSuccess", /^"arn:aws:events:eu-west-1:123456789012:rule\/orders" is not a valid events ARN/]]],
      ["a Lambda ARN without function:", { asyncInvoke: { onFailure: "arn:aws:lambda:eu-west-1:123456789012:layer:x" } }, [["asyncInvoke.onFailure", /is not a valid lambda ARN/]]],
      ["an alias name of digits", { aliasName: "123" }, [["aliasName", /^"123" is not a valid alias name/]]],
      ["the alias name $LATEST", { aliasName: "$LATEST" }, [["aliasName", /^"\$LATEST" is not a valid alias name/]]],
      ["an alias name with a space", { aliasName: "my alias" }, [["aliasName", /^"my alias" is not a valid alias name/]]],
      ["a VPC without subnets", { vpc: { subnetIds: [], securityGroupIds: ["sg-1"] } }, [["vpc.subnetIds", /^is empty; give at least one id/]]],
      ["a handler without an export", { handler: "test/fixtures/hello" }, [["handler", /^"test\/fixtures\/hello" is not "path\/to\/file\.exportName"/]]],
      ["a handler naming a folder", { handler: "test/fixtures/.handler" }, [["handler", /is not "path\/to\/file\.exportName"/]]],
      ["a handler whose file is missing", { handler: "test/fixtures/missing.handler" }, [["handler", /^no file "test\/fixtures\/missing" \(\.ts, \.js, \.mjs, \.\.\.\) under .*; fix the path, relative to the project root\.$/]]],
      ["a handler whose export is missing", { handler: "test/fixtures/orders.handler" }, [["handler", /^test\/fixtures\/orders\.ts does not export "handler" \(it exports get, list\)\. Fix the handler "test\/fixtures\/orders\.handler"\.$/]]],
      ["a callback-style handler on nodejs24.x", { handler: CALLBACK }, [["handler", /^"test\/fixtures\/callback\/legacy\.handler" takes a callback \(event, context, callback\); nodejs24\.x no longer calls callback-style handlers, so every invocation would fail\. Make it async and return the result: `async \(event, context\) => result`/]]],
      ["a handler with a syntax error", { handler: BROKEN }, [["handler", /^cannot bundle test\/fixtures\/broken\.js: test\/fixtures\/broken\.js:4: Expected "\}" but found ";" Fix the handler/]]],
    ];
    for (const [what, args, problems] of cases) {
      it(`refuses ${what}`, async () => {
        await refuse({ handler: HELLO, ...args }, problems);
      });
    }

    it("reports every problem in one error, in argument order", async () => {
      const error = await refuse(
        {
          handler: HELLO,
          runtime: "python3.12" as never,
          memorySize: 64,
          timeout: 1000,
          reservedConcurrency: 1,
          provisionedConcurrency: 2,
          environment: { AWS_REGION: "x" },
          secrets: { token: "plain" },
          permissions: [{ actions: ["*"], resources: ["*"] }],
        },
        [
          ["runtime", /python3\.12/],
          ["memorySize", /64 MB/],
          ["timeout", /1000 seconds/],
          ["provisionedConcurrency", /2 is above reservedConcurrency 1/],
          ["environment.AWS_REGION", /reserved/],
          ["secrets.token", /plain string/],
          ["permissions[0].actions", /grants every action/],
          ["permissions[0].resources", /every resource/],
        ],
      );
      expect(error.message.split("\n")).to.have.length(9);
    });

    it("reports a handler problem together with the other problems", async () => {
      await refuse({ handler: "test/fixtures/orders.handler", memorySize: 64 }, [
        ["memorySize", /64 MB/],
        ["handler", /does not export "handler" \(it exports get, list\)/],
      ]);
      await refuse({ handler: "test/fixtures/missing.handler", timeout: 0 }, [
        ["timeout", /0 seconds/],
        ["handler", /no file "test\/fixtures\/missing"/],
      ]);
    });

    it("refuses before registering anything even when the component has a parent", async () => {
      const { error, resources } = await recordRefusal(() => {
        const parent = new pulumi.ComponentResource("test:index:Parent", "parent", {});
        new SecureFunction("api", { handler: HELLO, memorySize: 1 }, { parent });
      });
      expect(error.problems.map((p) => p.path)).to.deep.equal(["memorySize"]);
      expect(resources.map((r) => r.type)).to.deep.equal([TYPES.stack, "test:index:Parent"]);
    });
  });
});
