/**
 * The architecture of a stack as a Mermaid flowchart, derived from the registered resource
 * graph alone (no names are assumed), laid out as a reader follows a request, top to
 * bottom: callers and event sources (the identity provider, topics, buckets, streams,
 * rules, schedules), then each component's box (API -> routes -> functions, queue ->
 * consumer -> dead-letter queue), then the stores the functions' roles reach (tables,
 * queues). Top to bottom keeps the prod stack about as wide as its routes; left to right
 * it was a line of seven ranks and their edge labels, too wide to read in a comment. What a node *has* rather than what it talks to is written on the node, not
 * drawn: the VPC it runs in, its alarms, the parameters it reads, its async retries. The
 * source edges carry the delivery settings (batch, bisect, retries, record age, DLQ).
 * GitHub renders it in a ```mermaid block of a pull-request comment.
 */
import type { PolicyResource } from "@pulumi/policy";
import { asList, Graph, invokedFunctionArn, parseFunctionReference, streamKindOf, TYPES } from "../policy/graph";
import { RecordedResource } from "./mock-engine";
import { deploymentSummaries } from "./plan-format";
import { stackGraph } from "./policy-check";

/** Mermaid label text: quotes and the characters Mermaid reads as markup become entities. */
export function mermaidText(text: string): string {
  return text.replace(/[&"<>#|]/g, (c) => `#${c.charCodeAt(0)};`).replace(/#60;br\/#62;/g, "<br/>");
}

type Shape = "box" | "rounded" | "route" | "store" | "queue" | "source" | "note";
const SHAPES: Record<Shape, [string, string]> = {
  box: ["[", "]"], rounded: ["(", ")"], route: ["[/", "/]"], store: ["[(", ")]"], queue: ["[[", "]]"], source: ["([", "])"], note: ["[", "]"],
};

class Flowchart {
  private readonly ids = new Map<string, string>();
  /** Node lines by the component box they sit in ("" for none), in the order drawn. */
  readonly nodes = new Map<string, string[]>();
  readonly edges: string[] = [];
  readonly notes: string[] = [];
  constructor(private readonly graph: Graph) {}
  node(resource: PolicyResource, shape: Shape, lines: Array<string | undefined>): string {
    const id = this.idOf(resource);
    const box = this.graph.componentOf(resource)?.urn ?? "";
    const label = mermaidText(lines.filter(Boolean).join("<br/>"));
    this.nodes.set(box, [...(this.nodes.get(box) ?? []), `${id}${SHAPES[shape][0]}"${label}"${SHAPES[shape][1]}`]);
    if (shape === "note") this.notes.push(id);
    return id;
  }
  idOf(resource: PolicyResource): string {
    let id = this.ids.get(resource.urn);
    if (!id) {
      id = `${resource.name.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 30)}_${this.ids.size}`;
      this.ids.set(resource.urn, id);
    }
    return id;
  }
  /** A node for a source the stack only names (a bucket by name, a topic or stream by ARN), once per key. */
  external(key: string, shape: Shape, lines: string[]): string {
    const urn = `external:${key}`;
    if (this.ids.has(urn)) return this.ids.get(urn)!;
    const id = `${key.split(/[:/]/).pop()!.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 30)}_${this.ids.size}`;
    this.ids.set(urn, id);
    this.nodes.set("", [...(this.nodes.get("") ?? []), `${id}${SHAPES[shape][0]}"${mermaidText([...lines, "(not in this stack)"].join("<br/>"))}"${SHAPES[shape][1]}`]);
    return id;
  }
  has(resource: PolicyResource | undefined): resource is PolicyResource {
    return !!resource && this.ids.has(resource.urn);
  }
  edge(from: string, to: string, label?: string, dotted = false): void {
    const arrow = dotted ? "-.->" : "-->";
    this.edges.push(label ? `${from} ${arrow}|"${mermaidText(label)}"| ${to}` : `${from} ${arrow} ${to}`);
  }
  /**
   * Places `id` one rank below `anchor` with an invisible link: a node with no edge of its
   * own (the alarm topic, the VPC note) otherwise starts a chart of its own beside the
   * application's, as wide again.
   */
  below(anchor: string, id: string): void {
    this.edges.push(`${anchor} ~~~ ${id}`);
  }
  /** The first node drawn, at the top of the chart. */
  get first(): string | undefined {
    return [...this.nodes.values()].flat()[0]?.match(/^\w+/)?.[0];
  }
}

const shortActions = (actions: string[]) => [...new Set(actions.map((a) => a.split(":")[1]))].join(", ");
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** 90 -> "90 s", 3600 -> "1 h", 86400 -> "1 d". */
function duration(seconds: number): string {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]] as const) if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  return `${seconds} s`;
}

/** "3 retries, max age 1 h" from AWS's retry fields; -1 and unset are AWS's infinite defaults. */
function retries(attempts: unknown, ageSeconds: unknown): string[] {
  const finite = (value: unknown) => typeof value === "number" && value >= 0;
  return [
    finite(attempts) ? plural(attempts as number, "retry").replace("retrys", "retries") : "retries forever",
    finite(ageSeconds) ? `max age ${duration(ageSeconds as number)}` : "no max age",
  ];
}

/** `{"source":["a"],"detail-type":["B"]}` -> "source a, detail-type B". */
function patternSummary(pattern: unknown): string | undefined {
  try {
    const parsed = typeof pattern === "string" ? JSON.parse(pattern) : pattern;
    return Object.entries(parsed ?? {}).map(([key, value]) => `${key} ${Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(" | ") : "{…}"}`).join(", ");
  } catch {
    return undefined;
  }
}

/** The Mermaid source (without the ``` fence) of the stack's architecture. */
export function architectureDiagram(resources: RecordedResource[]): string {
  const graph = stackGraph(resources);
  const machinery = graph.deploymentMachinery();
  const drawing: Drawing = {
    graph, chart: new Flowchart(graph), deadLetterArns: graph.failureDestinations(), alarmTopicArns: new Set(graph.of(TYPES.alarm).flatMap((a) => a.props.alarmActions ?? [])),
    // The runners and hooks deploy the application; they are no part of its data flow.
    functions: graph.of(TYPES.function).filter((fn) => !machinery.has(fn)),
  };
  // Nodes in reading order (dagre keeps it within a rank), then the edges between them.
  drawCallers(drawing);
  drawApis(drawing);
  drawRestApis(drawing);
  drawWorkers(drawing);
  drawDeployments(drawing);
  drawStores(drawing);
  drawRoleReach(drawing);
  drawPolledSources(drawing);
  drawPushedSources(drawing);
  drawNotesAndKeys(drawing);
  return render(drawing);
}

interface Drawing {
  graph: Graph;
  chart: Flowchart;
  /** Queues and topics that receive what failed elsewhere. */
  deadLetterArns: Set<string>;
  /** Topics alarms notify: a legend, not an event source. */
  alarmTopicArns: Set<string>;
  /** The application's functions: the deployment runners and hooks left out. */
  functions: PolicyResource[];
}

function alarmsOf(graph: Graph, key: string, value: unknown): string | undefined {
  const count = graph.alarmsOn(key, value).length;
  return count > 0 ? plural(count, "alarm") : undefined;
}

/** The identity provider, and the event sources made outside the components: topics, buckets, streams. */
function drawCallers({ graph, chart, alarmTopicArns }: Drawing): void {
  for (const pool of graph.of(TYPES.userPool)) chart.node(pool, "source", [`Cognito ${pool.name}`, "identity provider"]);
  for (const topic of graph.of(TYPES.topic).filter((t) => !alarmTopicArns.has(t.props.arn))) chart.node(topic, "source", [`SNS ${topic.name}`]);
  for (const bucket of graph.of(TYPES.bucket)) chart.node(bucket, "source", [`S3 ${bucket.props.bucket ?? bucket.name}`]);
  for (const stream of graph.of(TYPES.kinesisStream)) {
    chart.node(stream, "source", [`Kinesis ${stream.name}`, [stream.props.shardCount ? plural(stream.props.shardCount, "shard") : "on demand", stream.props.encryptionType === "KMS" ? "KMS" : undefined].filter(Boolean).join(", ")]);
  }
}

/**
 * Each API behind its custom domains, its routes into their functions, the identity
 * provider its JWT authorizer trusts, and its Lambda authorizer's function in front of the
 * routes it guards.
 */
function drawApis({ graph, chart }: Drawing): void {
  for (const api of graph.of(TYPES.api)) {
    const stage = graph.of(TYPES.stage).find((s) => s.props.apiId === api.props.id);
    const throttle = stage?.props.defaultRouteSettings;
    const apiId = chart.node(api, "box", [
      `HTTP API ${api.name}`,
      stage ? `stage ${stage.props.name}` : "no stage",
      throttle ? `throttle ${throttle.throttlingRateLimit} rps, burst ${throttle.throttlingBurstLimit}` : "no throttling",
      stage?.props.accessLogSettings ? "JSON access logs" : "no access logs",
    ]);
    for (const mapping of graph.of(TYPES.apiMapping).filter((m) => m.props.apiId === api.props.id)) {
      const domain = graph.of(TYPES.domainName).find((d) => [d.props.id, d.props.domainName].includes(mapping.props.domainName));
      if (!domain) continue;
      const domainId = chart.node(domain, "source", [`https://${domain.props.domainName}/${mapping.props.apiMappingKey ?? ""}`, `custom domain, ${domain.props.domainNameConfiguration?.securityPolicy ?? "no security policy"}`]);
      chart.edge(domainId, apiId);
    }
    const lambdaAuthorizers = new Map<unknown, PolicyResource>();
    for (const authorizer of graph.of(TYPES.authorizer).filter((a) => a.props.apiId === api.props.id)) {
      const issuer = String(authorizer.props.jwtConfiguration?.issuer ?? "");
      for (const pool of graph.of(TYPES.userPool)) if (pool.props.endpoint && issuer.endsWith(pool.props.endpoint)) chart.edge(chart.idOf(pool), apiId, `JWT authorizer ${authorizer.props.name}`, true);
      const fn = authorizer.props.authorizerType === "REQUEST" && graph.functionFor(invokedFunctionArn(authorizer.props.authorizerUri));
      if (fn) lambdaAuthorizers.set(authorizer.props.id, fn);
    }
    for (const route of graph.of(TYPES.route).filter((r) => r.props.apiId === api.props.id)) {
      const auth = route.props.authorizationType ?? "NONE";
      const authorizerFn = auth === "CUSTOM" ? lambdaAuthorizers.get(route.props.authorizerId) : undefined;
      const routeId = chart.node(route, "route", [route.props.routeKey, auth === "NONE" ? "public" : auth === "CUSTOM" ? "Lambda authorizer" : auth]);
      chart.edge(apiId, routeId);
      if (authorizerFn) chart.edge(chart.idOf(authorizerFn), routeId, "authorizes", true);
      const integrationId = String(route.props.target ?? "").replace(/^integrations\//, "");
      const integration = graph.of(TYPES.integration).find((x) => x.props.id === integrationId);
      const fn = integration && graph.functionFor(integration.props.integrationUri);
      if (fn) {
        const qualifier = parseFunctionReference(integration!.props.integrationUri).qualifier;
        chart.edge(routeId, chart.idOf(fn), qualifier ? `alias ${qualifier}` : undefined);
      }
    }
  }
}

const REST_AUTH = { COGNITO_USER_POOLS: "Cognito", CUSTOM: "Lambda authorizer", AWS_IAM: "IAM", NONE: "public" } as Record<string, string>;

/** "block an IP above 2000 per 5 min" for a web ACL of this stack, else its name from the ARN. */
function wafSummary(graph: Graph, webAclArn: unknown): string {
  const acl = graph.withArn(webAclArn);
  const rates = asList(acl?.props.rules).map((rule: any) => rule.statement?.rateBasedStatement).filter(Boolean);
  if (rates.length > 0) return `WAF: block an IP above ${rates.map((r: any) => `${r.limit} per ${duration(r.evaluationWindowSec ?? 300)}`).join(", ")}`;
  return `WAF ${acl?.props.name ?? String(webAclArn ?? "").split("/").slice(-2, -1)[0] ?? "web ACL"}`;
}

/**
 * Each REST API as the HTTP APIs are drawn, with what only REST has: its custom domain and
 * usage plans (one node per plan with its keys, throttle and quota) in front of it, the
 * stage's throttle, tracing and WAF on it, each route's auth, API key and request
 * validation on the route, and the authorizer (the Cognito pool, the Lambda authorizer's
 * function) in front of exactly the routes it guards.
 */
function drawRestApis({ graph, chart }: Drawing): void {
  for (const api of graph.of(TYPES.restApi)) {
    const ofApi = (type: string) => graph.of(type).filter((r) => r.props.restApi === api.props.id);
    const apiId = chart.idOf(api);
    for (const mapping of ofApi(TYPES.restBasePathMapping)) {
      const domain = graph.of(TYPES.restDomainName).find((d) => d.props.domainName === mapping.props.domainName);
      if (!domain) continue;
      chart.edge(chart.node(domain, "source", [`https://${domain.props.domainName}/${mapping.props.basePath ?? ""}`, `custom domain, ${domain.props.securityPolicy ?? "no security policy"}`]), apiId);
    }
    const stage = ofApi(TYPES.restStage)[0];
    // Plans and keys are named after the API: `<api>-<plan>`, `<api>-<key>`.
    const shortName = (r: PolicyResource) => String(r.props.name ?? r.name).replace(`${api.props.name}-`, "");
    const keyNames = new Map(graph.of(TYPES.restApiKey).map((k) => [k.props.id, shortName(k)]));
    for (const plan of graph.of(TYPES.restUsagePlan).filter((p) => asList(p.props.apiStages).some((s: any) => s.apiId === api.props.id))) {
      const keys = graph.of(TYPES.restUsagePlanKey).filter((k) => k.props.usagePlanId === plan.props.id).map((k) => keyNames.get(k.props.keyId) ?? "?");
      const { throttleSettings: throttle, quotaSettings: quota } = plan.props;
      const planId = chart.node(plan, "source", [
        `usage plan ${shortName(plan)}`,
        keys.length ? `keys ${keys.join(", ")}` : "no keys",
        throttle ? `throttle ${throttle.rateLimit} rps, burst ${throttle.burstLimit}` : "stage throttle",
        quota ? `quota ${quota.limit} per ${String(quota.period).toLowerCase()}` : "no quota",
      ]);
      chart.edge(planId, apiId, "x-api-key", true);
    }
    const settings = stage && ofApi(TYPES.restMethodSettings).find((m) => m.props.stageName === stage.props.stageName && m.props.methodPath === "*/*")?.props.settings;
    const waf = stage && graph.of(TYPES.webAclAssociation).find((a) => a.props.resourceArn === stage.props.arn);
    const endpoint = String(asList(api.props.endpointConfiguration?.types)[0] ?? "REGIONAL").toLowerCase();
    chart.node(api, "box", [
      `REST API ${api.name}`,
      stage ? `stage ${stage.props.stageName}, ${endpoint}${api.props.policy ? ", resource policy" : ""}` : "no stage",
      settings?.throttlingRateLimit !== undefined ? `throttle ${settings.throttlingRateLimit} rps, burst ${settings.throttlingBurstLimit}` : "no throttling",
      stage ? [stage.props.accessLogSettings ? "JSON access logs" : "no access logs", stage.props.xrayTracingEnabled ? "X-Ray" : "no X-Ray"].join(", ") : undefined,
      waf ? wafSummary(graph, waf.props.webAclArn) : "no WAF",
    ]);
    const authorizers = new Map(ofApi(TYPES.restAuthorizer).map((a) => [a.props.id, a]));
    const validators = new Map(ofApi(TYPES.restRequestValidator).map((v) => [v.props.id, v]));
    for (const method of ofApi(TYPES.restMethod)) {
      const p = method.props;
      const authorizer = authorizers.get(p.authorizerId);
      const validator = validators.get(p.requestValidatorId);
      const required = Object.entries(p.requestParameters ?? {}).filter(([, on]) => on).map(([name]) => name.replace(/^method\.request\.(querystring|header|path)\./, "$1 "));
      const routeId = chart.node(method, "route", [
        `${p.httpMethod} ${graph.restPathOf(api.props.id, p.resourceId) ?? "?"}`,
        [REST_AUTH[p.authorization] ?? p.authorization, p.authorizationScopes?.length ? `scopes ${p.authorizationScopes.join(" ")}` : undefined, p.apiKeyRequired ? "API key" : undefined].filter(Boolean).join(", "),
        validator?.props.validateRequestBody && p.requestModels ? "body checked against its schema" : undefined,
        validator?.props.validateRequestParameters && required.length ? `requires ${required.join(", ")}` : undefined,
      ]);
      chart.edge(apiId, routeId);
      if (authorizer?.props.type === "COGNITO_USER_POOLS") {
        for (const arn of asList(authorizer.props.providerArns)) {
          const pool = graph.withArn(arn);
          const poolId = chart.has(pool) ? chart.idOf(pool) : chart.external(String(arn), "source", [`Cognito ${String(arn).split("/").pop()}`, "identity provider"]);
          chart.edge(poolId, routeId, "Cognito authorizer", true);
        }
      }
      const authorizerFn = authorizer && graph.functionFor(invokedFunctionArn(authorizer.props.authorizerUri));
      if (authorizerFn) {
        const ttl = authorizer.props.authorizerResultTtlInSeconds ?? 300;
        chart.edge(chart.idOf(authorizerFn), routeId, `${authorizer.props.type} authorizer, ${ttl > 0 ? `cache ${duration(ttl)}` : "no cache"}`, true);
      }
      const integration = ofApi(TYPES.restIntegration).find((i) => i.props.resourceId === p.resourceId && i.props.httpMethod === p.httpMethod);
      const fn = integration && graph.functionFor(integration.props.uri);
      if (fn) {
        const qualifier = parseFunctionReference(integration!.props.uri).qualifier;
        chart.edge(routeId, chart.idOf(fn), qualifier ? `alias ${qualifier}` : undefined);
      }
    }
  }
}

/** Rules and schedules, functions, then queues: each in its component's box, in that order. */
function drawWorkers({ graph, chart, deadLetterArns, functions }: Drawing): void {
  for (const rule of graph.of(TYPES.eventRule)) {
    chart.node(rule, "source", [`EventBridge rule ${rule.name}`, `bus ${rule.props.eventBusName ?? "default"}`, patternSummary(rule.props.eventPattern) ?? rule.props.scheduleExpression]);
  }
  for (const schedule of graph.of(TYPES.schedule)) {
    chart.node(schedule, "source", [`Schedule ${schedule.name}`, [schedule.props.scheduleExpression, schedule.props.scheduleExpressionTimezone].filter(Boolean).join(" ")]);
  }
  for (const fn of functions) {
    const i = fn.props;
    const provisioned = graph.of(TYPES.provisionedConcurrency).find((p) => p.props.functionName === i.name);
    const statements = graph.roleStatementsOf(fn);
    const parameters = graph.of(TYPES.parameter).filter((p) => statements.some((s) => s.Effect === "Allow" && (s.Resource ?? []).includes(p.props.arn)));
    const asyncConfigs = graph.of(TYPES.eventInvokeConfig).filter((c) => graph.functionFor(c.props.functionName) === fn);
    chart.node(fn, "rounded", [
      `λ ${fn.name}`,
      [`${i.memorySize} MB, ${i.timeout} s`, i.reservedConcurrentExecutions !== undefined ? `reserved ${i.reservedConcurrentExecutions}` : undefined].filter(Boolean).join(", "),
      provisioned ? provisionedLine(graph, fn, provisioned) : undefined,
      ...asyncConfigs.map((c) => `async${c.props.qualifier ? ` ${c.props.qualifier}` : ""}: ${retries(c.props.maximumRetryAttempts, c.props.maximumEventAgeInSeconds).join(", ")}`),
      parameters.length ? `reads ${parameters.map((p) => `${String(p.props.name).split("/").pop()}${p.props.type === "SecureString" ? " (secret)" : ""}`).join(", ")}` : undefined,
      [i.vpcConfig ? "in VPC" : undefined, alarmsOf(graph, "FunctionName", i.name)].filter(Boolean).join(" · ") || undefined,
    ]);
  }
  for (const queue of graph.of(TYPES.queue)) {
    const i = queue.props;
    chart.node(queue, "queue", [
      `SQS ${queue.name}`,
      deadLetterArns.has(i.arn) ? `dead letters, kept ${Math.round(i.messageRetentionSeconds / 86400)} days` : `visibility ${i.visibilityTimeoutSeconds ?? 30} s`,
      alarmsOf(graph, "QueueName", i.name),
    ]);
  }
}

/**
 * The deployment groups beside the functions they deploy: one node per component and
 * strategy (a node per function would widen the chart past legibility), with the
 * strategy, the hooks' checks and the rollback alarms, and an edge from each function
 * whose alias it shifts. The runners and the hook functions are written on it, not drawn.
 */
function drawDeployments({ graph, chart }: Drawing): void {
  const summaries = deploymentSummaries(graph);
  const nodes = new Map<string, string>();
  graph.deployments().forEach((d, index) => {
    const summary = summaries[index];
    if (!d.group || !chart.has(d.function)) return;
    // The alias is written on the node, not on each edge: edge labels widen the chart.
    const lines = [
      `CodeDeploy: shifts alias ${summary.alias ?? ""}`.trim(),
      summary.strategy,
      ...summary.hooks.map((hook) => `hook ${hook}`),
      `rolls back on ${plural(summary.alarms.length, "alarm")} of its function`,
    ];
    const key = [graph.componentOf(d.group)?.urn ?? "", ...lines].join("\n");
    const id = nodes.get(key) ?? chart.node(d.group, "box", lines);
    nodes.set(key, id);
    // From the function down to the deployment: the node then sits below the functions
    // instead of widening the routes' rank above them.
    chart.edge(chart.idOf(d.function), id, undefined, true);
  });
}

/** With a deployment the config is on each new version (warm before it takes traffic), not on the alias. */
function provisionedLine(graph: Graph, fn: PolicyResource, config: PolicyResource): string {
  const count = config.props.provisionedConcurrentExecutions;
  const deployed = graph.deployments().find((d) => d.function === fn && d.alias);
  return deployed ? `alias ${deployed.alias!.props.name}, provisioned ${count} on each new version` : `alias ${config.props.qualifier} + provisioned ${count}`;
}

function drawStores({ graph, chart }: Drawing): void {
  for (const table of graph.of(TYPES.table)) {
    const i = table.props;
    chart.node(table, "store", [
      `DynamoDB ${table.name}`,
      [i.billingMode, i.pointInTimeRecovery?.enabled ? "PITR" : "no PITR", i.deletionProtectionEnabled ? "deletion protection" : undefined].filter(Boolean).join(", "),
      i.streamEnabled ? `stream ${i.streamViewType}` : undefined,
    ]);
  }
}

/** What each function's role lets it reach; what it consumes is drawn as the source's edge instead, its DLQ as the failure edge. */
function drawRoleReach({ graph, chart, deadLetterArns, functions }: Drawing): void {
  for (const fn of functions) {
    const consumed = graph.of(TYPES.eventSourceMapping).filter((m) => graph.functionFor(m.props.functionName) === fn).map((m) => String(m.props.eventSourceArn));
    // Reading a consumed stream, and listing its table's streams, is the source's edge.
    const isConsumed = (arn: string) => consumed.some((source) => source === arn || (streamKindOf(source) === "dynamodb" && arn.startsWith(source.replace(/\/stream\/[^/]+$/, "/stream/"))));
    const statements = graph.roleStatementsOf(fn).filter((s) => s.Effect === "Allow");
    const reach = (arnMatches: (arn: string) => boolean) => statements.filter((s) => (s.Resource ?? []).some((arn) => !isConsumed(arn) && arnMatches(arn))).flatMap((s) => s.Action ?? []);
    for (const table of graph.of(TYPES.table)) {
      const actions = reach((arn) => arn === table.props.arn || arn.startsWith(`${table.props.arn}/`));
      if (actions.length > 0) chart.edge(chart.idOf(fn), chart.idOf(table), shortActions(actions));
    }
    for (const queue of graph.of(TYPES.queue).filter((q) => !deadLetterArns.has(q.props.arn))) {
      const actions = reach((arn) => arn === queue.props.arn);
      if (actions.length > 0) chart.edge(chart.idOf(fn), chart.idOf(queue), shortActions(actions));
    }
  }
}

/** Queues and streams into their consumers, with the mapping's settings; failures into the DLQ. */
function drawPolledSources({ graph, chart }: Drawing): void {
  for (const mapping of graph.of(TYPES.eventSourceMapping)) {
    const i = mapping.props;
    const fn = graph.functionFor(i.functionName);
    const source = graph.withArn(i.eventSourceArn) ?? graph.of(TYPES.table).find((t) => t.props.streamArn === i.eventSourceArn);
    const kind = streamKindOf(i.eventSourceArn);
    const sourceId = chart.has(source) ? chart.idOf(source)
      : kind === "kinesis" ? chart.external(i.eventSourceArn, "source", [`Kinesis ${String(i.eventSourceArn).split("/").pop()}`])
      : kind === "dynamodb" ? chart.external(i.eventSourceArn, "store", [`DynamoDB ${String(i.eventSourceArn).split("/")[1]}`, "stream"])
      : undefined;
    if (!fn || !sourceId) continue;
    const partial = (i.functionResponseTypes ?? []).includes("ReportBatchItemFailures") ? "partial failures" : undefined;
    const batch = [`batch ${i.batchSize ?? "default"}`, i.maximumBatchingWindowInSeconds ? `window ${duration(i.maximumBatchingWindowInSeconds)}` : undefined];
    const label = kind
      ? [...batch, i.parallelizationFactor > 1 ? `×${i.parallelizationFactor} per shard` : undefined, i.bisectBatchOnFunctionError ? "bisect" : "no bisect", ...retries(i.maximumRetryAttempts, i.maximumRecordAgeInSeconds), partial, i.filterCriteria?.filters?.length ? "filtered" : undefined]
      : [...batch, i.scalingConfig ? `max ${i.scalingConfig.maximumConcurrency}` : undefined, partial];
    chart.edge(sourceId, chart.idOf(fn), label.filter(Boolean).join(", "));
    const onFailure = graph.withArn(i.destinationConfig?.onFailure?.destinationArn);
    if (chart.has(onFailure)) chart.edge(chart.idOf(fn), chart.idOf(onFailure), "failed batches", true);
  }
  for (const queue of graph.of(TYPES.queue)) {
    const redrive = queue.props.redrivePolicy ? JSON.parse(queue.props.redrivePolicy) : undefined;
    const deadLetters = graph.withArn(redrive?.deadLetterTargetArn);
    if (chart.has(deadLetters)) chart.edge(chart.idOf(queue), chart.idOf(deadLetters), `after ${redrive.maxReceiveCount} receives`);
  }
}

/** Topics, rules, schedules and buckets into the functions they invoke; failed events into the destination. */
function drawPushedSources({ graph, chart }: Drawing): void {
  const dlqNote = (arn: unknown) => (arn ? `DLQ ${graph.withArn(arn)?.name ?? "set"}` : "no DLQ");
  const delivery = (target: any) => [...retries(target?.retryPolicy?.maximumRetryAttempts, target?.retryPolicy?.maximumEventAgeInSeconds), dlqNote(target?.deadLetterConfig?.arn)].join(", ");
  for (const { function: fn, source } of graph.asyncInvocations()) {
    const p = source.props;
    if (source.type === TYPES.topicSubscription) {
      const topic = graph.withArn(p.topic);
      const topicId = chart.has(topic) ? chart.idOf(topic) : typeof p.topic === "string" ? chart.external(p.topic, "source", [`SNS ${p.topic.split(":").pop()}`]) : undefined;
      if (topicId) chart.edge(topicId, chart.idOf(fn), p.filterPolicy ? `filter ${patternSummary(p.filterPolicy)}` : undefined);
    } else if (source.type === TYPES.eventTarget) {
      const rule = graph.withArn(graph.invokerArnOf(source));
      if (chart.has(rule)) chart.edge(chart.idOf(rule), chart.idOf(fn), delivery(p));
    } else if (source.type === TYPES.schedule) {
      chart.edge(chart.idOf(source), chart.idOf(fn), delivery(p.target));
    } else if (source.type === TYPES.bucketNotification) {
      const bucket = graph.withArn(graph.invokerArnOf(source));
      const bucketId = chart.has(bucket) ? chart.idOf(bucket) : typeof p.bucket === "string" ? chart.external(`s3:${p.bucket}`, "source", [`S3 ${p.bucket}`]) : undefined;
      const entry = (p.lambdaFunctions ?? []).find((f: any) => graph.functionFor(f.lambdaFunctionArn) === fn);
      if (bucketId && entry) chart.edge(bucketId, chart.idOf(fn), [(entry.events ?? []).map((e: string) => e.replace(/^s3:/, "")).join(" | "), `${entry.filterPrefix ?? ""}*${entry.filterSuffix ?? ""}`].join(", "));
    }
  }
  for (const config of graph.of(TYPES.eventInvokeConfig)) {
    const fn = graph.functionFor(config.props.functionName);
    for (const [kind, label] of [["onFailure", "failed events"], ["onSuccess", "results"]] as const) {
      const destination = graph.withArn(config.props.destinationConfig?.[kind]?.destination);
      if (fn && chart.has(destination)) chart.edge(chart.idOf(fn), chart.idOf(destination), label, true);
    }
  }
}

/** Whom the alarms notify (they are written on the nodes they watch), the keys and what they encrypt, the VPC. */
function drawNotesAndKeys({ graph, chart, alarmTopicArns }: Drawing): void {
  const alarms = graph.of(TYPES.alarm);
  const top = chart.first;
  for (const topic of graph.of(TYPES.topic).filter((t) => alarmTopicArns.has(t.props.arn))) {
    const protocols = graph.of(TYPES.topicSubscription).filter((s) => s.props.topic === topic.props.arn).map((s) => s.props.protocol);
    const count = alarms.filter((a) => (a.props.alarmActions ?? []).includes(topic.props.arn)).length;
    const id = chart.node(topic, "box", [`SNS ${topic.name}`, `${plural(count, "alarm")} notify ${protocols.join(", ") || "no subscriber"}`]);
    if (top) chart.below(top, id);
  }
  for (const key of graph.of(TYPES.kmsKey)) {
    const references = [key.props.arn, key.props.id, key.props.keyId].filter(Boolean);
    const uses = (r: PolicyResource) => [r.props.kmsMasterKeyId, r.props.kmsKeyId, r.props.kmsKeyArn, r.props.serverSideEncryption?.kmsKeyArn].some((k) => k && references.includes(k));
    // Edges to the stores it encrypts; the functions whose environment it encrypts are
    // counted on the key, as an edge to each would widen the chart past legibility.
    const functions = graph.of(TYPES.function).filter(uses).length;
    const keyId = chart.node(key, "source", [`KMS ${key.name}`, key.props.enableKeyRotation ? "rotated yearly" : "no rotation", functions > 0 ? `and ${plural(functions, "function")}' environments` : undefined]);
    for (const r of graph.resources.filter((r) => r.type !== TYPES.function && chart.has(r) && uses(r))) chart.edge(keyId, chart.idOf(r), "encrypts", true);
  }
  const vpc = graph.of(TYPES.vpc)[0];
  if (vpc) {
    const endpoints = graph.of(TYPES.vpcEndpoint).map((e) => String(e.props.serviceName).split(".").pop());
    const nat = vpc.props.natGateways?.strategy;
    const id = chart.node(vpc, "note", [`VPC ${vpc.name}`, nat ? (nat === "None" ? "no NAT gateway" : `NAT gateways: ${nat}`) : undefined, endpoints.length ? `endpoints ${endpoints.join(", ")}` : undefined]);
    if (top) chart.below(top, id);
  }
}

/** The flowchart: nodes outside any component, then one subgraph per component, then the edges. */
function render({ graph, chart }: Drawing): string {
  // Labels wrap at 200 px by default, which stacks a function's settings into a tower.
  const lines = ['%%{init: {"flowchart": {"wrappingWidth": 260}}}%%', "flowchart TB"];
  for (const [box, nodes] of chart.nodes) {
    if (box === "") {
      lines.push(...nodes.map((n) => `  ${n}`));
      continue;
    }
    const component = graph.resources.find((r) => r.urn === box)!;
    lines.push(`  subgraph ${chart.idOf(component)} ["${mermaidText(`${component.type.split(":").pop()} ${component.name}`)}"]`, ...nodes.map((n) => `    ${n}`), "  end");
  }
  lines.push(...chart.edges.map((e) => `  ${e}`));
  if (chart.notes.length > 0) lines.push("  classDef note fill:#fff,stroke:#999,stroke-dasharray:4 3", `  class ${chart.notes.join(",")} note`);
  return lines.join("\n");
}
