/**
 * The architecture of a stack as a Mermaid flowchart, derived from the registered resource
 * graph alone (no names are assumed): API -> routes -> functions (through each route's
 * integration), functions -> tables / queues / parameters (from the statements of their
 * roles), queue -> consumer (event source mapping) -> dead-letter queue (redrive policy),
 * and alarms -> topic. GitHub renders it in a ```mermaid block of a pull-request comment.
 */
import { RecordedResource } from "./mock-engine";
import { parseFunctionReference, statementsOf, TYPES } from "../policy/rules";

const SNS_TOPIC = "aws:sns/topic:Topic";

/** Mermaid label text: quotes and the characters Mermaid reads as markup become entities. */
export function mermaidText(text: string): string {
  return text.replace(/[&"<>#|]/g, (c) => `#${c.charCodeAt(0)};`).replace(/#60;br\/#62;/g, "<br/>");
}

class Flowchart {
  private readonly ids = new Map<string, string>();
  readonly nodes: string[] = [];
  readonly edges: string[] = [];
  node(resource: RecordedResource, shape: [string, string], label: string): string {
    const id = this.idOf(resource);
    this.nodes.push(`${id}${shape[0]}"${mermaidText(label)}"${shape[1]}`);
    return id;
  }
  idOf(resource: RecordedResource): string {
    let id = this.ids.get(resource.urn);
    if (!id) {
      id = `${resource.name.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 30)}_${this.ids.size}`;
      this.ids.set(resource.urn, id);
    }
    return id;
  }
  has(resource: RecordedResource): boolean {
    return this.ids.has(resource.urn);
  }
  edge(from: string, to: string, label?: string, dotted = false): void {
    const arrow = dotted ? "-.->" : "-->";
    this.edges.push(label ? `${from} ${arrow}|"${mermaidText(label)}"| ${to}` : `${from} ${arrow} ${to}`);
  }
}

const shortActions = (actions: string[]) => [...new Set(actions.map((a) => a.split(":")[1]))].join(", ");

/** The Mermaid source (without the ``` fence) of the stack's architecture. */
export function architectureDiagram(resources: RecordedResource[]): string {
  const byType = new Map<string, RecordedResource[]>();
  for (const r of resources) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const of = (type: string) => byType.get(type) ?? [];
  const chart = new Flowchart();
  const functions = of(TYPES.function);
  const functionFor = (reference: unknown) => {
    const { name } = parseFunctionReference(reference);
    return functions.find((fn) => fn.inputs.name === name || fn.outputs.arn === reference);
  };
  const alarmsOn = (key: string, value: unknown) => of(TYPES.alarm).filter((a) => a.inputs.dimensions?.[key] === value);

  // Functions first, inside the VPC when they run in one.
  const functionNodes = functions.map((fn) => {
    const i = fn.inputs;
    const provisioned = of(TYPES.provisionedConcurrency).find((p) => p.inputs.functionName === i.name);
    const details = [
      `${i.memorySize} MB, ${i.timeout} s`,
      i.reservedConcurrentExecutions !== undefined ? `reserved ${i.reservedConcurrentExecutions}` : undefined,
      provisioned ? `alias ${provisioned.inputs.qualifier} + provisioned ${provisioned.inputs.provisionedConcurrentExecutions}` : undefined,
    ].filter(Boolean).join(", ");
    return { fn, inVpc: !!i.vpcConfig, line: `${chart.idOf(fn)}("${mermaidText(`λ ${fn.name}<br/>${details}`)}")` };
  });
  const vpc = of("awsx:ec2:Vpc")[0];
  const outside = functionNodes.filter((f) => !f.inVpc).map((f) => f.line);
  const inside = functionNodes.filter((f) => f.inVpc).map((f) => `  ${f.line}`);

  for (const api of of(TYPES.api)) {
    const stage = of(TYPES.stage).find((s) => s.inputs.apiId === api.id);
    const throttle = stage?.inputs.defaultRouteSettings;
    const apiId = chart.node(api, ["[", "]"], [
      `HTTP API ${api.name}`,
      stage ? `stage ${stage.inputs.name}` : "no stage",
      throttle ? `throttle ${throttle.throttlingRateLimit} rps, burst ${throttle.throttlingBurstLimit}` : "no throttling",
      stage?.inputs.accessLogSettings ? "JSON access logs" : "no access logs",
    ].join("<br/>"));
    for (const route of of(TYPES.route).filter((r) => r.inputs.apiId === api.id)) {
      const auth = route.inputs.authorizationType ?? "NONE";
      const routeId = chart.node(route, ["[/", "/]"], `${route.inputs.routeKey}<br/>${auth === "NONE" ? "public" : auth}`);
      chart.edge(apiId, routeId);
      const integrationId = String(route.inputs.target ?? "").replace(/^integrations\//, "");
      const integration = of(TYPES.integration).find((x) => x.id === integrationId);
      const fn = integration && functionFor(integration.inputs.integrationUri);
      if (fn) {
        const qualifier = parseFunctionReference(integration!.inputs.integrationUri).qualifier;
        chart.edge(routeId, chart.idOf(fn), qualifier ? `alias ${qualifier}` : undefined);
      }
    }
  }

  // What each function's role lets it reach: tables, queues, parameters.
  const tables = of(TYPES.table);
  const queues = of(TYPES.queue);
  const parameters = of(TYPES.parameter);
  const mappings = of(TYPES.eventSourceMapping);
  const redriveOf = new Map(queues.filter((q) => q.inputs.redrivePolicy).map((q) => [q, JSON.parse(q.inputs.redrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number }]));
  const deadLetterArns = new Set([...redriveOf.values()].map((r) => r.deadLetterTargetArn));
  for (const table of tables) {
    const i = table.inputs;
    chart.node(table, ["[(", ")]"], [`DynamoDB ${table.name}`, [i.billingMode, i.pointInTimeRecovery?.enabled ? "PITR" : "no PITR", i.deletionProtectionEnabled ? "deletion protection" : undefined].filter(Boolean).join(", ")].join("<br/>"));
  }
  for (const queue of queues) {
    const i = queue.inputs;
    const isDeadLetter = deadLetterArns.has(queue.outputs.arn);
    chart.node(queue, ["[[", "]]"], [`SQS ${queue.name}`, isDeadLetter ? `dead letters, kept ${Math.round(i.messageRetentionSeconds / 86400)} days` : `visibility ${i.visibilityTimeoutSeconds ?? 30} s`].join("<br/>"));
  }
  for (const parameter of parameters) {
    chart.node(parameter, ["[/", "\\]"], `${String(parameter.inputs.name).split("/").pop()}<br/>${parameter.inputs.type}`);
  }
  for (const fn of functions) {
    const role = of(TYPES.role).find((r) => r.outputs.arn === fn.inputs.role);
    const statements = of(TYPES.rolePolicy).filter((p) => role && p.inputs.role === role.id).flatMap((p) => statementsOf(p.inputs.policy));
    const reach = (arnMatches: (resource: string) => boolean) => statements.filter((s) => s.Effect === "Allow" && (s.Resource ?? []).some(arnMatches)).flatMap((s) => s.Action ?? []);
    for (const table of tables) {
      const actions = reach((arn) => arn === table.outputs.arn || arn.startsWith(`${table.outputs.arn}/`));
      if (actions.length > 0) chart.edge(chart.idOf(fn), chart.idOf(table), shortActions(actions));
    }
    for (const queue of queues) {
      const consumes = mappings.some((m) => m.inputs.eventSourceArn === queue.outputs.arn && functionFor(m.inputs.functionName) === fn);
      const actions = reach((arn) => arn === queue.outputs.arn);
      if (actions.length > 0 && !consumes) chart.edge(chart.idOf(fn), chart.idOf(queue), shortActions(actions));
    }
    for (const parameter of parameters) {
      if (reach((arn) => arn === parameter.outputs.arn).length > 0) chart.edge(chart.idOf(parameter), chart.idOf(fn), "read at run time", true);
    }
  }
  for (const mapping of mappings) {
    const queue = queues.find((q) => q.outputs.arn === mapping.inputs.eventSourceArn);
    const fn = functionFor(mapping.inputs.functionName);
    if (!queue || !fn) continue;
    const partial = (mapping.inputs.functionResponseTypes ?? []).includes("ReportBatchItemFailures");
    chart.edge(chart.idOf(queue), chart.idOf(fn), [`batch ${mapping.inputs.batchSize}`, mapping.inputs.scalingConfig ? `max ${mapping.inputs.scalingConfig.maximumConcurrency}` : undefined, partial ? "partial failures" : undefined].filter(Boolean).join(", "));
  }
  for (const [queue, redrive] of redriveOf) {
    const deadLetters = queues.find((q) => q.outputs.arn === redrive.deadLetterTargetArn);
    if (deadLetters) chart.edge(chart.idOf(queue), chart.idOf(deadLetters), `after ${redrive.maxReceiveCount} receives`);
  }

  // Alarms: one node, fed by what they watch, notifying the topics they name.
  const alarms = of(TYPES.alarm);
  if (alarms.length > 0) {
    const alarmsId = "alarms";
    chart.nodes.push(`${alarmsId}{{"${mermaidText(`${alarms.length} CloudWatch alarms`)}"}}`);
    for (const fn of functions) {
      const count = alarmsOn("FunctionName", fn.inputs.name).length;
      if (count > 0) chart.edge(chart.idOf(fn), alarmsId, `${count}`, true);
    }
    for (const queue of queues) {
      const count = alarmsOn("QueueName", queue.inputs.name).length;
      if (count > 0) chart.edge(chart.idOf(queue), alarmsId, `${count}`, true);
    }
    for (const topic of of(SNS_TOPIC).filter((t) => alarms.some((a) => (a.inputs.alarmActions ?? []).includes(t.outputs.arn)))) {
      const subscriptions = of(TYPES.topicSubscription).filter((s) => s.inputs.topic === topic.outputs.arn).map((s) => s.inputs.protocol);
      const topicId = chart.node(topic, ["[", "]"], `SNS ${topic.name}${subscriptions.length ? `<br/>${subscriptions.join(", ")}` : ""}`);
      chart.edge(alarmsId, topicId);
    }
  }

  const lines = ["flowchart LR", ...chart.nodes.map((n) => `  ${n}`), ...outside.map((n) => `  ${n}`)];
  if (inside.length > 0) {
    const endpoints = of("aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => String(e.inputs.serviceName).split(".").pop());
    const nat = vpc?.inputs.natGateways?.strategy;
    const title = [`VPC ${vpc?.name ?? ""}`.trim(), nat ? `NAT ${nat}` : undefined, endpoints.length ? `endpoints ${endpoints.join(", ")}` : undefined].filter(Boolean).join(", ");
    lines.push(`  subgraph vpc ["${mermaidText(title)}"]`, ...inside.map((n) => `  ${n}`), "  end");
  }
  lines.push(...chart.edges.map((e) => `  ${e}`));
  return lines.join("\n");
}
