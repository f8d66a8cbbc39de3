/**
 * Runs the policy pack (policy/rules.ts) over the resources the mock engine recorded, the
 * way the Pulumi CLI runs it during `pulumi preview --policy-pack`: resource rules see each
 * resource's inputs, stack rules see every resource's outputs with parents and
 * dependencies; the pack config (policy/config.json) is applied over each rule's schema
 * defaults, and a rule's enforcement level can be overridden there.
 */
import * as fs from "fs";
import * as path from "path";
import type { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Graph } from "../policy/graph";
import { policies as packPolicies, Policy } from "../policy/rules";
import { RecordedResource } from "./mock-engine";

export const PACK_CONFIG_FILE = path.resolve(__dirname, "..", "policy", "config.json");

/** `--policy-pack-config` JSON: per rule, an enforcement level or an object of settings. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface Violation {
  policy: string;
  enforcementLevel: EnforcementLevel;
  message: string;
  urn: string;
  type: string;
  name: string;
}

export interface Verdict {
  policy: string;
  description: string;
  kind: "resource" | "stack";
  enforcementLevel: EnforcementLevel;
  /** Resources of the types the rule looks at. */
  checked: number;
  /** What the pack config sets for the rule (exemptions such as public routes), if anything. */
  configured?: Record<string, unknown>;
  violations: Violation[];
}

export function readPackConfig(file = PACK_CONFIG_FILE): PackConfig {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`Cannot read the policy pack config ${file}: ${(error as Error).message}`);
  }
}

function settingsFor(policy: Policy, config: PackConfig): { enforcementLevel: EnforcementLevel; settings: Record<string, unknown>; configured?: Record<string, unknown> } {
  const entry = config[policy.name] ?? config.all;
  const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([key, schema]) => [key, (schema as { default?: unknown }).default]));
  if (typeof entry === "string") return { enforcementLevel: entry, settings: defaults };
  const { enforcementLevel, ...settings } = entry ?? {};
  const unknown = Object.keys(settings).filter((key) => !(key in defaults));
  if (unknown.length > 0) throw new Error(`Policy pack config for ${policy.name} sets ${unknown.join(", ")}, which the rule does not declare; allowed: ${Object.keys(defaults).join(", ") || "none"}.`);
  return {
    enforcementLevel: enforcementLevel ?? policy.enforcementLevel ?? "advisory",
    settings: { ...defaults, ...settings },
    configured: Object.keys(settings).length > 0 ? settings : undefined,
  };
}

/** isType/asType: offline there are no @pulumi/aws classes to compare with, so a rule that asks fails loudly instead of passing. */
const notTyped = (): never => {
  throw new Error("offline policy check: isType/asType need @pulumi/aws classes; compare `type` strings instead");
};

/** The stack's resources as stack validation sees them: outputs (with the id), parents, dependencies. */
export function stackView(resources: RecordedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  for (const r of resources) {
    byUrn.set(r.urn, {
      type: r.type, name: r.name, urn: r.urn,
      props: r.custom ? { ...r.outputs, id: r.id } : { ...r.outputs },
      opts: { protect: r.protect, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: r.parent },
      dependencies: [], propertyDependencies: {},
      isType: notTyped, asType: notTyped,
    });
  }
  for (const r of resources) {
    const view = byUrn.get(r.urn)!;
    view.parent = r.parent ? byUrn.get(r.parent) : undefined;
    view.dependencies = r.dependencies.map((urn) => byUrn.get(urn)).filter((d): d is PolicyResource => d !== undefined);
  }
  return [...byUrn.values()];
}

/**
 * The one model of the recorded graph that the pack's stack rules and the tools read; for
 * the tools, each resource's props are its inputs with its outputs over them, since some
 * (components such as awsx's Vpc) return little of what they were given.
 */
export function stackGraph(resources: RecordedResource[]): Graph {
  return new Graph(stackView(resources.map((r) => ({ ...r, outputs: { ...r.inputs, ...r.outputs } }))));
}

/** Every rule's verdict on the resources, in the pack's order. */
export async function checkPolicies(resources: RecordedResource[], config: PackConfig = readPackConfig(), policies: readonly Policy[] = packPolicies): Promise<Verdict[]> {
  const stackResources = stackView(resources);
  const optionsOf = new Map(stackResources.map((r) => [r.urn, r.opts]));
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
  const verdicts: Verdict[] = [];
  for (const policy of policies) {
    const { enforcementLevel, settings, configured } = settingsFor(policy, config);
    const verdict: Verdict = {
      policy: policy.name, description: policy.description, kind: policy.kind, enforcementLevel, configured,
      checked: resources.filter((r) => policy.resourceTypes.includes(r.type)).length, violations: [],
    };
    verdicts.push(verdict);
    if (enforcementLevel === "disabled") continue;
    const add = (message: string, urn: string) => {
      const at = byUrn.get(urn);
      verdict.violations.push({ policy: policy.name, enforcementLevel, message, urn, type: at?.type ?? "", name: at?.name ?? "" });
    };
    const notApplicable = (reason?: string): never => {
      throw new Error(`policy ${policy.name} is not applicable: ${reason}`);
    };
    if (policy.kind === "resource") {
      const validate = (policy as ResourceValidationPolicy).validateResource!;
      for (const r of resources) {
        for (const check of Array.isArray(validate) ? validate : [validate]) {
          await check({
            type: r.type, name: r.name, urn: r.urn, props: r.inputs,
            opts: optionsOf.get(r.urn)!, stackTags: new Map(),
            isType: notTyped, asType: notTyped, getConfig: <T>() => settings as T, notApplicable,
          }, (message) => add(message, r.urn));
        }
      }
    } else {
      await (policy as StackValidationPolicy).validateStack(
        { resources: stackResources, stackTags: new Map(), getConfig: <T>() => settings as T, notApplicable },
        (message, urn) => add(message, urn ?? stackUrn),
      );
    }
  }
  return verdicts;
}

/** Violations that block `pulumi up`. */
export function mandatoryViolations(verdicts: Verdict[]): Violation[] {
  return verdicts.flatMap((v) => v.violations).filter((v) => v.enforcementLevel === "mandatory");
}
