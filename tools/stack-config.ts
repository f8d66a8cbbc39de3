/**
 * Reads a stack's configuration the way the Pulumi CLI does: the project's declared keys
 * with their defaults from Pulumi.yaml, then the stack's own values from
 * Pulumi.<stack>.yaml, every value a string keyed `namespace:key`.
 */
import * as fs from "fs";
import * as path from "path";
// js-yaml, because @pulumi/pulumi loads it anyway: a second YAML parser would cost every
// plan its load time.
import { load as parse } from "js-yaml";

interface DeclaredKey {
  type?: "string" | "integer" | "boolean" | "array";
  default?: unknown;
  secret?: boolean;
  description?: string;
}

export interface StackConfig {
  project: string;
  stack: string;
  /** `namespace:key` to its value, as strings, like `PULUMI_CONFIG`. */
  config: Record<string, string>;
  secretKeys: string[];
  /** Secret keys given a stand-in value because this machine cannot decrypt or has none. */
  placeholders: string[];
}

/** What a declared secret holds when an offline evaluation has no value for it. */
export const SECRET_PLACEHOLDER = "offline-placeholder-secret-5f2c9a7e41d3b86c";

export class StackConfigFileError extends Error {}

function readYaml(file: string): any {
  if (!fs.existsSync(file)) throw new StackConfigFileError(`${file} does not exist.`);
  return parse(fs.readFileSync(file, "utf8")) ?? {};
}

/** The stack names that have a Pulumi.<stack>.yaml in `root`. */
export function listStacks(root: string): string[] {
  return fs.readdirSync(root).map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1]).filter((s): s is string => !!s).sort();
}

function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Whether `value` is of the declared type, as the CLI checks it. */
function hasType(value: unknown, type: DeclaredKey["type"]): boolean {
  switch (type) {
    case "integer": return Number.isInteger(typeof value === "string" ? Number(value) : value) && String(value).trim() !== "";
    case "boolean": return typeof value === "boolean" || value === "true" || value === "false";
    case "array": return Array.isArray(value);
    default: return typeof value === "string";
  }
}

/**
 * The stack's config with the project's defaults applied. Declared secrets without a
 * usable value (none set, or encrypted for a CLI this machine lacks) get
 * {@link SECRET_PLACEHOLDER}; any other missing value is an error, as with the CLI.
 */
export function loadStackConfig(stack: string, root = process.cwd()): StackConfig {
  const projectFile = readYaml(path.join(root, "Pulumi.yaml"));
  const project: string = projectFile.name;
  const declared: Record<string, DeclaredKey> = projectFile.config ?? {};
  const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    throw new StackConfigFileError(`No stack "${stack}": ${path.basename(stackFile)} does not exist. Stacks here: ${listStacks(root).join(", ") || "none"}.`);
  }
  const values: Record<string, unknown> = readYaml(stackFile).config ?? {};
  const problems: string[] = [];
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];

  for (const [fullKey, value] of Object.entries(values)) {
    const [namespace, key] = fullKey.includes(":") ? fullKey.split(":", 2) : [project, fullKey];
    if (namespace === project && !(key in declared)) {
      problems.push(`${fullKey} is not declared in Pulumi.yaml; declare it (type, description, default) or remove it.`);
      continue;
    }
    if (value && typeof value === "object" && "secure" in (value as object)) continue; // encrypted: handled below
    const type = namespace === project ? declared[key].type : undefined;
    if (type && !hasType(value, type)) {
      problems.push(`${fullKey} = ${JSON.stringify(value)} is not of type ${type}.`);
      continue;
    }
    config[`${namespace}:${key}`] = asConfigString(value);
  }

  for (const [key, declaration] of Object.entries(declared)) {
    const fullKey = `${project}:${key}`;
    if (declaration.secret) secretKeys.push(fullKey);
    if (fullKey in config) continue;
    if (declaration.default !== undefined) {
      config[fullKey] = asConfigString(declaration.default);
    } else if (declaration.secret) {
      config[fullKey] = SECRET_PLACEHOLDER;
      placeholders.push(fullKey);
    } else {
      problems.push(`${fullKey} is not set and has no default: \`pulumi config set ${key} <value> --stack ${stack}\`.`);
    }
  }
  if (problems.length > 0) throw new StackConfigFileError(`Stack "${stack}" config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return { project, stack, config, secretKeys, placeholders };
}
