/**
 * A recording stand-in for the Pulumi engine: it evaluates a program in-process under
 * `pulumi.runtime.setMocks`, answers every resource with realistic outputs (ARNs, URLs,
 * ids shaped like AWS's), refuses any data source it does not know, and records what
 * the program registered: type, name, parent, protect, dependencies and inputs.
 * The plan command and every test use it; no AWS account or Pulumi CLI is involved.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

export const MOCK_ACCOUNT_ID = "123456789012";

/** One resource as the engine saw it. */
export interface RecordedResource {
  urn: string;
  /** The provider's id for the resource (empty for components). */
  id: string;
  type: string;
  name: string;
  /** The parent's URN; the stack's for top-level resources. */
  parent?: string;
  custom: boolean;
  protect: boolean;
  /** Properties Pulumi must not update (`ignoreChanges`). */
  ignoreChanges?: string[];
  /** URNs it depends on: `dependsOn` and the resources its inputs came from. */
  dependencies: string[];
  inputs: Record<string, any>;
  outputs: Record<string, any>;
}

/** A recorded value the SDK marked secret: the engine receives secrets wrapped so. */
export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** A recorded value with every secret wrapper (at any depth) replaced by its plain value. */
export function revealSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(revealSecrets) as T;
  if (isSecretValue(value)) return revealSecrets((value as { value: unknown }).value) as T;
  if (value && typeof value === "object" && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, revealSecrets(field)])) as T;
  }
  return value;
}

function digest(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Where the recorded resources point, when not at AWS. */
export interface MockStateOptions {
  /**
   * Base URL of a local SQS endpoint (e.g. `http://127.0.0.1:4566`): queues get URLs on it
   * instead of `https://sqs.<region>.amazonaws.com`. The local runtime needs this because the
   * SQS client sends each request to the host of its `QueueUrl`.
   */
  queueEndpoint?: string;
}

/** Realistic outputs for a resource, so ARNs and URLs built from them look like AWS's. */
export function mockResourceState(type: string, name: string, inputs: Record<string, any>, region: string, options: MockStateOptions = {}): { id: string; state: Record<string, any> } {
  const account = MOCK_ACCOUNT_ID;
  const physical: string = inputs.name ?? name;
  const shortId = digest(`${type}/${name}`, 10);
  const arn = (service: string, resource: string, withRegion = true) => `arn:aws:${service}:${withRegion ? region : ""}:${account}:${resource}`;
  switch (type) {
    case "aws:lambda/function:Function": {
      const functionArn = arn("lambda", `function:${physical}`);
      const version = inputs.publish ? "1" : "$LATEST";
      return { id: physical, state: { ...inputs, arn: functionArn, qualifiedArn: `${functionArn}:${version}`, version, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations` } };
    }
    case "aws:lambda/alias:Alias": {
      const aliasArn = arn("lambda", `function:${inputs.functionName}:${physical}`);
      return { id: aliasArn, state: { ...inputs, arn: aliasArn, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${aliasArn}/invocations` } };
    }
    case "aws:iam/role:Role":
      return { id: physical, state: { ...inputs, name: physical, arn: `arn:aws:iam::${account}:role/${physical}`, uniqueId: `AROA${shortId.toUpperCase()}` } };
    case "aws:iam/rolePolicy:RolePolicy":
      return { id: `${inputs.role}:${name}`, state: { ...inputs, name } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: physical, state: { ...inputs, arn: arn("logs", `log-group:${physical}`) } };
    case "aws:ssm/parameter:Parameter":
      return { id: physical, state: { ...inputs, arn: arn("ssm", `parameter${physical}`), version: 1 } };
    case "aws:sqs/queue:Queue": {
      const base = options.queueEndpoint ? options.queueEndpoint.replace(/\/+$/, "") : `https://sqs.${region}.amazonaws.com`;
      const url = `${base}/${account}/${physical}`;
      return { id: url, state: { ...inputs, name: physical, arn: arn("sqs", physical), url } };
    }
    case "aws:apigatewayv2/api:Api":
      return { id: shortId, state: { ...inputs, arn: `arn:aws:apigateway:${region}::/apis/${shortId}`, apiEndpoint: `https://${shortId}.execute-api.${region}.amazonaws.com`, executionArn: arn("execute-api", shortId) } };
    case "aws:apigatewayv2/stage:Stage":
      return { id: physical, state: { ...inputs, invokeUrl: `https://${inputs.apiId}.execute-api.${region}.amazonaws.com/${physical === "$default" ? "" : physical}` } };
    case "aws:apigateway/restApi:RestApi":
      return { id: shortId, state: { ...inputs, arn: `arn:aws:apigateway:${region}::/restapis/${shortId}`, rootResourceId: `root${shortId.slice(0, 6)}`, executionArn: arn("execute-api", shortId) } };
    case "aws:apigateway/stage:Stage":
      return {
        id: `ags-${inputs.restApi}-${inputs.stageName}`,
        state: { ...inputs, arn: `arn:aws:apigateway:${region}::/restapis/${inputs.restApi}/stages/${inputs.stageName}`, invokeUrl: `https://${inputs.restApi}.execute-api.${region}.amazonaws.com/${inputs.stageName}`, executionArn: arn("execute-api", `${inputs.restApi}/${inputs.stageName}`) },
      };
    case "aws:apigateway/apiKey:ApiKey":
      // API Gateway generates a key's value: 40 characters.
      return { id: shortId, state: { ...inputs, arn: `arn:aws:apigateway:${region}::/apikeys/${shortId}`, value: digest(`value/${name}`, 40) } };
    case "aws:wafv2/webAcl:WebAcl":
      return { id: shortId, state: { ...inputs, arn: arn("wafv2", `regional/webacl/${physical}/${shortId}`) } };
    // Custom domains: the certificate's one DNS validation record, and the targets alias records point at.
    case "aws:acm/certificate:Certificate": {
      const certificateArn = arn("acm", `certificate/${digest(`${type}/${name}`, 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5")}`);
      const validation = { domainName: inputs.domainName, resourceRecordName: `_${digest(name, 32)}.${inputs.domainName}.`, resourceRecordType: "CNAME", resourceRecordValue: `_${digest(`${name}/value`, 32)}.acm-validations.aws.` };
      return { id: certificateArn, state: { ...inputs, arn: certificateArn, domainValidationOptions: [validation] } };
    }
    case "aws:acm/certificateValidation:CertificateValidation":
      return { id: inputs.certificateArn, state: { ...inputs } };
    case "aws:route53/record:Record":
      return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: { ...inputs, fqdn: String(inputs.name).replace(/\.$/, "") } };
    case "aws:apigatewayv2/domainName:DomainName":
      return { id: inputs.domainName, state: { ...inputs, arn: `arn:aws:apigateway:${region}::/domainnames/${inputs.domainName}`, domainNameConfiguration: { ...inputs.domainNameConfiguration, targetDomainName: `d-${shortId}.execute-api.${region}.amazonaws.com`, hostedZoneId: "Z2FDTNDATAQYW2" } } };
    case "aws:apigateway/domainName:DomainName":
      return { id: inputs.domainName, state: { ...inputs, arn: `arn:aws:apigateway:${region}::/domainnames/${inputs.domainName}`, regionalDomainName: `d-${shortId}.execute-api.${region}.amazonaws.com`, regionalZoneId: "Z2FDTNDATAQYW2" } };
    case "aws:dynamodb/table:Table": {
      const tableArn = arn("dynamodb", `table/${physical}`);
      // A table with a stream gets one labelled as AWS labels them: its creation time.
      const stream = inputs.streamEnabled ? { streamLabel: "2026-01-01T00:00:00.000", streamArn: `${tableArn}/stream/2026-01-01T00:00:00.000` } : {};
      return { id: physical, state: { ...inputs, arn: tableArn, ...stream } };
    }
    // The event sources' ARNs as AWS writes them: the tools tell a source's kind from its ARN.
    case "aws:kinesis/stream:Stream":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("kinesis", `stream/${physical}`) } };
    case "aws:s3/bucket:Bucket": {
      const bucket: string = inputs.bucket ?? physical;
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com` } };
    }
    case "aws:cognito/userPool:UserPool": {
      const poolId = `${region}_${shortId.slice(0, 9)}`;
      return { id: poolId, state: { ...inputs, arn: arn("cognito-idp", `userpool/${poolId}`), endpoint: `cognito-idp.${region}.amazonaws.com/${poolId}` } };
    }
    case "aws:cloudwatch/eventRule:EventRule": {
      const bus = inputs.eventBusName && inputs.eventBusName !== "default" ? `${String(inputs.eventBusName).split("/").pop()}/` : "";
      return { id: physical, state: { ...inputs, name: physical, arn: arn("events", `rule/${bus}${physical}`) } };
    }
    case "aws:scheduler/schedule:Schedule":
      return { id: `default/${physical}`, state: { ...inputs, name: physical, groupName: "default", arn: arn("scheduler", `schedule/default/${physical}`) } };
    case "aws:sns/topic:Topic":
      return { id: arn("sns", physical), state: { ...inputs, arn: arn("sns", physical) } };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: `sg-${shortId}`, state: { ...inputs, arn: arn("ec2", `security-group/sg-${shortId}`) } };
    case "aws:kms/key:Key": {
      // A key's id is a UUID, and its ARN names that id (IAM matches grants on it, not on an alias).
      const keyId = digest(`${type}/${name}`, 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
      return { id: keyId, state: { ...inputs, keyId, arn: arn("kms", `key/${keyId}`) } };
    }
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      // A gateway endpoint's prefix list is what security groups allow traffic to.
      return { id: `vpce-${shortId}`, state: { ...inputs, arn: arn("ec2", `vpc-endpoint/vpce-${shortId}`), ...(inputs.vpcEndpointType === "Gateway" ? { prefixListId: `pl-${shortId.slice(0, 8)}` } : {}) } };
    case "aws:codedeploy/application:Application":
      return { id: physical, state: { ...inputs, arn: arn("codedeploy", `application:${physical}`), applicationId: shortId } };
    case "aws:codedeploy/deploymentGroup:DeploymentGroup":
      return { id: shortId, state: { ...inputs, arn: arn("codedeploy", `deploymentgroup:${inputs.appName}/${inputs.deploymentGroupName}`), deploymentGroupId: shortId } };
    case "aws:codedeploy/deploymentConfig:DeploymentConfig":
      return { id: inputs.deploymentConfigName, state: { ...inputs, arn: arn("codedeploy", `deploymentconfig:${inputs.deploymentConfigName}`), deploymentConfigId: shortId } };
    case "aws:lambda/invocation:Invocation":
      // A first `up`: the alias already points at the version just published.
      return { id: `${inputs.functionName}_${shortId}`, state: { ...inputs, result: JSON.stringify({ status: "Skipped" }) } };
    case "awsx:ec2:Vpc": {
      const zones = ["a", "b"].map((zone) => `subnet-${digest(name + zone, 8)}`);
      return { id: "", state: { vpcId: `vpc-${shortId}`, isolatedSubnetIds: zones, privateSubnetIds: [], publicSubnetIds: [] } };
    }
    default:
      return { id: `${physical}-${shortId}`, state: { ...inputs, ...(inputs.arn === undefined && type.startsWith("aws:") ? { arn: arn(type.split(":")[1].split("/")[0], physical) } : {}) } };
  }
}

/** Answers to the data sources the program may call; anything else is an error. */
export function mockInvoke(token: string, inputs: Record<string, any>, region: string): Record<string, any> {
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com` };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/plan`, userId: "AIDAPLAN", id: MOCK_ACCOUNT_ID };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:ec2/getRouteTables:getRouteTables":
      return { ids: [`rtb-${digest(JSON.stringify(inputs), 8)}`, `rtb-${digest(JSON.stringify(inputs) + "b", 8)}`], id: "route-tables" };
    default:
      throw new Error(`mock engine: no answer for data source ${token}; add one to tools/mock-engine.ts`);
  }
}

/** What one evaluation of a program registered. */
export interface Evaluation {
  resources: RecordedResource[];
  /** The stack outputs. */
  outputs: Record<string, any>;
}

export interface EngineOptions {
  project: string;
  stack: string;
  /** Fully qualified config (`project:key`, `aws:region`) as the CLI passes it: strings. */
  config?: Record<string, string>;
  secretKeys?: string[];
  /** See {@link MockStateOptions}; unset, every URL is AWS's. */
  state?: MockStateOptions;
  /**
   * Evaluates as `pulumi preview` does for a stack that does not exist yet: every resource
   * is to be created, so what AWS computes (ids, ARNs, URLs) is unknown and only the
   * inputs are known.
   */
  preview?: boolean;
}

/**
 * Points the Pulumi runtime at a fresh recording mock engine. Returns the list that
 * fills as resources register; `settle()` waits until every registration is done.
 */
export async function startEngine(options: EngineOptions): Promise<{ resources: RecordedResource[]; settle: () => Promise<void> }> {
  const region = options.config?.["aws:region"] ?? "us-east-1";
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig(options.config ?? {}, options.secretKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => (options.preview ? { id: undefined, state: args.inputs } : mockResourceState(args.type, args.name, args.inputs, region, options.state)),
      call: (args) => mockInvoke(args.token, args.inputs, region),
    },
    options.project,
    options.stack,
    options.preview,
  );
  const monitor = (pulumi.runtime as any).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request: any, callback: (error: any, response: any) => void) =>
    register(request, (error: any, response: any) => {
      if (!error) {
        const stored = monitor.resources.get(response.getUrn());
        resources.push({
          urn: response.getUrn(),
          id: response.getId(),
          type: request.getType(),
          name: request.getName(),
          parent: request.getParent() || undefined,
          custom: request.getCustom(),
          protect: request.getProtect() === true,
          ignoreChanges: request.getIgnorechangesList(),
          dependencies: request.getDependenciesList(),
          inputs: deserialize(request.getObject()),
          outputs: stored ? deserializeJs(stored.state) : {},
        });
      }
      callback(error, response);
    });
  // Components' outputs (registerOutputs) arrive after their registration; record them too.
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (request: any, callback: (error: any, response: any) => void) =>
    registerOutputs(request, (error: any, response: any) => {
      const recorded = resources.find((resource) => resource.urn === request.getUrn());
      if (!error && recorded && !recorded.custom) recorded.outputs = deserialize(request.getOutputs());
      callback(error, response);
    });
  return { resources, settle: waitForRegistrations };
}

function deserialize(struct: any): Record<string, any> {
  return deserializeJs(struct ? struct.toJavaScript() : {});
}

function deserializeJs(properties: Record<string, any>): Record<string, any> {
  const rpc = require("@pulumi/pulumi/runtime/rpc");
  return rpc.deserializeProperties({ toJavaScript: () => properties });
}

/** Resolves once the runtime has no registration or invoke in flight. */
async function waitForRegistrations(): Promise<void> {
  await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
}

/**
 * Runs `program` inside a root stack, as `pulumi up` runs a program, against a fresh
 * recording engine, and returns what it registered once every registration is done.
 * `program` returns the stack outputs.
 */
export async function evaluate(program: () => unknown, options: EngineOptions): Promise<Evaluation> {
  const { resources, settle } = await startEngine(options);
  // The SDK records a full stack trace for every resource it registers; with source maps
  // on (tsx turns them on) each trace is mapped, a quarter of a plan's time. The engine
  // keeps no trace, so mapping is paused while the program runs.
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    const outputs = await pulumi.runtime.runInPulumiStack(async () => program());
    await settle();
    return { resources, outputs: (outputs ?? {}) as Record<string, any> };
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
    // A program that failed leaves registrations that never complete; they belong to
    // this evaluation only, so the runtime's exit-time leak report must not count them.
    require("@pulumi/pulumi/runtime/debuggable").leakedPromises();
  }
}

/**
 * Evaluates a program file (one whose import registers resources, like `index.ts`). The
 * file is loaded afresh each time, so one process can evaluate several stacks.
 */
export function evaluateProgram(programFile: string, options: EngineOptions): Promise<Evaluation> {
  const resolved = require.resolve(programFile);
  return evaluate(() => {
    delete require.cache[resolved];
    return require(resolved);
  }, options);
}
