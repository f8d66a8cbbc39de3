/**
 * How the plan shows resources: short type names, the settings a reviewer cares about,
 * and resources in tree order under their parents.
 */
import { describeTrafficShift, Graph, invokedFunctionArn, trafficShiftOf } from "../policy/graph";
import { parseFunctionReference, statementsOf, TAGGABLE_TYPES } from "../policy/rules";
import { isSecretValue, RecordedResource } from "./mock-engine";

/** What a stack creates: everything it registered but the root stack resource. */
export function plannedResources(resources: RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
}

/** How the plan writes a value the program marked secret: that there is one, never what. */
export const SECRET_SHOWN = "[secret]";

/** `value` with every value marked secret, at any depth, written SECRET_SHOWN. */
export function withSecretsHidden(value: unknown): unknown {
  if (isSecretValue(value)) return SECRET_SHOWN;
  if (Array.isArray(value)) return value.map(withSecretsHidden);
  if (value && typeof value === "object" && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, withSecretsHidden(field)]));
  }
  return value;
}

/** `aws:lambda/function:Function` -> `lambda:Function`; component tokens lose `index`. */
export function shortType(type: string): string {
  const [pkg, module, kind] = type.split(":");
  if (pkg === "aws") return `${module.split("/")[0]}:${kind}`;
  if (pkg === "pulumi") return kind;
  return module === "index" ? kind : `${pkg}:${kind}`;
}

const seconds = (value: unknown) => (value === undefined ? undefined : `${value}s`);
/** `...:function:orders:live` -> `orders:live`, `...:function:orders` -> `orders`. */
function functionTarget(reference: unknown): string | undefined {
  const { name, qualifier } = parseFunctionReference(reference);
  return name === undefined ? undefined : `${name}${qualifier ? `:${qualifier}` : ""}`;
}
/** The last part of an ARN: a queue's or topic's name. */
const arnName = (arn: unknown) => (arn === undefined ? undefined : String(arn).split(/[:/]/).pop());
/** A JSON document (an event pattern, a filter policy) without spaces, so it stays one setting. */
const compactJson = (text: unknown) => (typeof text === "string" && text !== "" ? JSON.stringify(JSON.parse(text)) : undefined);
/** AWS's -1 is "forever": shown as such, unset as AWS's default. */
const bounded = (value: unknown) => (value === -1 ? "forever" : value);
/** The retry and dead-letter settings of an EventBridge target or a schedule's target. */
const deliverySettings = (target: any) => ({
  retries: target?.retryPolicy?.maximumRetryAttempts, maxAge: seconds(target?.retryPolicy?.maximumEventAgeInSeconds), dlq: arnName(target?.deadLetterConfig?.arn) ?? "none",
});

/**
 * The settings of a resource that a reviewer cares about, as `key=value` pairs; with the
 * stack's graph (tools/policy-check.ts's stackGraph), those it takes from other resources
 * too (a REST method's path).
 */
export function keySettings(resource: RecordedResource, graph?: Graph): string {
  // Hidden first, so no setting shown can be a secret.
  const i = withSecretsHidden(resource.inputs) as Record<string, any>;
  const pairs: Record<string, unknown> = {};
  switch (resource.type) {
    case "aws:lambda/function:Function":
      Object.assign(pairs, {
        memory: `${i.memorySize}MB`, timeout: seconds(i.timeout), arch: i.architectures?.[0], runtime: i.runtime,
        reserved: i.reservedConcurrentExecutions, tracing: i.tracingConfig?.mode, vpc: i.vpcConfig ? "yes" : undefined,
      });
      break;
    case "aws:lambda/alias:Alias": pairs.alias = i.name; break;
    case "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig":
      Object.assign(pairs, { provisioned: i.provisionedConcurrentExecutions, qualifier: i.qualifier });
      break;
    case "aws:lambda/permission:Permission": Object.assign(pairs, { principal: i.principal, qualifier: i.qualifier, sourceArn: i.sourceArn, sourceAccount: i.sourceAccount }); break;
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      Object.assign(pairs, {
        batch: i.batchSize, window: seconds(i.maximumBatchingWindowInSeconds), maxConcurrency: i.scalingConfig?.maximumConcurrency,
        partialFailures: i.functionResponseTypes?.includes("ReportBatchItemFailures") ? "yes" : "no", target: functionTarget(i.functionName),
      });
      // Streams: where to start, how a failing batch is retried, and where it ends.
      if (i.startingPosition !== undefined) {
        Object.assign(pairs, {
          start: i.startingPosition, parallel: i.parallelizationFactor, bisect: i.bisectBatchOnFunctionError ? "yes" : "no",
          retries: bounded(i.maximumRetryAttempts) ?? "forever", maxAge: i.maximumRecordAgeInSeconds === undefined || i.maximumRecordAgeInSeconds === -1 ? "forever" : seconds(i.maximumRecordAgeInSeconds),
          onFailure: arnName(i.destinationConfig?.onFailure?.destinationArn) ?? "none", filters: i.filterCriteria?.filters?.length,
        });
      }
      break;
    case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig":
      Object.assign(pairs, {
        qualifier: i.qualifier ?? "$LATEST", retries: i.maximumRetryAttempts, maxAge: seconds(i.maximumEventAgeInSeconds),
        onFailure: arnName(i.destinationConfig?.onFailure?.destination) ?? "none", onSuccess: arnName(i.destinationConfig?.onSuccess?.destination),
      });
      break;
    case "aws:sns/topicSubscription:TopicSubscription":
      Object.assign(pairs, { protocol: i.protocol, topic: arnName(i.topic), endpoint: i.protocol === "lambda" ? functionTarget(i.endpoint) : undefined, filter: compactJson(i.filterPolicy), filterScope: i.filterPolicy ? i.filterPolicyScope ?? "MessageAttributes" : undefined });
      break;
    case "aws:cloudwatch/eventRule:EventRule": Object.assign(pairs, { bus: i.eventBusName ?? "default", pattern: compactJson(i.eventPattern), schedule: i.scheduleExpression }); break;
    case "aws:cloudwatch/eventTarget:EventTarget": Object.assign(pairs, { rule: i.rule, target: functionTarget(i.arn), ...deliverySettings(i) }); break;
    case "aws:scheduler/schedule:Schedule":
      Object.assign(pairs, { expression: i.scheduleExpression, timezone: i.scheduleExpressionTimezone, window: i.flexibleTimeWindow?.mode, target: functionTarget(i.target?.arn), ...deliverySettings(i.target) });
      break;
    case "aws:s3/bucketNotification:BucketNotification":
      Object.assign(pairs, {
        bucket: i.bucket,
        lambdas: (i.lambdaFunctions ?? []).map((f: any) => `${functionTarget(f.lambdaFunctionArn)}[${(f.events ?? []).join("|")}${f.filterPrefix || f.filterSuffix ? ` ${f.filterPrefix ?? ""}*${f.filterSuffix ?? ""}` : ""}]`).join(","),
      });
      break;
    case "aws:kinesis/stream:Stream": Object.assign(pairs, { shards: i.shardCount ?? "on-demand", retention: i.retentionPeriod === undefined ? undefined : `${i.retentionPeriod}h`, encryption: i.encryptionType ?? "NONE" }); break;
    case "aws:apigatewayv2/route:Route": Object.assign(pairs, { route: i.routeKey, auth: i.authorizationType }); break;
    case "aws:apigatewayv2/stage:Stage":
      Object.assign(pairs, { rate: i.defaultRouteSettings?.throttlingRateLimit, burst: i.defaultRouteSettings?.throttlingBurstLimit, accessLogs: i.accessLogSettings ? "json" : "none" });
      break;
    case "aws:apigatewayv2/integration:Integration": Object.assign(pairs, { type: i.integrationType, payload: i.payloadFormatVersion, target: functionTarget(i.integrationUri) }); break;
    case "aws:apigatewayv2/authorizer:Authorizer": Object.assign(pairs, { type: i.authorizerType, issuer: i.jwtConfiguration?.issuer }); break;
    case "aws:apigatewayv2/domainName:DomainName":
      Object.assign(pairs, { domain: i.domainName, tls: i.domainNameConfiguration?.securityPolicy, endpoint: i.domainNameConfiguration?.endpointType });
      break;
    case "aws:apigatewayv2/apiMapping:ApiMapping": Object.assign(pairs, { basePath: i.apiMappingKey ?? "(root)", stage: i.stage }); break;
    // REST APIs: what ServerlessApi's rows show, and what only REST has (keys, plans, validation, WAF).
    case "aws:apigateway/restApi:RestApi": Object.assign(pairs, { endpoint: [i.endpointConfiguration?.types].flat()[0], policy: i.policy ? "yes" : undefined }); break;
    case "aws:apigateway/resource:Resource": pairs.pathPart = i.pathPart; break;
    case "aws:apigateway/method:Method":
      Object.assign(pairs, {
        route: `${i.httpMethod} ${graph?.restPathOf(i.restApi, i.resourceId) ?? "(path unknown)"}`, auth: i.authorization, scopes: i.authorizationScopes?.join(","), apiKey: i.apiKeyRequired ? "required" : undefined,
        schema: i.requestModels ? Object.keys(i.requestModels).join(",") : undefined,
        parameters: i.requestParameters ? Object.entries(i.requestParameters).map(([name, required]) => `${name.replace(/^method\.request\./, "")}${required ? "" : "?"}`).join(",") : undefined,
      });
      break;
    case "aws:apigateway/integration:Integration":
      Object.assign(pairs, { method: i.httpMethod, type: i.type, target: functionTarget(i.uri), timeout: i.timeoutMilliseconds === undefined ? undefined : `${i.timeoutMilliseconds / 1000}s` });
      break;
    case "aws:apigateway/authorizer:Authorizer":
      Object.assign(pairs, {
        type: i.type, identity: i.identitySource, ttl: i.type === "COGNITO_USER_POOLS" ? undefined : seconds(i.authorizerResultTtlInSeconds ?? 300),
        target: functionTarget(invokedFunctionArn(i.authorizerUri)), pools: i.providerArns?.length,
      });
      break;
    case "aws:apigateway/model:Model": pairs.contentType = i.contentType; break;
    case "aws:apigateway/requestValidator:RequestValidator": Object.assign(pairs, { body: i.validateRequestBody ? "yes" : "no", parameters: i.validateRequestParameters ? "yes" : "no" }); break;
    case "aws:apigateway/stage:Stage":
      Object.assign(pairs, { stage: i.stageName, tracing: i.xrayTracingEnabled ? "on" : "off", accessLogs: i.accessLogSettings ? "json" : "none" });
      break;
    case "aws:apigateway/methodSettings:MethodSettings":
      Object.assign(pairs, { path: i.methodPath, rate: i.settings?.throttlingRateLimit, burst: i.settings?.throttlingBurstLimit, metrics: i.settings?.metricsEnabled ? "on" : "off" });
      break;
    case "aws:apigateway/usagePlan:UsagePlan":
      Object.assign(pairs, {
        rate: i.throttleSettings?.rateLimit ?? "stage", burst: i.throttleSettings?.burstLimit,
        quota: i.quotaSettings ? `${i.quotaSettings.limit}/${i.quotaSettings.period}${i.quotaSettings.offset ? `+${i.quotaSettings.offset}` : ""}` : "none",
      });
      break;
    case "aws:apigateway/apiKey:ApiKey": pairs.enabled = i.enabled === false ? "no" : "yes"; break;
    case "aws:apigateway/domainName:DomainName": Object.assign(pairs, { domain: i.domainName, tls: i.securityPolicy, endpoint: [i.endpointConfiguration?.types].flat()[0] }); break;
    case "aws:apigateway/basePathMapping:BasePathMapping": Object.assign(pairs, { basePath: i.basePath ?? "(root)", stage: i.stageName }); break;
    case "aws:wafv2/webAcl:WebAcl":
      Object.assign(pairs, {
        scope: i.scope,
        rules: (i.rules ?? []).map((rule: any) => `${rule.name}${rule.statement?.rateBasedStatement ? `(${rule.statement.rateBasedStatement.limit}/${seconds(rule.statement.rateBasedStatement.evaluationWindowSec ?? 300)} per ${rule.statement.rateBasedStatement.aggregateKeyType})` : ""}`).join(","),
      });
      break;
    case "aws:sqs/queue:Queue":
      Object.assign(pairs, {
        visibility: seconds(i.visibilityTimeoutSeconds), retention: seconds(i.messageRetentionSeconds), fifo: i.fifoQueue ? "yes" : undefined,
        encrypted: i.sqsManagedSseEnabled ? "sse-sqs" : i.kmsMasterKeyId ?? "no", maxReceives: i.redrivePolicy ? JSON.parse(i.redrivePolicy).maxReceiveCount : undefined,
      });
      break;
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      Object.assign(pairs, { metric: i.metricName, stat: i.extendedStatistic ?? i.statistic, threshold: i.threshold, actions: (i.alarmActions ?? []).length });
      break;
    case "aws:cloudwatch/logGroup:LogGroup": Object.assign(pairs, { name: i.name, retention: `${i.retentionInDays}d` }); break;
    case "aws:ssm/parameter:Parameter": Object.assign(pairs, { name: i.name, type: i.type }); break;
    case "aws:iam/role:Role": pairs.trusts = statementsOf(i.assumeRolePolicy).flatMap((s) => [(s.Principal as any)?.Service ?? []].flat()).join(","); break;
    case "aws:iam/rolePolicy:RolePolicy": pairs.actions = statementsOf(i.policy).flatMap((s) => s.Action ?? []).join(","); break;
    case "aws:dynamodb/table:Table":
      Object.assign(pairs, { billing: i.billingMode, pitr: i.pointInTimeRecovery?.enabled ? "on" : "off", deletionProtection: i.deletionProtectionEnabled ? "on" : "off", gsi: (i.globalSecondaryIndexes ?? []).map((g: any) => g.name).join(","), stream: i.streamEnabled ? i.streamViewType : undefined });
      break;
    case "aws:ec2/vpcEndpoint:VpcEndpoint": Object.assign(pairs, { service: String(i.serviceName).split(".").pop(), type: i.vpcEndpointType }); break;
    case "awsx:ec2:Vpc": Object.assign(pairs, { cidr: i.cidrBlock, zones: i.numberOfAvailabilityZones, nat: i.natGateways?.strategy }); break;
  }
  if (resource.protect) pairs.protect = "yes";
  return Object.entries(pairs).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `${k}=${v}`).join(" ");
}

/** Rows as aligned columns; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join("  ")).join("\n");
}

/** Resources depth-first under their parents (children indented), in registration order. */
export function treeOrder(resources: RecordedResource[]): Array<{ resource: RecordedResource; depth: number }> {
  const urns = new Set(resources.map((r) => r.urn));
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const resource of resources) {
    const parent = resource.parent && urns.has(resource.parent) ? resource.parent : undefined;
    children.set(parent, [...(children.get(parent) ?? []), resource]);
  }
  const ordered: Array<{ resource: RecordedResource; depth: number }> = [];
  const visit = (parent: string | undefined, depth: number) => {
    for (const resource of children.get(parent) ?? []) {
      ordered.push({ resource, depth });
      visit(resource.urn, depth + 1);
    }
  };
  visit(undefined, 0);
  return ordered;
}

/** The tags of the stack's taggable resources, each set once: what they all carry, then each set beyond that with how many carry it. */
export interface TagSummary {
  /** Taggable resources (of the types in policy/rules.ts). */
  taggable: number;
  /** Tags every taggable resource carries, as `key=value`. */
  common: string[];
  /** The rest of each resource's tags (`component=...` and any others), with how many resources carry that set. */
  sets: Array<{ tags: string; resources: number }>;
  /** Taggable resources with no tags at all. */
  untagged: string[];
}

const tagPairs = (tags: unknown) => Object.entries((withSecretsHidden(tags) ?? {}) as Record<string, unknown>).map(([key, value]) => `${key}=${value}`);

export function tagSummary(resources: RecordedResource[]): TagSummary {
  const taggable = resources.filter((r) => TAGGABLE_TYPES.includes(r.type)).map((r) => ({ r, pairs: tagPairs(r.inputs.tags) }));
  const tagged = taggable.filter(({ pairs }) => pairs.length > 0);
  const common = tagged.length === 0 ? [] : tagged[0].pairs.filter((pair) => tagged.every(({ pairs }) => pairs.includes(pair)));
  const sets = new Map<string, number>();
  for (const { pairs } of tagged) {
    const rest = pairs.filter((pair) => !common.includes(pair)).join(" ");
    sets.set(rest, (sets.get(rest) ?? 0) + 1);
  }
  return {
    taggable: taggable.length,
    common,
    sets: [...sets].map(([tags, count]) => ({ tags, resources: count })),
    untagged: taggable.filter(({ pairs }) => pairs.length === 0).map(({ r }) => `${shortType(r.type)} ${r.name}`),
  };
}

/** One function's safe deployment, as a reviewer reads it. */
export interface DeploymentSummary {
  /** The deployed function's component name (its SecureFunction's), or its resource name. */
  function: string;
  alias?: string;
  /** "canary 10% for 5 min", "linear 10% every 1 min", "all at once". */
  strategy: string;
  configName?: string;
  /** "before-traffic handlers/deploy/health-check.check": each hook's event and the check it runs. */
  hooks: string[];
  /** The alarm names that roll a deployment back. */
  alarms: string[];
}

/** Every safe deployment of the stack, read through the graph's deployments. */
export function deploymentSummaries(graph: Graph): DeploymentSummary[] {
  return graph.deployments().map((d) => ({
    function: (d.function && (d.function.parent?.type.endsWith(":SecureFunction") ? d.function.parent.name : d.function.name)) ?? "(unknown)",
    alias: d.alias?.props.name,
    strategy: describeTrafficShift(trafficShiftOf(d.configName, d.config)),
    configName: d.configName,
    hooks: d.hooks.map((h) => `${h.event === "BeforeAllowTraffic" ? "before" : "after"}-traffic ${h.function?.parent?.props.handler ?? h.functionName}`),
    alarms: (d.group?.props.alarmConfiguration?.alarms ?? []).map(String),
  }));
}

/** `orders-api: canary 10% for 5 min (CodeDeployDefault...), before-traffic <check>, rolls back on 4 alarms`. */
export function describeDeployment(summary: DeploymentSummary): string {
  return [
    `${summary.function}${summary.alias ? `:${summary.alias}` : ""}: ${summary.strategy}${summary.configName ? ` (${summary.configName})` : ""}`,
    ...summary.hooks,
    `rolls back on ${summary.alarms.length} alarm${summary.alarms.length === 1 ? "" : "s"}${summary.alarms.length ? ` (${summary.alarms.join(", ")})` : ""}`,
  ].join(", ");
}
