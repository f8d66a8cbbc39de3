/**
 * A stack's monthly cost: the recorded resources read through the one graph model
 * (policy/graph.ts via tools/policy-check.ts's stackGraph), each priced from the region's
 * table (prices.ts) at the stack's traffic (traffic.ts). Every line item says what it
 * bills, how much of it, at what unit price; fixed items (billed whether used or not) are
 * kept apart from traffic. A custom resource of a type this file neither prices nor knows
 * to be free is listed as unpriced, never silently left out.
 */
import type { PolicyResource } from "@pulumi/policy";
import { Graph, TYPES } from "../../policy/graph";
import { RecordedResource } from "../mock-engine";
import { shortType } from "../plan-format";
import { stackGraph } from "../policy-check";
import { HOURS_PER_MONTH, PRICES_CHECKED, PriceSource, pricesFor, RegionPrices, tieredCost } from "./prices";
import type { StackConfig } from "../stack-config";
import { configKeyOf, readTraffic, TrafficModel } from "./traffic";

/** Type tokens priced here beyond policy/graph.ts's TYPES (registered by no component yet). */
const COST_TYPES = {
  hostedZone: "aws:route53/zone:Zone",
  eventBus: "aws:cloudwatch/eventBus:EventBus",
} as const;

/**
 * Types that cost nothing themselves: configuration, permissions, wiring, or billed
 * through another line (a log group through what writes to it, a provisioned concurrency
 * config on its function, ACM's public certificates and CodeDeploy's Lambda deployments free).
 */
const FREE_TYPES = new Set<string>([
  TYPES.role, TYPES.rolePolicy, TYPES.policy, TYPES.rolePolicyAttachment, TYPES.policyAttachment,
  TYPES.alias, TYPES.permission, TYPES.provisionedConcurrency, TYPES.eventInvokeConfig, TYPES.eventSourceMapping,
  TYPES.logGroup, TYPES.eventRule, TYPES.eventTarget, TYPES.route, TYPES.integration, TYPES.authorizer, TYPES.stage,
  TYPES.queuePolicy, TYPES.redrivePolicy, TYPES.topicSubscription, TYPES.topicPolicy, TYPES.bucketNotification,
  TYPES.securityGroup, TYPES.flowLog, TYPES.ec2Vpc, TYPES.vpc, TYPES.restStage,
  TYPES.restMethod, TYPES.restResource, TYPES.restIntegration, TYPES.webAclAssociation, TYPES.invocation,
  "aws:lambda/layerVersion:LayerVersion", "aws:kms/alias:Alias", "aws:kms/grant:Grant",
  "aws:cognito/userPoolClient:UserPoolClient", "aws:cognito/userPoolDomain:UserPoolDomain", "aws:cognito/resourceServer:ResourceServer",
  TYPES.domainName, TYPES.apiMapping,
  "aws:apigateway/deployment:Deployment", TYPES.restUsagePlan, TYPES.restApiKey,
  TYPES.restUsagePlanKey, TYPES.restMethodSettings, "aws:apigateway/account:Account",
  TYPES.restBasePathMapping, TYPES.restDomainName, TYPES.restAuthorizer,
  "aws:apigateway/integrationResponse:IntegrationResponse", "aws:apigateway/methodResponse:MethodResponse",
  "aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation", "aws:route53/record:Record",
  TYPES.deploymentApplication, TYPES.deploymentGroup, TYPES.deploymentConfig,
  "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:ec2/securityGroupRule:SecurityGroupRule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
]);

export interface LineItem {
  /** The outermost component the resource belongs to, or "stack" for a top-level resource. */
  component: string;
  resource: string;
  /** Short type (`lambda:Function`). */
  type: string;
  /** What is billed: "requests", "duration (arm64)", "provisioned concurrency". */
  item: string;
  unit: string;
  quantity: number;
  /** Dollars per unit; for a tiered price, what the quantity costs on average. */
  unitPrice: number;
  monthly: number;
  /** Billed whether used or not (provisioned concurrency, endpoints, keys, alarms, web ACLs). */
  fixed: boolean;
  source: PriceSource;
}

export interface CostEstimate {
  project: string;
  stack: string;
  region: string;
  currency: "USD";
  pricesChecked: string;
  freeTierApplied: false;
  items: LineItem[];
  /** Custom resources whose type has no price here and is not known to be free. */
  unpriced: Array<{ type: string; name: string }>;
  notes: string[];
}

/** How one function is used: the basis of its Lambda lines and of the memory recommendation. */
export interface FunctionUsage {
  function: PolicyResource;
  name: string;
  memoryMb: number;
  architecture: "x86_64" | "arm64";
  invocations: number;
  durationMs: number;
  initDurationMs: number;
  coldStartPercent: number;
  /** Provisioned concurrency across its qualifiers. */
  provisioned: number;
  inVpc: boolean;
}

const GB = 1024 ** 3;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
/** Units of `chunk` bytes a message of `bytes` is billed as (SQS, SNS, EventBridge: 64 KB; HTTP API: 512 KB). */
const chunks = (bytes: number, chunk: number) => Math.max(1, Math.ceil(bytes / chunk));
const KB64 = 64 * 1024;

/** Collects line items against the graph's components. */
class Ledger {
  readonly items: LineItem[] = [];
  constructor(private readonly graph: Graph) {}
  add(resource: PolicyResource, item: Omit<LineItem, "component" | "resource" | "type" | "monthly"> & { monthly?: number }): void {
    const monthly = item.monthly ?? item.quantity * item.unitPrice;
    if (item.quantity <= 0 && monthly === 0) return;
    this.items.push({
      component: this.graph.componentOf(resource)?.name ?? "stack", resource: resource.name, type: shortType(resource.type),
      ...item, unitPrice: item.quantity > 0 ? monthly / item.quantity : item.unitPrice, monthly,
    });
  }
}

/** `GET /orders/{orderId}` style keys of a REST API's methods: method and the resource's path. */
const restRouteKey = (graph: Graph, method: PolicyResource) => `${method.props.httpMethod} ${graph.restPathOf(method.props.restApi, method.props.resourceId) ?? "(path unknown)"}`;

/** Requests per month of each route (HTTP API route keys, REST API methods), with the API it belongs to. */
function routeRequests(graph: Graph, traffic: TrafficModel): Array<{ route: PolicyResource; key: string; api?: PolicyResource; requests: number }> {
  const http = graph.of(TYPES.route).map((route) => {
    const api = graph.of(TYPES.api).find((a) => a.props.id === route.props.apiId);
    return { route, key: String(route.props.routeKey), api, requests: traffic.get("requestsPerMonth", route.props.routeKey) };
  });
  const rest = graph.of(TYPES.restMethod).map((method) => {
    const key = restRouteKey(graph, method);
    const api = graph.of(TYPES.restApi).find((a) => a.props.id === method.props.restApi);
    return { route: method, key, api, requests: traffic.get("requestsPerMonth", key) };
  });
  return [...http, ...rest];
}

/** How often each function runs: its routes, authorizers, queues, streams and async sources, or the model's override. */
export function functionUsages(graph: Graph, traffic: TrafficModel): FunctionUsage[] {
  const invocations = new Map<PolicyResource, number>();
  const add = (fn: PolicyResource | undefined, count: number) => fn && invocations.set(fn, (invocations.get(fn) ?? 0) + count);
  const routes = routeRequests(graph, traffic);
  for (const { route, requests } of routes) {
    if (route.type === TYPES.route) {
      const integration = graph.of(TYPES.integration).find((i) => route.props.target === `integrations/${i.props.id}`);
      add(graph.functionFor(integration?.props.integrationUri), requests);
      if (route.props.authorizationType === "CUSTOM") {
        add(graph.functionFor(graph.of(TYPES.authorizer).find((a) => a.props.id === route.props.authorizerId)?.props.authorizerUri), requests);
      }
    } else {
      const integration = graph.of(TYPES.restIntegration).find((i) => i.props.restApi === route.props.restApi && i.props.resourceId === route.props.resourceId && i.props.httpMethod === route.props.httpMethod);
      add(graph.functionFor(integration?.props.uri), requests);
      if (route.props.authorization === "CUSTOM") {
        add(graph.functionFor(graph.of(TYPES.restAuthorizer).find((a) => a.props.id === route.props.authorizerId)?.props.authorizerUri), requests);
      }
    }
  }
  for (const mapping of graph.of(TYPES.eventSourceMapping)) {
    const source = sourceOfMapping(graph, mapping);
    const records = source ? traffic.get("messagesPerMonth", source.name) : 0;
    add(graph.functionFor(mapping.props.functionName), records / Math.max(1, Number(mapping.props.batchSize ?? 10)));
  }
  for (const { function: fn, source } of graph.asyncInvocations()) {
    if (source.type === TYPES.permission) continue; // the subscription, target, schedule or notification counts it
    add(fn, asyncEvents(graph, source, traffic));
  }
  return graph.of(TYPES.function).map((fn) => {
    const name = fn.name;
    const provisioned = graph.of(TYPES.provisionedConcurrency)
      .filter((p) => graph.functionFor(p.props.functionName) === fn)
      .reduce((sum, p) => sum + Number(p.props.provisionedConcurrentExecutions ?? 0), 0);
    return {
      function: fn, name, provisioned,
      memoryMb: Number(fn.props.memorySize ?? 128),
      architecture: fn.props.architectures?.[0] === "arm64" ? "arm64" : "x86_64",
      invocations: traffic.names("invocationsPerMonth", name) ? traffic.get("invocationsPerMonth", name) : invocations.get(fn) ?? 0,
      durationMs: traffic.get("durationMs", name),
      initDurationMs: traffic.get("initDurationMs", name),
      coldStartPercent: traffic.get("coldStartPercent", name),
      inVpc: fn.props.vpcConfig !== undefined && fn.props.vpcConfig !== null,
    };
  });
}

/** The queue, table (its stream) or Kinesis stream a mapping polls. */
function sourceOfMapping(graph: Graph, mapping: PolicyResource): PolicyResource | undefined {
  const arn = mapping.props.eventSourceArn;
  return graph.withArn(arn) ?? graph.of(TYPES.table).find((t) => t.props.streamArn === arn);
}

/** Events per month an async source delivers: its topic's messages, its rule's events, its schedule's runs, its bucket's objects. */
function asyncEvents(graph: Graph, source: PolicyResource, traffic: TrafficModel): number {
  if (source.type === TYPES.schedule) return scheduleRuns(source, traffic);
  if (source.type === TYPES.eventTarget) {
    const rule = graph.withArn(graph.invokerArnOf(source));
    return rule?.props.scheduleExpression ? scheduleRuns(rule, traffic) : traffic.get("messagesPerMonth", rule?.name);
  }
  return traffic.get("messagesPerMonth", graph.withArn(graph.invokerArnOf(source))?.name);
}

/** Runs per month of `rate(<n> <unit>)`; a cron expression needs its count in the traffic model. */
function scheduleRuns(resource: PolicyResource, traffic: TrafficModel): number {
  if (traffic.names("messagesPerMonth", resource.name)) return traffic.get("messagesPerMonth", resource.name);
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(String(resource.props.scheduleExpression ?? ""));
  if (!rate) return traffic.get("messagesPerMonth", resource.name);
  const unitSeconds = rate[2].startsWith("minute") ? 60 : rate[2].startsWith("hour") ? 3600 : 86400;
  return SECONDS_PER_MONTH / (Number(rate[1]) * unitSeconds);
}

/** Lambda lines: requests, duration (on demand and on provisioned concurrency), init, provisioned concurrency. */
function priceFunctions(ledger: Ledger, usages: FunctionUsage[], prices: RegionPrices): void {
  // Duration tiers apply to the architecture's GB-seconds across the stack (AWS counts the account's).
  const onDemand = usages.map((u) => {
    const gb = u.memoryMb / 1024;
    const capacity = u.provisioned * gb * SECONDS_PER_MONTH;
    const used = u.invocations * (Math.ceil(u.durationMs) / 1000) * gb;
    const onProvisioned = Math.min(used, capacity);
    const coldInvocations = u.provisioned > 0 ? 0 : u.invocations * (u.coldStartPercent / 100);
    return { u, capacity, onProvisioned, duration: used - onProvisioned, init: coldInvocations * (Math.ceil(u.initDurationMs) / 1000) * gb, coldInvocations };
  });
  const perArchitecture = (arch: string) => onDemand.filter((d) => d.u.architecture === arch).reduce((sum, d) => sum + d.duration + d.init, 0);
  const averagePrice = (arch: "x86_64" | "arm64") => {
    const total = perArchitecture(arch);
    return total > 0 ? tieredCost(prices.lambda[arch].duration, total) / total : prices.lambda[arch].duration[0].price;
  };
  for (const { u, capacity, onProvisioned, duration, init, coldInvocations } of onDemand) {
    const arch = prices.lambda[u.architecture];
    const price = averagePrice(u.architecture);
    ledger.add(u.function, { item: "requests", unit: "requests", quantity: u.invocations, unitPrice: prices.lambda.request, fixed: false, source: "lambda" });
    ledger.add(u.function, { item: `duration (${u.architecture}, ${u.memoryMb} MB)`, unit: "GB-s", quantity: duration, unitPrice: price, fixed: false, source: "lambda" });
    ledger.add(u.function, { item: `init phase (${Math.round(coldInvocations)} cold start${Math.round(coldInvocations) === 1 ? "" : "s"})`, unit: "GB-s", quantity: init, unitPrice: price, fixed: false, source: "lambdaInit" });
    ledger.add(u.function, { item: `provisioned concurrency ${u.provisioned}`, unit: "GB-s", quantity: capacity, unitPrice: arch.provisionedConcurrency, fixed: true, source: "lambda" });
    ledger.add(u.function, { item: "duration on provisioned concurrency", unit: "GB-s", quantity: onProvisioned, unitPrice: arch.provisionedDuration, fixed: false, source: "lambda" });
  }
}

/** X-Ray traces of actively traced functions under the default sampling rule: the first request each second, then 5%. */
function tracesOf(invocations: number): number {
  const perSecond = invocations / SECONDS_PER_MONTH;
  return SECONDS_PER_MONTH * (Math.min(1, perSecond) + 0.05 * Math.max(0, perSecond - 1));
}

/** The tables a function's role reads or writes (their ARN or an index of it among its statements' resources). */
function tablesOf(graph: Graph, fn: PolicyResource): PolicyResource[] {
  const resources = graph.roleStatementsOf(fn).filter((s) => s.Effect === "Allow" && (s.Action ?? []).some((a) => a.startsWith("dynamodb:"))).flatMap((s) => s.Resource ?? []);
  return graph.of(TYPES.table).filter((t) => resources.some((r) => r === t.props.arn || r.startsWith(`${t.props.arn}/index/`)));
}

/** Estimates a stack's monthly cost from its recorded resources and traffic model. */
export function estimateCost(resources: RecordedResource[], traffic: TrafficModel, stack: { project: string; stack: string; region: string }): CostEstimate {
  const prices = pricesFor(stack.region);
  const graph = stackGraph(resources);
  const ledger = new Ledger(graph);
  const notes: string[] = [];
  const usages = functionUsages(graph, traffic);
  priceFunctions(ledger, usages, prices);
  const machinery = graph.deploymentMachinery();
  const idleMachinery: string[] = [];
  for (const u of usages) {
    if (u.function.props.tracingConfig?.mode === "Active") {
      ledger.add(u.function, { item: "X-Ray traces (default sampling)", unit: "traces", quantity: tracesOf(u.invocations), unitPrice: prices.xray.traceRecorded, fixed: false, source: "xray" });
    }
    if (u.invocations > 0) continue;
    if (machinery.has(u.function)) idleMachinery.push(u.name);
    else notes.push(`${u.name} has no traffic: no route or source of this stack invokes it; give it with ${configKeyOf("invocationsPerMonth")} if it runs.`);
  }
  // Runners and hooks run a few times per deployment: one note, so a function nothing invokes by mistake stands out.
  if (idleMachinery.length > 0) notes.push(`${idleMachinery.length} deployment runners and hooks run only when a version is deployed (a few invocations each, left out): ${idleMachinery.join(", ")}; give them with ${configKeyOf("invocationsPerMonth")} to price them.`);
  const vpcInvocations = usages.filter((u) => u.inVpc).reduce((sum, u) => sum + u.invocations, 0);

  // APIs: HTTP API requests metered in 512 KB increments; REST APIs per request; both tiered.
  const routes = routeRequests(graph, traffic);
  for (const api of graph.of(TYPES.api)) {
    const own = routes.filter((r) => r.api === api);
    const metered = own.reduce((sum, r) => sum + r.requests * chunks(traffic.get("payloadBytes", r.key), 512 * 1024), 0);
    ledger.add(api, { item: "HTTP API requests", unit: "requests", quantity: metered, unitPrice: 0, monthly: tieredCost(prices.apiGateway.httpRequest, metered), fixed: false, source: "apiGateway" });
  }
  const restRequests = (api: PolicyResource | undefined) => routes.filter((r) => r.api === api && r.route.type === TYPES.restMethod).reduce((sum, r) => sum + r.requests, 0);
  for (const api of graph.of(TYPES.restApi)) {
    const requests = traffic.names("requestsPerMonth", api.name) ? traffic.get("requestsPerMonth", api.name) : restRequests(api);
    ledger.add(api, { item: "REST API requests", unit: "requests", quantity: requests, unitPrice: 0, monthly: tieredCost(prices.apiGateway.restRequest, requests), fixed: false, source: "apiGateway" });
  }
  for (const acl of graph.of(TYPES.webAcl)) {
    ledger.add(acl, { item: "web ACL", unit: "ACL-months", quantity: 1, unitPrice: prices.waf.webAclMonth, fixed: true, source: "waf" });
    ledger.add(acl, { item: "rules", unit: "rule-months", quantity: (acl.props.rules ?? []).length, unitPrice: prices.waf.ruleMonth, fixed: true, source: "waf" });
    const protectedApis = graph.of(TYPES.webAclAssociation).filter((a) => a.props.webAclArn === acl.props.arn).map((a) => {
      const stage = graph.withArn(a.props.resourceArn);
      return graph.of(TYPES.restApi).find((api) => api.props.id === stage?.props.restApi);
    });
    const requests = protectedApis.reduce((sum, api) => sum + (api && traffic.names("requestsPerMonth", api.name) ? traffic.get("requestsPerMonth", api.name) : restRequests(api)), 0);
    ledger.add(acl, { item: "requests inspected", unit: "requests", quantity: requests, unitPrice: prices.waf.request, fixed: false, source: "waf" });
  }

  // Messaging: SQS send + receive + delete per message, SNS publishes and email deliveries, EventBridge custom events, Scheduler runs.
  for (const queue of graph.of(TYPES.queue)) {
    const requests = 3 * traffic.get("messagesPerMonth", queue.name) * chunks(traffic.get("payloadBytes", queue.name), KB64);
    ledger.add(queue, { item: `${queue.props.fifoQueue ? "FIFO" : "standard"} requests (send, receive, delete)`, unit: "requests", quantity: requests, unitPrice: queue.props.fifoQueue ? prices.sqs.fifoRequest : prices.sqs.standardRequest, fixed: false, source: "sqs" });
  }
  for (const topic of graph.of(TYPES.topic)) {
    const messages = traffic.get("messagesPerMonth", topic.name);
    ledger.add(topic, { item: "publishes", unit: "requests", quantity: messages * chunks(traffic.get("payloadBytes", topic.name), KB64), unitPrice: prices.sns.publish, fixed: false, source: "sns" });
    const emails = graph.of(TYPES.topicSubscription).filter((s) => s.props.topic === topic.props.arn && s.props.protocol === "email").length;
    ledger.add(topic, { item: `email deliveries (${emails} subscriptions)`, unit: "notifications", quantity: messages * emails, unitPrice: prices.sns.emailNotification, fixed: false, source: "sns" });
  }
  for (const bus of graph.of(COST_TYPES.eventBus)) {
    ledger.add(bus, { item: "custom events", unit: "events", quantity: traffic.get("messagesPerMonth", bus.name) * chunks(traffic.get("payloadBytes", bus.name), KB64), unitPrice: prices.eventbridge.customEvent, fixed: false, source: "eventbridge" });
  }
  for (const schedule of graph.of(TYPES.schedule)) {
    ledger.add(schedule, { item: "invocations", unit: "invocations", quantity: scheduleRuns(schedule, traffic), unitPrice: prices.eventbridge.schedulerInvocation, fixed: false, source: "eventbridge" });
  }

  // DynamoDB: request units from the functions that reach each table (writes also to each global secondary index), storage, PITR.
  for (const table of graph.of(TYPES.table)) {
    let reads = 0;
    let writes = 0;
    for (const u of usages) {
      const tables = tablesOf(graph, u.function);
      if (!tables.includes(table)) continue;
      reads += (u.invocations * traffic.get("dynamodbReadUnits", u.name)) / tables.length;
      writes += (u.invocations * traffic.get("dynamodbWriteUnits", u.name)) / tables.length;
    }
    const indexes = (table.props.globalSecondaryIndexes ?? []).length;
    const onDemand = table.props.billingMode === "PAY_PER_REQUEST";
    if (!onDemand) notes.push(`${table.name} uses provisioned capacity, which is not priced here: only its storage is.`);
    if (onDemand) {
      ledger.add(table, { item: "read request units", unit: "RRU", quantity: reads, unitPrice: prices.dynamodb.readRequestUnit, fixed: false, source: "dynamodb" });
      ledger.add(table, { item: `write request units (table${indexes ? ` and ${indexes} index${indexes === 1 ? "" : "es"}` : ""})`, unit: "WRU", quantity: writes * (1 + indexes), unitPrice: prices.dynamodb.writeRequestUnit, fixed: false, source: "dynamodb" });
    }
    const stored = traffic.get("storageGb", table.name);
    ledger.add(table, { item: "storage", unit: "GB-months", quantity: stored, unitPrice: prices.dynamodb.storageGbMonth, fixed: false, source: "dynamodb" });
    if (table.props.pointInTimeRecovery?.enabled) ledger.add(table, { item: "point-in-time recovery", unit: "GB-months", quantity: stored, unitPrice: prices.dynamodb.pitrGbMonth, fixed: false, source: "dynamodb" });
    if (table.props.streamEnabled) notes.push(`${table.name}'s stream: reads by Lambda's event source mappings are free; other readers pay per GetRecords.`);
  }
  for (const bucket of graph.of(TYPES.bucket)) {
    ledger.add(bucket, { item: "storage (Standard)", unit: "GB-months", quantity: traffic.get("storageGb", bucket.name), unitPrice: prices.s3.storageGbMonth, fixed: false, source: "s3" });
    ledger.add(bucket, { item: "PUT requests (objects written)", unit: "requests", quantity: traffic.get("messagesPerMonth", bucket.name), unitPrice: prices.s3.putRequest, fixed: false, source: "s3" });
  }

  // Logs: ingestion from what writes to each group; storage at steady state, the retention's worth of it.
  for (const group of graph.of(TYPES.logGroup)) {
    const bytes = logBytesInto(graph, group, usages, routes, traffic, vpcInvocations);
    const ingested = bytes / GB;
    const retentionDays = Number(group.props.retentionInDays ?? 0);
    if (!retentionDays) notes.push(`${group.name} keeps its logs forever; its storage is counted for 12 months' worth.`);
    ledger.add(group, { item: "log ingestion", unit: "GB", quantity: ingested, unitPrice: prices.cloudwatch.logIngestionGb, fixed: false, source: "cloudwatch" });
    ledger.add(group, { item: `log storage (${retentionDays || "unlimited"} days kept)`, unit: "GB-months", quantity: ingested * ((retentionDays || 365) / (HOURS_PER_MONTH / 24)), unitPrice: prices.cloudwatch.logStorageGbMonth, fixed: false, source: "cloudwatch" });
  }
  for (const alarm of graph.of(TYPES.alarm)) {
    const metrics = Math.max(1, (alarm.props.metricQueries ?? []).filter((q: any) => q.metric).length);
    const highResolution = Number(alarm.props.period ?? 60) < 60;
    ledger.add(alarm, { item: `${highResolution ? "high-resolution" : "standard"} alarm`, unit: "alarm metric-months", quantity: metrics, unitPrice: highResolution ? prices.cloudwatch.highResolutionAlarmMetricMonth : prices.cloudwatch.standardAlarmMetricMonth, fixed: true, source: "cloudwatch" });
  }
  for (const key of graph.of(TYPES.kmsKey)) {
    ledger.add(key, { item: "customer-managed key", unit: "key-months", quantity: 1, unitPrice: prices.kms.keyMonth, fixed: true, source: "kms" });
    ledger.add(key, { item: "requests", unit: "requests", quantity: traffic.get("kmsRequestsPerMonth", key.name), unitPrice: prices.kms.request, fixed: false, source: "kms" });
  }
  for (const endpoint of graph.of(TYPES.vpcEndpoint).filter((e) => e.props.vpcEndpointType === "Interface")) {
    const zones = Array.isArray(endpoint.props.subnetIds) ? endpoint.props.subnetIds.length : 1;
    ledger.add(endpoint, { item: `interface endpoint in ${zones} AZ${zones === 1 ? "" : "s"}`, unit: "AZ-hours", quantity: zones * HOURS_PER_MONTH, unitPrice: prices.vpc.interfaceEndpointAzHour, fixed: true, source: "privatelink" });
    ledger.add(endpoint, { item: "data processed", unit: "GB", quantity: (vpcInvocations * traffic.get("payloadBytes", endpoint.name)) / GB, unitPrice: prices.vpc.interfaceEndpointGb, fixed: false, source: "privatelink" });
  }
  for (const vpc of graph.of(TYPES.vpc)) {
    const strategy = vpc.props.natGateways?.strategy ?? "OnePerAz";
    const gateways = strategy === "None" ? 0 : strategy === "Single" ? 1 : Number(vpc.props.numberOfAvailabilityZones ?? 3);
    ledger.add(vpc, { item: `NAT gateways (${strategy})`, unit: "gateway-hours", quantity: gateways * HOURS_PER_MONTH, unitPrice: prices.vpc.natGatewayHour, fixed: true, source: "vpc" });
  }
  for (const parameter of graph.of(TYPES.parameter).filter((p) => p.props.tier === "Advanced")) {
    ledger.add(parameter, { item: "advanced parameter", unit: "parameter-months", quantity: 1, unitPrice: prices.ssm.advancedParameterMonth, fixed: true, source: "ssm" });
  }
  for (const pool of graph.of(TYPES.userPool)) {
    const tier = (pool.props.userPoolTier ?? "ESSENTIALS") as keyof RegionPrices["cognito"];
    ledger.add(pool, { item: `monthly active users (${tier})`, unit: "MAUs", quantity: traffic.get("monthlyActiveUsers", pool.name), unitPrice: prices.cognito[tier], fixed: false, source: "cognito" });
  }
  for (const zone of graph.of(COST_TYPES.hostedZone)) {
    ledger.add(zone, { item: "hosted zone (alias queries to AWS resources are free)", unit: "zone-months", quantity: 1, unitPrice: prices.route53.hostedZoneMonth, fixed: true, source: "route53" });
  }

  const priced = new Set<string>([
    TYPES.function, TYPES.api, TYPES.restApi, TYPES.webAcl, TYPES.queue, TYPES.topic, COST_TYPES.eventBus, TYPES.schedule, TYPES.table,
    TYPES.bucket, TYPES.alarm, TYPES.kmsKey, TYPES.vpcEndpoint, TYPES.userPool, COST_TYPES.hostedZone, TYPES.parameter, TYPES.vpc,
  ]);
  // Components cost nothing of their own; their children are priced.
  const unpriced = resources
    .filter((r) => r.custom && !priced.has(r.type) && !FREE_TYPES.has(r.type))
    .map((r) => ({ type: r.type, name: r.name }));
  for (const { key, name } of traffic.unusedNames()) notes.push(`${configKeyOf(key)} names ${name}, which this stack does not have (a typo, or a resource removed?).`);
  return { ...stack, currency: "USD", pricesChecked: PRICES_CHECKED, freeTierApplied: false, items: ledger.items, unpriced, notes };
}

/** The estimate of an evaluated stack (a plan) at the traffic model of the config it was evaluated with. */
export function estimatePlan(plan: { project: string; stack: string; region: string; resources: RecordedResource[]; config: StackConfig }): CostEstimate {
  return estimateCost(plan.resources, readTraffic(plan.config), { project: plan.project, stack: plan.stack, region: plan.region });
}

/** Bytes a log group ingests per month: its function's invocations, its API's requests, or its flow log's VPC traffic. */
function logBytesInto(graph: Graph, group: PolicyResource, usages: FunctionUsage[], routes: ReturnType<typeof routeRequests>, traffic: TrafficModel, vpcInvocations: number): number {
  const writer = usages.find((u) => group.props.name === `/aws/lambda/${u.function.props.name}`);
  if (writer) return writer.invocations * traffic.get("logBytesPerInvocation", writer.name);
  const stage = graph.of(TYPES.stage, TYPES.restStage).find((s) => s.props.accessLogSettings?.destinationArn === group.props.arn);
  if (stage) {
    const api = graph.of(TYPES.api, TYPES.restApi).find((a) => a.props.id === (stage.props.apiId ?? stage.props.restApi));
    const requests = routes.filter((r) => r.api === api).reduce((sum, r) => sum + r.requests, 0);
    return requests * traffic.get("logBytesPerInvocation", api?.name);
  }
  const flowLog = graph.of(TYPES.flowLog).find((f) => f.props.logDestination === group.props.arn);
  if (flowLog) return vpcInvocations * traffic.get("logBytesPerInvocation", flowLog.name);
  return 0;
}

export interface Totals { fixed: number; traffic: number; total: number }

export function totalsOf(items: LineItem[]): Totals {
  const fixed = items.filter((i) => i.fixed).reduce((sum, i) => sum + i.monthly, 0);
  const traffic = items.filter((i) => !i.fixed).reduce((sum, i) => sum + i.monthly, 0);
  return { fixed, traffic, total: fixed + traffic };
}

/** The components in the order their first line item appears, with their items and totals. */
export function byComponent(estimate: CostEstimate): Array<{ component: string; items: LineItem[] } & Totals> {
  const names = [...new Set(estimate.items.map((i) => i.component))];
  return names.map((component) => {
    const items = estimate.items.filter((i) => i.component === component);
    return { component, items, ...totalsOf(items) };
  });
}

