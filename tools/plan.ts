/**
 * `npm run plan -- <stack> [--markdown | --json]`: what `pulumi up` would create for a
 * stack, offline, with an architecture diagram and the policy pack's verdicts.
 * `npm run plan -- --diff <first> <second> [--markdown | --json]`: what differs between
 * two stacks, resource by resource and setting by setting.
 *
 * Each stack is the real program (index.ts) evaluated with Pulumi.yaml's defaults and the
 * stack's file applied as the CLI applies them, against the recording mock engine.
 */
import * as path from "path";
import { architectureDiagram } from "./diagram";
import { diffStacks } from "./diff";
import { evaluateProgram } from "./mock-engine";
import { checkPolicies } from "./policy-check";
import { diffAsJson, diffAsMarkdown, diffAsText, planAsJson, planAsMarkdown, planAsText, StackPlan } from "./plan-render";
import { loadStackConfig } from "./stack-config";

const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Evaluates one stack and derives the diagram and the policy verdicts from what it registered. */
export async function buildPlan(stack: string, root = PROJECT_ROOT): Promise<StackPlan> {
  const stackConfig = loadStackConfig(stack, root);
  const previousDirectory = process.cwd();
  // Handler paths resolve against the working directory, as under `pulumi up`.
  process.chdir(root);
  try {
    const { resources, outputs } = await evaluateProgram(path.join(root, "index.ts"), stackConfig);
    return {
      project: stackConfig.project,
      stack,
      region: stackConfig.config["aws:region"] ?? "unset",
      resources,
      outputs,
      placeholders: stackConfig.placeholders,
      diagram: architectureDiagram(resources),
      verdicts: await checkPolicies(resources),
    };
  } finally {
    process.chdir(previousDirectory);
  }
}

export type OutputFormat = "text" | "markdown" | "json";

export interface PlanCommand {
  format: OutputFormat;
  /** One stack to plan, or two to compare. */
  stacks: [string] | [string, string];
}

export const USAGE = "usage: npm run plan -- [<stack>] [--markdown | --json]\n       npm run plan -- --diff <first stack> <second stack> [--markdown | --json]";

/** Reads the command line; throws with the usage on anything it does not understand. */
export function parsePlanArguments(args: string[]): PlanCommand {
  const flags = args.filter((a) => a.startsWith("-"));
  const names = args.filter((a) => !a.startsWith("-"));
  const unknown = flags.filter((f) => !["--diff", "--markdown", "--json"].includes(f));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(", ")}\n${USAGE}`);
  if (flags.includes("--markdown") && flags.includes("--json")) throw new Error(`choose one of --markdown and --json\n${USAGE}`);
  const format: OutputFormat = flags.includes("--json") ? "json" : flags.includes("--markdown") ? "markdown" : "text";
  if (flags.includes("--diff")) {
    if (names.length !== 2) throw new Error(`--diff compares two stacks, got ${names.length}: ${names.join(" ") || "none"}\n${USAGE}`);
    return { format, stacks: [names[0], names[1]] };
  }
  if (names.length > 1) throw new Error(`one stack at a time (or --diff <first> <second>), got ${names.join(" ")}\n${USAGE}`);
  return { format, stacks: [names[0] ?? "dev"] };
}

/** Runs a plan command and returns what it prints. */
export async function runPlanCommand(command: PlanCommand, root = PROJECT_ROOT): Promise<string> {
  if (command.stacks.length === 1) {
    const plan = await buildPlan(command.stacks[0], root);
    return { text: planAsText, markdown: planAsMarkdown, json: planAsJson }[command.format](plan);
  }
  // One after the other: both evaluations share the one Pulumi runtime of this process.
  const first = await buildPlan(command.stacks[0], root);
  const second = await buildPlan(command.stacks[1], root);
  const diff = await diffStacks(first, second);
  return { text: diffAsText, markdown: diffAsMarkdown, json: diffAsJson }[command.format](diff, first, second);
}

if (require.main === module) {
  Promise.resolve()
    .then(() => runPlanCommand(parsePlanArguments(process.argv.slice(2))))
    .then(
      (output) => console.log(output),
      (error: Error) => {
        console.error(`plan failed: ${error.message}`);
        process.exit(1);
      },
    );
}
