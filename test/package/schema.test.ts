/**
 * The component package as other Pulumi languages see it: Pulumi's own schema analyzer
 * (the one `pulumi package add` runs through the Node.js plugin host) over this package.
 * Every documented input and output must be in the schema, described from its JSDoc.
 */
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { EventWorker, QueueWorker, RestApi, SecureFunction, ServerlessApi, StreamWorker } from "../../components";
import { PACKAGE_NAME } from "../../components/tokens";

const REPO = path.resolve(__dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));

const FUNCTION_INPUTS = [
  "handler", "runtime", "architecture", "memorySize", "timeout", "description", "environment", "parameters", "secrets",
  "permissions", "reservedConcurrency", "disabled", "provisionedConcurrency", "aliasName", "logRetentionDays", "logLevel", "tracing",
  "alarmActions", "vpc", "bundling", "asyncInvoke", "kmsKeyArn", "deployment", "tags",
];
const DOCUMENTED = {
  SecureFunction: {
    inputs: FUNCTION_INPUTS,
    outputs: ["function", "role", "rolePolicy", "logGroup", "parameters", "alias", "provisionedConcurrencyConfig", "asyncInvokeConfig", "alarms",
      "deploymentApplication", "deploymentGroup", "deploymentRole", "deploymentInvocation", "deployment",
      "arn", "name", "invokeArn", "targetArn", "qualifier", "parameterPath", "bundleBytes"],
    required: ["handler"],
  },
  ServerlessApi: {
    inputs: ["routes", "functionDefaults", "auth", "cors", "throttle", "accessLogRetentionDays", "kmsKeyArn", "domain", "tags"],
    outputs: ["api", "stage", "accessLogGroup", "authorizer", "lambdaAuthorizer", "lambdaAuthorizerPermission", "integrations", "routes", "permissions", "url", "domainUrl"],
    required: ["routes"],
  },
  RestApi: {
    inputs: ["routes", "functionDefaults", "auth", "usagePlans", "stageName", "throttle", "accessLogRetentionDays", "kmsKeyArn", "tracing", "waf",
      "endpointType", "vpcEndpointIds", "resourcePolicy", "accountCloudWatchRole", "domain", "tags"],
    outputs: ["api", "resources", "methods", "integrations", "permissions", "cognitoAuthorizer", "lambdaAuthorizer", "lambdaAuthorizerPermission",
      "models", "requestValidators", "deployment", "stage", "methodSettings", "accessLogGroup", "usagePlans", "keys", "usagePlanKeys", "webAcl",
      "webAclAssociation", "account", "accountRole", "url", "executionArn", "apiKeys", "definitionDigest", "domainUrl"],
    required: ["routes"],
  },
  QueueWorker: {
    inputs: [...FUNCTION_INPUTS, "batchSize", "batchWindowSeconds", "maxConcurrency", "maxReceiveCount", "visibilityTimeoutSeconds",
      "messageRetentionSeconds", "fifo", "maxMessageAgeAlarmSeconds"],
    outputs: ["queue", "deadLetterQueue", "queuePolicies", "functionArn", "functionName", "eventSourceMapping", "alarms",
      "queueUrl", "queueArn", "sendPermission", "sendPermissions"],
    required: ["handler"],
  },
  EventWorker: {
    inputs: [...FUNCTION_INPUTS, "triggers", "maxRetries", "maxEventAgeSeconds", "deadLetterQueueArn", "onSuccess"],
    outputs: ["deadLetterQueue", "deadLetterQueueArn", "schedulerRole", "permissions", "ruleTargets", "alarms", "functionArn", "functionName", "targetArn"],
    required: ["handler", "triggers"],
  },
  StreamWorker: {
    inputs: [...FUNCTION_INPUTS, "streamArn", "streamKind", "startingPosition", "startingPositionTimestamp", "batchSize", "batchWindowSeconds",
      "parallelizationFactor", "filters", "bisectOnError", "maxRetries", "maxRecordAgeSeconds", "deadLetterQueueArn", "deadLetterTopicArn",
      "streamKmsKeyArn", "iteratorAgeAlarmSeconds"],
    outputs: ["eventSourceMapping", "deadLetterQueue", "deadLetterQueuePolicy", "alarms", "functionArn", "functionName", "deadLetterArn",
      "deadLetterQueueUrl"],
    required: ["handler", "streamArn"],
  },
};

type Property = { description?: string; $ref?: string; type?: string; plain?: boolean };
interface Schema {
  name: string;
  version: string;
  dependencies: Array<{ name: string; version: string }>;
  resources: Record<string, { isComponent: boolean; description?: string; inputProperties: Record<string, Property>; requiredInputs?: string[]; properties: Record<string, Property> }>;
  types: Record<string, { type: string; enum?: Array<{ name: string; value: string }>; properties?: Record<string, Property> }>;
}

describe("the Pulumi component package (schema analyzer)", function () {
  this.timeout(60_000);
  let schema: Schema;

  before(async () => {
    const provider = new ComponentProvider({ name: PACKAGE_NAME, dirname: REPO, components: [SecureFunction, ServerlessApi, RestApi, QueueWorker, EventWorker, StreamWorker] });
    schema = JSON.parse(await provider.getSchema());
  });

  it("is hosted under the name the plugin host derives from package.json, with all our components", () => {
    // @pulumi/pulumi/cmd/run-plugin: the unscoped npm name, other characters as "-".
    expect(manifest.name.replace(/^@[^/]+\//, "").replace(/[^-a-zA-Z0-9_]/g, "-")).to.equal(PACKAGE_NAME);
    // The host loads `main` and serves every component class it exports.
    expect(getPulumiComponents(require(REPO))).to.have.members([SecureFunction, ServerlessApi, RestApi, QueueWorker, EventWorker, StreamWorker]);
    expect(schema.name).to.equal(PACKAGE_NAME);
    expect(schema.version).to.equal(manifest.version);
    expect(Object.keys(schema.resources).sort()).to.deep.equal(Object.keys(DOCUMENTED).map((c) => `${PACKAGE_NAME}:index:${c}`).sort());
  });

  it("depends on the @pulumi/aws the package is built against", () => {
    const awsVersion = JSON.parse(fs.readFileSync(require.resolve("@pulumi/aws/package.json"), "utf8")).version;
    expect(schema.dependencies).to.deep.equal([{ name: "aws", version: awsVersion }]);
  });

  for (const [component, documented] of Object.entries(DOCUMENTED)) {
    it(`describes every documented input and output of ${component} from its JSDoc`, () => {
      const resource = schema.resources[`${PACKAGE_NAME}:index:${component}`];
      expect(resource.isComponent).to.equal(true);
      expect(resource.description, "class JSDoc").to.be.a("string").and.not.equal("");
      expect(Object.keys(resource.inputProperties).sort()).to.deep.equal([...documented.inputs].sort());
      expect(Object.keys(resource.properties).sort()).to.deep.equal([...documented.outputs].sort());
      expect(resource.requiredInputs).to.deep.equal(documented.required);
      for (const [kind, properties] of [["input", resource.inputProperties], ["output", resource.properties]] as const) {
        for (const [name, property] of Object.entries(properties)) {
          expect(property.description, `${component} ${kind} ${name}`).to.be.a("string").and.match(/\w/);
        }
      }
    });
  }

  it("turns the TypeScript choices into enums and the nested arguments into documented types", () => {
    const typeOf = (name: string) => schema.types[`${PACKAGE_NAME}:index:${name}`];
    expect(typeOf("LambdaRuntime").enum!.map((member) => member.value)).to.deep.equal(["nodejs24.x", "nodejs22.x", "nodejs20.x"]);
    expect(typeOf("Architecture").enum!.map((member) => member.value)).to.deep.equal(["arm64", "x86_64"]);
    expect(typeOf("LogLevel").enum!.map((member) => member.value)).to.deep.equal(["DEBUG", "INFO", "WARN", "ERROR"]);
    expect(typeOf("RouteAuth").enum!.map((member) => member.value)).to.deep.equal(["jwt", "lambda", "iam", "none"]);
    expect(typeOf("AuthorizerResponseType").enum!.map((member) => member.value)).to.deep.equal(["simple"]);
    expect(typeOf("StreamKind").enum!.map((member) => member.value)).to.deep.equal(["dynamodb", "kinesis"]);
    expect(typeOf("StreamStartingPosition").enum!.map((member) => member.value)).to.deep.equal(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"]);
    const streamWorker = schema.resources[`${PACKAGE_NAME}:index:StreamWorker`];
    expect(streamWorker.inputProperties.streamKind.$ref).to.equal(`#/types/${PACKAGE_NAME}:index:StreamKind`);
    expect(streamWorker.inputProperties.filters).to.deep.include({ type: "array", items: { type: "object", additionalProperties: { $ref: "pulumi.json#/Any" }, plain: true } });
    expect(streamWorker.inputProperties.filters.description).to.match(/^Event filter patterns, at most 5/);
    const secureFunction = schema.resources[`${PACKAGE_NAME}:index:SecureFunction`];
    expect(secureFunction.inputProperties.runtime.$ref).to.equal(`#/types/${PACKAGE_NAME}:index:LambdaRuntime`);
    expect(secureFunction.properties.function.$ref).to.match(/^\/aws\/v[\d.]+\/schema\.json#\/resources\/aws:lambda%2Ffunction:Function$/);
    const api = schema.resources[`${PACKAGE_NAME}:index:ServerlessApi`];
    expect(api.inputProperties.functionDefaults.$ref).to.equal(`#/types/${PACKAGE_NAME}:index:FunctionSettings`);
    expect(typeOf("FilterPolicyScope").enum!.map((member) => member.value)).to.deep.equal(["MessageAttributes", "MessageBody"]);
    expect(typeOf("RestRouteAuth").enum!.map((member) => member.value)).to.have.members(["cognito", "lambda", "iam", "none"]);
    expect(typeOf("LambdaAuthorizerType").enum!.map((member) => member.value)).to.deep.equal(["token", "request"]);
    expect(typeOf("QuotaPeriod").enum!.map((member) => member.value)).to.deep.equal(["DAY", "WEEK", "MONTH"]);
    expect(typeOf("RestEndpointType").enum!.map((member) => member.value)).to.deep.equal(["regional", "private"]);
    const restApi = schema.resources[`${PACKAGE_NAME}:index:RestApi`];
    expect(restApi.inputProperties.routes).to.deep.include({ additionalProperties: { $ref: `#/types/${PACKAGE_NAME}:index:RestRouteArgs`, plain: true } });
    expect(restApi.properties.apiKeys).to.deep.include({ type: "object", additionalProperties: { type: "string" } });
    const eventWorker = schema.resources[`${PACKAGE_NAME}:index:EventWorker`];
    expect(eventWorker.inputProperties.triggers).to.deep.include({ type: "object" });
    for (const name of ["ApiRouteArgs", "FunctionSettings", "PermissionStatement", "FunctionVpcArgs", "BundlingOptions", "JwtAuthArgs", "LambdaAuthArgs", "ApiDomainArgs", "CorsArgs", "ThrottleArgs",
      "AsyncInvokeArgs", "RestRouteArgs", "RestApiAuthArgs", "CognitoAuthArgs", "RestLambdaAuthArgs", "UsagePlanArgs", "UsagePlanQuotaArgs", "RestApiWafArgs",
      "EventTriggerArgs", "TopicTriggerArgs", "RuleTriggerArgs", "ScheduleTriggerArgs", "BucketTriggerArgs"]) {
      for (const [field, property] of Object.entries(typeOf(name).properties!)) {
        expect(property.description, `${name}.${field}`).to.be.a("string").and.match(/\w/);
      }
    }
  });
});
