/**
 * What differs between two stacks of the program, resource by resource and setting by
 * setting. Resources are matched by type and logical name (their URN without the stack);
 * each one's inputs are flattened to setting paths (`environment.variables.TABLE_NAME`,
 * `policy.Statement[Tracing].Action`), JSON documents included, and the stack's own name
 * inside values is written `<stack>`, so `serverless-orders-dev-orders` and
 * `serverless-orders-prod-orders` are the same setting. Code archives compare by digest;
 * digests of other resources' settings (a REST deployment's trigger) are left out.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { isSecretValue, RecordedResource } from "./mock-engine";
import { deploymentSummaries, plannedResources, SECRET_SHOWN, shortType } from "./plan-format";
import { stackGraph } from "./policy-check";

export interface SettingChange {
  path: string;
  /** The value in the first stack; undefined when it does not set it. */
  from?: string;
  to?: string;
}

export interface ResourceDiff {
  type: string;
  name: string;
  /** Only in the first stack, only in the second, or in both with other settings. */
  status: "only-first" | "only-second" | "changed";
  changes: SettingChange[];
}

export interface StackDiff {
  first: string;
  second: string;
  resources: ResourceDiff[];
  /** Resources present in both with the same settings. */
  unchanged: number;
}

const STACK_TOKEN = "<stack>";

/** `value` with assets and archives replaced by a digest of their content, and secrets hidden. */
export async function plainValue(value: unknown): Promise<unknown> {
  if (isSecretValue(value)) return SECRET_SHOWN;
  if (pulumi.asset.Archive.isInstance(value) || pulumi.asset.Asset.isInstance(value)) return describeAsset(value);
  if (Array.isArray(value)) return Promise.all((value as unknown[]).map(plainValue));
  if (value && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await plainValue(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

async function describeAsset(value: pulumi.asset.Asset | pulumi.asset.Archive): Promise<string> {
  const hash = createHash("sha256");
  const visit = async (item: any, at: string): Promise<void> => {
    if (item.assets) {
      const assets = await item.assets;
      for (const key of Object.keys(assets).sort()) await visit(assets[key], `${at}/${key}`);
    } else {
      hash.update(`${at}\0${(await item.text) ?? (await item.path) ?? (await item.uri) ?? ""}\0`);
    }
  };
  await visit(value, "");
  return `archive sha256:${hash.digest("hex").slice(0, 12)}`;
}

/** A key that identifies an array element better than its position, when every element has one. */
function elementKeys(items: unknown[]): string[] | undefined {
  for (const field of ["Sid", "name", "key", "routeKey"]) {
    const keys = items.map((item) => (item && typeof item === "object" ? (item as any)[field] : undefined));
    if (keys.every((k) => typeof k === "string") && new Set(keys).size === keys.length) return keys as string[];
  }
  return undefined;
}

/** `value` as setting paths to printable values; JSON documents in strings are opened too. */
export function flatten(value: unknown, at = "", into: Map<string, string> = new Map()): Map<string, string> {
  if (typeof value === "string" && /^\s*[{[]/.test(value)) {
    try {
      return flatten(JSON.parse(value), at, into);
    } catch {
      // not JSON after all: a plain string
    }
  }
  if (Array.isArray(value)) {
    const keys = elementKeys(value);
    if (value.every((v) => v === null || typeof v !== "object")) {
      into.set(at, JSON.stringify(value));
    } else {
      value.forEach((item, index) => flatten(item, `${at}[${keys ? keys[index] : index}]`, into));
    }
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) if (item !== undefined) flatten(item, at ? `${at}.${key}` : key, into);
  } else if (value !== undefined) {
    into.set(at, typeof value === "string" ? value : JSON.stringify(value));
  }
  return into;
}

/** The stack's name, as a word of its own in `text`, written `<stack>`. */
export function withoutStackName(text: string, stack: string): string {
  const escaped = stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "g"), STACK_TOKEN);
}

/** Settings a resource's inputs only imply, by URN: each deployment group's strategy in words. */
function impliedSettings(resources: RecordedResource[]): Map<string, Record<string, string>> {
  const graph = stackGraph(resources);
  const summaries = deploymentSummaries(graph);
  return new Map(graph.deployments().flatMap((d, index) => (d.group ? [[d.group.urn, { "(strategy)": summaries[index].strategy }] as const] : [])));
}

/**
 * Settings that are a digest of other resources' settings, which the diff compares one by
 * one: a REST deployment's trigger digests the API's methods, integrations, authorizers,
 * models and policy, and differs between any two stacks (their functions' ARNs carry the
 * stack's name), so shown it would be an opaque hex change on every diff.
 */
const DERIVED_SETTINGS: Record<string, string[]> = { "aws:apigateway/deployment:Deployment": ["triggers.definition"] };

async function settingsOf(resource: RecordedResource, stack: string, implied: Map<string, Record<string, string>>): Promise<Map<string, string>> {
  const flat = flatten(await plainValue(resource.inputs));
  for (const path of DERIVED_SETTINGS[resource.type] ?? []) flat.delete(path);
  if (resource.protect) flat.set("(protect)", "true");
  for (const [key, value] of Object.entries(implied.get(resource.urn) ?? {})) flat.set(key, value);
  return new Map([...flat].map(([key, value]) => [key, withoutStackName(value, stack)]));
}

/** The URN without its stack: project, parent types, type and name (two resources may share a type and a name under different parents). */
const identity = (r: RecordedResource) => r.urn.split("::").slice(1).join("::");

/** Every difference between two evaluated stacks. */
export async function diffStacks(first: { stack: string; resources: RecordedResource[] }, second: { stack: string; resources: RecordedResource[] }): Promise<StackDiff> {
  const planned = (resources: RecordedResource[]) => new Map(plannedResources(resources).map((r) => [identity(r), r]));
  const a = planned(first.resources);
  const b = planned(second.resources);
  const result: StackDiff = { first: first.stack, second: second.stack, resources: [], unchanged: 0 };
  const [impliedFirst, impliedSecond] = [impliedSettings(first.resources), impliedSettings(second.resources)];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const left = a.get(key);
    const right = b.get(key);
    const some = (left ?? right)!;
    const header = { type: shortType(some.type), name: some.name };
    if (!right) {
      result.resources.push({ ...header, status: "only-first", changes: [] });
    } else if (!left) {
      result.resources.push({ ...header, status: "only-second", changes: [] });
    } else {
      const [from, to] = await Promise.all([settingsOf(left, first.stack, impliedFirst), settingsOf(right, second.stack, impliedSecond)]);
      const changes = [...new Set([...from.keys(), ...to.keys()])].sort()
        .filter((path) => from.get(path) !== to.get(path))
        .map((path) => ({ path, from: from.get(path), to: to.get(path) }));
      if (changes.length > 0) result.resources.push({ ...header, status: "changed", changes });
      else result.unchanged += 1;
    }
  }
  return result;
}
