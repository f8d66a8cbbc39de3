/**
 * The plan and the stack diff as text (terminal), markdown (a pull-request comment, where
 * GitHub renders the ```mermaid block) and JSON (machines).
 */
import { plainValue, StackDiff } from "./diff";
import { RecordedResource } from "./mock-engine";
import type { Graph } from "../policy/graph";
import type { StackConfig } from "./stack-config";
import { deploymentSummaries, describeDeployment, keySettings, plannedResources, shortType, table, tagSummary, TagSummary, treeOrder, withSecretsHidden } from "./plan-format";
import { mandatoryViolations, stackGraph, Verdict } from "./policy-check";

export interface StackPlan {
  project: string;
  stack: string;
  region: string;
  /** Everything registered, the root stack resource included. */
  resources: RecordedResource[];
  outputs: Record<string, any>;
  /** Secret keys that had no value offline and got a placeholder. */
  placeholders: string[];
  /** The config it was evaluated with (the traffic model of its cost estimate is in it). */
  config: StackConfig;
  /** Mermaid flowchart source. */
  diagram: string;
  verdicts: Verdict[];
}

const planned = (plan: StackPlan) => plannedResources(plan.resources);

function headline(plan: StackPlan): string {
  return `Plan for stack "${plan.stack}" of ${plan.project} (region ${plan.region}): ${planned(plan).length} resources to create`;
}

function placeholderNote(plan: StackPlan): string[] {
  if (plan.placeholders.length === 0) return [];
  return [`Note: ${plan.placeholders.join(", ")} not readable offline; a placeholder stood in. The real CLI requires: pulumi config set --secret <key> <value> --stack ${plan.stack}`];
}

function verdictSummary(verdicts: Verdict[]): string {
  const violations = verdicts.flatMap((v) => v.violations);
  const mandatory = mandatoryViolations(verdicts).length;
  const rulesFailing = verdicts.filter((v) => v.violations.length > 0).length;
  return `${verdicts.length} rules, ${verdicts.length - rulesFailing} pass; ${mandatory} mandatory violation${mandatory === 1 ? "" : "s"}, ${violations.length - mandatory} advisory`;
}

const verdictStatus = (v: Verdict) => (v.enforcementLevel === "disabled" ? "OFF" : v.violations.length === 0 ? "PASS" : v.enforcementLevel === "mandatory" ? "FAIL" : "WARN");

function tagsHeadline(summary: TagSummary): string {
  return `Tags of the ${summary.taggable} taggable resources: all carry ${summary.common.join(" ") || "nothing in common"}; ${summary.untagged.length} untagged`;
}

function tagsAsText(summary: TagSummary): string[] {
  return [
    `${tagsHeadline(summary)}:`,
    ...(summary.sets.length > 0 ? [table(summary.sets.map((set) => [`  ${set.tags || "(nothing more)"}`, `${set.resources} resource${set.resources === 1 ? "" : "s"}`]))] : []),
    ...summary.untagged.map((name) => `  untagged: ${name}`),
  ];
}

/** One line per safe deployment: the function, its strategy, hooks and rollback alarms. */
function deploymentLines(graph: Graph): string[] {
  return deploymentSummaries(graph).map(describeDeployment);
}

export function planAsText(plan: StackPlan): string {
  const resources = planned(plan);
  const graph = stackGraph(plan.resources);
  const deployments = deploymentLines(graph);
  const rows = [["TYPE", "NAME", "SETTINGS"], ...treeOrder(resources).map(({ resource, depth }) => [shortType(resource.type), `${"  ".repeat(depth)}${resource.name}`, keySettings(resource, graph)])];
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(shortType(r.type), (counts.get(shortType(r.type)) ?? 0) + 1);
  const verdictRows = [["RESULT", "RULE", "LEVEL", "CHECKED"], ...plan.verdicts.map((v) => [verdictStatus(v), v.policy, v.enforcementLevel, `${v.checked} ${v.kind === "stack" ? "(stack)" : ""}`.trim()])];
  return [
    headline(plan),
    "",
    table(rows),
    "",
    `By type: ${[...counts].map(([type, count]) => `${type} ${count}`).join(", ")}`,
    "",
    ...tagsAsText(tagSummary(resources)),
    "",
    ...(deployments.length > 0 ? [`Safe deployments (CodeDeploy shifts each alias; runner and hooks not drawn in the diagram):`, ...deployments.map((line) => `  ${line}`), ""] : []),
    "Stack outputs (mock values):",
    ...Object.entries(withSecretsHidden(plan.outputs) as Record<string, unknown>).map(([key, value]) => `  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`),
    ...(plan.placeholders.length ? ["", ...placeholderNote(plan)] : []),
    "",
    "Architecture (Mermaid; --markdown wraps it for a pull-request comment):",
    "",
    plan.diagram,
    "",
    `Policy pack (policy/, config policy/config.json): ${verdictSummary(plan.verdicts)}`,
    "",
    table(verdictRows),
    ...plan.verdicts.filter((v) => v.configured).map((v) => `  ${v.policy} configured in policy/config.json: ${JSON.stringify(v.configured)}`),
    ...plan.verdicts.flatMap((v) => v.violations).map((v) => `  ${v.enforcementLevel.toUpperCase()} ${v.policy} on ${shortType(v.type)} ${v.name}: ${v.message}`),
  ].join("\n");
}

/** Text for a markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function verdictsMarkdown(verdicts: Verdict[]): string[] {
  const icon = { PASS: "✅", FAIL: "❌", WARN: "⚠️", OFF: "➖" };
  const lines = [
    "| | rule | level | checked |",
    "|---|---|---|---|",
    ...verdicts.map((v) => `| ${icon[verdictStatus(v)]} | \`${v.policy}\` | ${v.enforcementLevel} | ${v.checked}${v.kind === "stack" ? " (stack)" : ""} |`),
  ];
  const configured = verdicts.filter((v) => v.configured);
  if (configured.length > 0) {
    lines.push("", "**Configured in `policy/config.json`**", "", ...configured.map((v) => `- \`${v.policy}\`: \`${cell(JSON.stringify(v.configured))}\``));
  }
  const violations = verdicts.flatMap((v) => v.violations);
  if (violations.length > 0) {
    lines.push("", "**Violations**", "", ...violations.map((v) => `- ${v.enforcementLevel === "mandatory" ? "❌" : "⚠️"} \`${v.policy}\` on \`${shortType(v.type)} ${v.name}\`: ${v.message}`));
  }
  return lines;
}

function tagsAsMarkdown(summary: TagSummary): string[] {
  return [
    `<details><summary>${cell(tagsHeadline(summary))}</summary>`,
    "",
    "| tags beyond those | resources |",
    "|---|---|",
    ...summary.sets.map((set) => `| ${cell(set.tags ? `\`${set.tags}\`` : "(nothing more)")} | ${set.resources} |`),
    ...summary.untagged.map((name) => `| untagged: ${cell(name)} | 1 |`),
    "",
    "</details>",
  ];
}

export function planAsMarkdown(plan: StackPlan): string {
  const mandatory = mandatoryViolations(plan.verdicts).length;
  const resources = treeOrder(planned(plan));
  const graph = stackGraph(plan.resources);
  const deployments = deploymentLines(graph);
  return [
    `### ${mandatory > 0 ? "❌" : "✅"} Plan for \`${plan.stack}\`: ${planned(plan).length} resources (${plan.project}, ${plan.region})`,
    "",
    `Policy pack: ${verdictSummary(plan.verdicts)}.`,
    ...(plan.placeholders.length ? ["", `> ${placeholderNote(plan)[0]}`] : []),
    "",
    "```mermaid",
    plan.diagram,
    "```",
    "",
    "<details><summary>Policy verdicts</summary>",
    "",
    ...verdictsMarkdown(plan.verdicts),
    "",
    "</details>",
    "",
    ...tagsAsMarkdown(tagSummary(planned(plan))),
    "",
    ...(deployments.length > 0 ? [`<details><summary>Safe deployments (${deployments.length})</summary>`, "", ...deployments.map((line) => `- ${cell(line)}`), "", "</details>", ""] : []),
    `<details><summary>Resources (${resources.length})</summary>`,
    "",
    "| type | name | settings |",
    "|---|---|---|",
    ...resources.map(({ resource, depth }) => `| ${cell(shortType(resource.type))} | ${"&nbsp;&nbsp;".repeat(depth)}${cell(resource.name)} | ${cell(keySettings(resource, graph))} |`),
    "",
    "</details>",
  ].join("\n");
}

export async function planAsJson(plan: StackPlan): Promise<string> {
  const graph = stackGraph(plan.resources);
  const resources = await Promise.all(planned(plan).map(async (r) => ({
    urn: r.urn, type: r.type, name: r.name, parent: r.parent, protect: r.protect, dependencies: r.dependencies,
    settings: keySettings(r, graph), inputs: await plainValue(r.inputs),
  })));
  const mandatory = mandatoryViolations(plan.verdicts).length;
  return JSON.stringify({
    project: plan.project, stack: plan.stack, region: plan.region,
    summary: { resources: resources.length, rules: plan.verdicts.length, mandatoryViolations: mandatory, advisoryViolations: plan.verdicts.flatMap((v) => v.violations).length - mandatory },
    resources, outputs: await plainValue(plan.outputs), placeholders: plan.placeholders, diagram: plan.diagram, verdicts: plan.verdicts,
  }, null, 2);
}

/** A value cut to `width` in the middle, where two long ARNs or documents usually agree. */
function shown(value: string | undefined, width = 80): string {
  if (value === undefined) return "(unset)";
  if (value.length <= width) return value;
  const head = Math.floor((width - 1) / 2);
  return `${value.slice(0, head)}…${value.slice(value.length - (width - 1 - head))}`;
}

function diffCounts(diff: StackDiff): string {
  const count = (status: string) => diff.resources.filter((r) => r.status === status).length;
  return `${count("only-second")} only in ${diff.second}, ${count("only-first")} only in ${diff.first}, ${count("changed")} changed, ${diff.unchanged} the same`;
}

export function diffAsText(diff: StackDiff, first: StackPlan, second: StackPlan): string {
  const lines = [`Differences between stacks "${diff.first}" and "${diff.second}" (${planned(first).length} and ${planned(second).length} resources): ${diffCounts(diff)}`];
  for (const [status, title] of [["only-second", `Only in ${diff.second}`], ["only-first", `Only in ${diff.first}`]] as const) {
    const only = diff.resources.filter((r) => r.status === status);
    if (only.length > 0) lines.push("", `${title}:`, ...only.map((r) => `  ${r.type.padEnd(36)} ${r.name}`));
  }
  const changed = diff.resources.filter((r) => r.status === "changed");
  if (changed.length > 0) {
    lines.push("", `Changed (setting: ${diff.first} -> ${diff.second}):`);
    for (const r of changed) {
      lines.push(`  ${r.type} ${r.name}`);
      const rows = r.changes.map((c) => [`    ${c.path}`, shown(c.from), "->", shown(c.to)]);
      lines.push(table(rows));
    }
  }
  lines.push("", `Policy pack: ${diff.first}: ${verdictSummary(first.verdicts)}; ${diff.second}: ${verdictSummary(second.verdicts)}`);
  return lines.join("\n");
}

export function diffAsMarkdown(diff: StackDiff, first: StackPlan, second: StackPlan): string {
  const lines = [`### \`${diff.first}\` vs \`${diff.second}\`: ${diffCounts(diff)}`, ""];
  const only = diff.resources.filter((r) => r.status !== "changed");
  if (only.length > 0) {
    lines.push("| only in | type | name |", "|---|---|---|", ...only.map((r) => `| ${r.status === "only-first" ? diff.first : diff.second} | ${cell(r.type)} | ${cell(r.name)} |`), "");
  }
  const changed = diff.resources.filter((r) => r.status === "changed");
  if (changed.length > 0) {
    lines.push(`| resource | setting | ${diff.first} | ${diff.second} |`, "|---|---|---|---|");
    for (const r of changed) {
      for (const c of r.changes) lines.push(`| ${cell(`${r.type} ${r.name}`)} | \`${cell(c.path)}\` | ${cell(shown(c.from, 60))} | ${cell(shown(c.to, 60))} |`);
    }
    lines.push("");
  }
  lines.push(`Policy pack: \`${diff.first}\`: ${verdictSummary(first.verdicts)}; \`${diff.second}\`: ${verdictSummary(second.verdicts)}.`);
  return lines.join("\n");
}

export function diffAsJson(diff: StackDiff, first: StackPlan, second: StackPlan): string {
  const summary = (plan: StackPlan) => ({ resources: planned(plan).length, mandatoryViolations: mandatoryViolations(plan.verdicts).length });
  return JSON.stringify({ ...diff, stacks: { [first.stack]: summary(first), [second.stack]: summary(second) } }, null, 2);
}
