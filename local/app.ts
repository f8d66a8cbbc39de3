/**
 * What the program registered, read as an application the local runtime can serve: the
 * functions (with the handler and bundling options their SecureFunction registered), API
 * routes and their JWT and Lambda authorizers, the REST APIs, queues and their redrive policies, event source mappings,
 * Parameter Store parameters and DynamoDB tables. Everything comes from the recorded
 * resources of one evaluation: the program is the only description of the app.
 */
import { BUNDLING_DEFAULTS, type BundlingOptions } from "../components/bundling";
import { invokedFunctionArn } from "../policy/graph";
import { revealSecrets, type RecordedResource } from "../tools/mock-engine";
import { stackGraph } from "../tools/policy-check";
import type { StreamViewType } from "./dynamodb-streams";
import { DEFAULT_AUTHORIZER_TTL_SECONDS } from "./lambda-authorizer";
import { readRestApis, type RestApiModel } from "./rest-model";
import type { QueueDefinition } from "./sqs";
import type { LocalParameter } from "./ssm";

export interface FunctionModel {
  /** The SecureFunction's name, e.g. `orders-api-create-order`. */
  name: string;
  functionName: string;
  arn: string;
  /** ARNs callers may use: the function's and its alias's. */
  arns: string[];
  /** `path/to/file.export`, as the program gave it. */
  handler: string;
  bundling: Required<BundlingOptions>;
  exportName: string;
  runtime: string;
  timeoutSeconds: number;
  memorySize: number;
  reservedConcurrency?: number;
  environment: Record<string, string>;
  logGroupName: string;
  applicationLogLevel: string;
  /** The recorded code archive (the bundle as deployed). */
  code?: unknown;
  /** The deployment strategy AWS would shift traffic by (the strategy or the CodeDeploy config's name); locally a change takes all traffic at once. */
  deploymentStrategy?: string;
}

export interface RouteModel {
  routeKey: string;
  functionArn: string;
  auth: "jwt" | "lambda" | "iam" | "none";
  scopes: string[];
  authorizerId?: string;
}

/** A Lambda (REQUEST) authorizer: the function it invokes, and what API Gateway reads and caches. */
export interface LambdaAuthorizerModel {
  functionArn: string;
  identitySources: string[];
  resultTtlSeconds: number;
}

export interface ApiModel {
  name: string;
  apiId: string;
  routes: RouteModel[];
  authorizers: Record<string, { issuer: string; audiences: string[] }>;
  lambdaAuthorizers: Record<string, LambdaAuthorizerModel>;
}

export interface QueueModel extends QueueDefinition {
  url: string;
}

export interface MappingModel {
  name: string;
  queueArn: string;
  functionArn: string;
  batchSize: number;
  batchWindowSeconds: number;
  maxConcurrency: number;
  reportBatchItemFailures: boolean;
}

export interface TableModel {
  name: string;
  hashKey: string;
  rangeKey?: string;
  attributes: ReadonlyArray<{ name: string; type: string }>;
  globalSecondaryIndexes: ReadonlyArray<{ name: string; hashKey: string; rangeKey?: string; projectionType?: string; nonKeyAttributes?: string[] }>;
  localSecondaryIndexes: ReadonlyArray<{ name: string; rangeKey: string; projectionType?: string; nonKeyAttributes?: string[] }>;
  /** The table's stream, when it has one. */
  stream?: { arn: string; viewType: StreamViewType };
}

export interface KinesisStreamModel {
  name: string;
  arn: string;
  shardCount: number;
}

/** Shards of an on-demand Kinesis stream when it is created (AWS starts it with 4). */
const ON_DEMAND_SHARDS = 4;

/** An event source mapping on a DynamoDB or Kinesis stream, with Lambda's defaults for what the program left out. */
export interface StreamMappingModel {
  name: string;
  streamArn: string;
  functionArn: string;
  startingPosition: "LATEST" | "TRIM_HORIZON" | "AT_TIMESTAMP";
  /** With AT_TIMESTAMP: the first arrival time read, in ms. */
  startingPositionTimestampMs?: number;
  batchSize: number;
  batchWindowSeconds: number;
  parallelizationFactor: number;
  bisectOnError: boolean;
  maxRetries: number;
  maxRecordAgeSeconds: number;
  reportBatchItemFailures: boolean;
  filterPatterns: string[];
  onFailureArn?: string;
}

export interface AppModel {
  functions: FunctionModel[];
  /** The deployment runners and hooks (SecureFunction names): machinery of `pulumi up`, not the application, so neither built nor served. */
  deploymentFunctions: string[];
  apis: ApiModel[];
  /** The REST APIs (local/rest-model.ts). */
  restApis: RestApiModel[];
  queues: QueueModel[];
  mappings: MappingModel[];
  parameters: LocalParameter[];
  tables: TableModel[];
  kinesisStreams: KinesisStreamModel[];
  streamMappings: StreamMappingModel[];
}

export function readApp(recorded: RecordedResource[]): AppModel {
  const resources = recorded.map((r) => ({ ...r, inputs: revealSecrets(r.inputs), outputs: revealSecrets(r.outputs) }));
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));

  const aliases = ofType("aws:lambda/alias:Alias");
  const deploymentGroups = ofType("aws:codedeploy/deploymentGroup:DeploymentGroup");
  // Read defensively: a SecureFunction with `deployment` has a deployment group among its
  // children; its recorded inputs or outputs may also carry the strategy itself.
  const deploymentStrategyOf = (component: RecordedResource | undefined): string | undefined => {
    if (!component) return undefined;
    const declared = [component.inputs?.deployment, component.outputs?.deployment].find((d) => typeof d?.strategy === "string");
    if (declared) return String(declared.strategy);
    const group = deploymentGroups.find((g) => g.parent === component.urn);
    return group ? String(group.inputs.deploymentConfigName ?? "CodeDeployDefault.LambdaAllAtOnce") : undefined;
  };
  // A hook's recorded handler names the user's check, not the wrapper it is bundled in:
  // building it from there would make a function that is not the hook. None is built.
  const machinery = new Set([...stackGraph(resources).deploymentMachinery()].map((fn) => fn.urn));
  const componentName = (fn: RecordedResource) => (fn.parent ? byUrn.get(fn.parent)?.name : undefined) ?? fn.name;
  const deploymentFunctions = ofType("aws:lambda/function:Function").filter((fn) => machinery.has(fn.urn)).map(componentName);
  const functions: FunctionModel[] = ofType("aws:lambda/function:Function").filter((fn) => !machinery.has(fn.urn)).map((fn) => {
    const component = fn.parent ? byUrn.get(fn.parent) : undefined;
    const handler = component?.outputs.handler;
    if (typeof handler !== "string") {
      throw new Error(`Function ${fn.name} has no recorded handler: the local runtime serves SecureFunctions (their component registers its handler and bundling).`);
    }
    const inputs = fn.inputs;
    const arn: string = fn.outputs.arn;
    const deploymentStrategy = deploymentStrategyOf(component);
    return {
      name: component!.name,
      functionName: inputs.name,
      arn,
      arns: [arn, ...aliases.filter((a) => a.inputs.functionName === inputs.name).map((a) => a.outputs.arn as string)],
      handler,
      bundling: component!.outputs.bundling ?? BUNDLING_DEFAULTS,
      exportName: String(inputs.handler).split(".").pop()!,
      runtime: inputs.runtime,
      timeoutSeconds: inputs.timeout ?? 3,
      memorySize: inputs.memorySize ?? 128,
      reservedConcurrency: inputs.reservedConcurrentExecutions,
      environment: inputs.environment?.variables ?? {},
      logGroupName: inputs.loggingConfig?.logGroup ?? `/aws/lambda/${inputs.name}`,
      applicationLogLevel: inputs.loggingConfig?.applicationLogLevel ?? "INFO",
      code: inputs.code,
      ...(deploymentStrategy ? { deploymentStrategy } : {}),
    };
  });

  const integrations = new Map(ofType("aws:apigatewayv2/integration:Integration").map((i) => [i.id, i]));
  const apis: ApiModel[] = ofType("aws:apigatewayv2/api:Api").map((api) => {
    const apiId = api.id;
    const authorizers = Object.fromEntries(ofType("aws:apigatewayv2/authorizer:Authorizer")
      .filter((a) => a.inputs.apiId === apiId && a.inputs.authorizerType === "JWT")
      .map((a) => [a.id, { issuer: a.inputs.jwtConfiguration.issuer, audiences: a.inputs.jwtConfiguration.audiences ?? [] }]));
    const lambdaAuthorizers = Object.fromEntries(ofType("aws:apigatewayv2/authorizer:Authorizer")
      .filter((a) => a.inputs.apiId === apiId && a.inputs.authorizerType === "REQUEST")
      .map((a): [string, LambdaAuthorizerModel] => {
        if (a.inputs.authorizerPayloadFormatVersion !== "2.0" || a.inputs.enableSimpleResponses !== true) {
          throw new Error(`Authorizer ${a.name} is not a payload 2.0 authorizer with simple responses; the local runtime serves only those.`);
        }
        const functionArn = invokedFunctionArn(a.inputs.authorizerUri);
        if (!functionArn) throw new Error(`Authorizer ${a.name} does not invoke a Lambda function (${a.inputs.authorizerUri}).`);
        return [a.id, { functionArn, identitySources: a.inputs.identitySources ?? [], resultTtlSeconds: a.inputs.authorizerResultTtlInSeconds ?? DEFAULT_AUTHORIZER_TTL_SECONDS }];
      }));
    const routes = ofType("aws:apigatewayv2/route:Route").filter((r) => r.inputs.apiId === apiId).map((route): RouteModel => {
      const integrationId = String(route.inputs.target ?? "").replace(/^integrations\//, "");
      const integration = integrations.get(integrationId);
      if (!integration || integration.inputs.integrationType !== "AWS_PROXY") {
        throw new Error(`Route ${route.inputs.routeKey} does not target a Lambda proxy integration; the local runtime serves only those.`);
      }
      const type = route.inputs.authorizationType ?? "NONE";
      return {
        routeKey: route.inputs.routeKey,
        functionArn: integration.inputs.integrationUri,
        auth: type === "JWT" ? "jwt" : type === "CUSTOM" ? "lambda" : type === "AWS_IAM" ? "iam" : "none",
        scopes: route.inputs.authorizationScopes ?? [],
        authorizerId: route.inputs.authorizerId,
      };
    });
    return { name: api.name, apiId, routes, authorizers, lambdaAuthorizers };
  });

  const queues: QueueModel[] = ofType("aws:sqs/queue:Queue").map((q) => ({
    name: q.inputs.name ?? q.outputs.name,
    arn: q.outputs.arn,
    url: q.outputs.url,
    visibilityTimeoutSeconds: q.inputs.visibilityTimeoutSeconds,
    messageRetentionSeconds: q.inputs.messageRetentionSeconds,
    delaySeconds: q.inputs.delaySeconds,
    fifo: q.inputs.fifoQueue === true,
    ...(q.inputs.redrivePolicy ? { redrivePolicy: JSON.parse(q.inputs.redrivePolicy) } : {}),
  }));

  const mappings: MappingModel[] = ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
    .filter((m) => /^arn:[^:]+:sqs:/.test(String(m.inputs.eventSourceArn)))
    .map((m) => ({
      name: m.name,
      queueArn: m.inputs.eventSourceArn,
      functionArn: m.inputs.functionName,
      batchSize: m.inputs.batchSize ?? 10,
      batchWindowSeconds: m.inputs.maximumBatchingWindowInSeconds ?? 0,
      maxConcurrency: m.inputs.scalingConfig?.maximumConcurrency ?? 2,
      reportBatchItemFailures: (m.inputs.functionResponseTypes ?? []).includes("ReportBatchItemFailures"),
    }));

  const parameters: LocalParameter[] = ofType("aws:ssm/parameter:Parameter").map((p) => ({
    name: p.inputs.name, type: p.inputs.type, value: String(p.inputs.value),
    ...(typeof p.inputs.keyId === "string" ? { keyId: p.inputs.keyId } : {}),
  }));

  const tables: TableModel[] = ofType("aws:dynamodb/table:Table").map((t) => ({
    name: t.inputs.name,
    hashKey: t.inputs.hashKey,
    rangeKey: t.inputs.rangeKey,
    attributes: t.inputs.attributes ?? [],
    globalSecondaryIndexes: t.inputs.globalSecondaryIndexes ?? [],
    localSecondaryIndexes: t.inputs.localSecondaryIndexes ?? [],
    ...(t.inputs.streamEnabled ? { stream: { arn: t.outputs.streamArn, viewType: t.inputs.streamViewType ?? "NEW_AND_OLD_IMAGES" } } : {}),
  }));

  // Streams (DynamoDB Streams, Kinesis) and the mappings that read them.
  const kinesisStreams: KinesisStreamModel[] = ofType("aws:kinesis/stream:Stream").map((s) => ({
    name: s.outputs.name ?? s.inputs.name ?? String(s.outputs.arn).split("/").pop(),
    arn: s.outputs.arn,
    shardCount: s.inputs.streamModeDetails?.streamMode === "ON_DEMAND" ? ON_DEMAND_SHARDS : s.inputs.shardCount ?? 1,
  }));
  const streamMappings: StreamMappingModel[] = ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
    .filter((m) => /^arn:[^:]+:(dynamodb|kinesis):/.test(String(m.inputs.eventSourceArn)))
    .map((m) => ({
      name: m.name,
      streamArn: m.inputs.eventSourceArn,
      functionArn: m.inputs.functionName,
      startingPosition: m.inputs.startingPosition === "TRIM_HORIZON" || m.inputs.startingPosition === "AT_TIMESTAMP" ? m.inputs.startingPosition : "LATEST",
      ...(m.inputs.startingPosition === "AT_TIMESTAMP" ? { startingPositionTimestampMs: Date.parse(m.inputs.startingPositionTimestamp) } : {}),
      batchSize: m.inputs.batchSize ?? 100,
      batchWindowSeconds: m.inputs.maximumBatchingWindowInSeconds ?? 0,
      parallelizationFactor: m.inputs.parallelizationFactor ?? 1,
      bisectOnError: m.inputs.bisectBatchOnFunctionError === true,
      maxRetries: m.inputs.maximumRetryAttempts ?? -1,
      maxRecordAgeSeconds: m.inputs.maximumRecordAgeInSeconds ?? -1,
      reportBatchItemFailures: (m.inputs.functionResponseTypes ?? []).includes("ReportBatchItemFailures"),
      filterPatterns: (m.inputs.filterCriteria?.filters ?? []).map((f: { pattern: string }) => f.pattern),
      ...(m.inputs.destinationConfig?.onFailure?.destinationArn ? { onFailureArn: m.inputs.destinationConfig.onFailure.destinationArn } : {}),
    }));

  return { functions, deploymentFunctions, apis, restApis: readRestApis(resources), queues, mappings, parameters, tables, kinesisStreams, streamMappings };
}

/**
 * The one line that says which functions' deployment strategies the local runtime ignores,
 * and which deployment runners and hooks it neither builds nor serves, when there are any.
 */
export function describeIgnoredDeployments(app: Pick<AppModel, "functions" | "deploymentFunctions">): string | undefined {
  const deployed = app.functions.filter((fn) => fn.deploymentStrategy);
  if (deployed.length === 0 && app.deploymentFunctions.length === 0) return undefined;
  const strategies = deployed.length > 0 ? `: ${deployed.map((fn) => `${fn.name} (${fn.deploymentStrategy})`).join(", ")}` : "";
  const machinery = app.deploymentFunctions.length > 0 ? `; their runners and hooks are deployment machinery, neither built nor served: ${app.deploymentFunctions.join(", ")}` : "";
  return `deployment strategies are ignored locally (new code takes all traffic at once; no hooks, no alarm rollback)${strategies}${machinery}.`;
}

/** The function a caller's ARN (function or alias) names. */
export function functionForArn(app: AppModel, arn: string): FunctionModel {
  const found = app.functions.find((fn) => fn.arns.includes(arn));
  if (!found) throw new Error(`No function has ARN ${arn}`);
  return found;
}
