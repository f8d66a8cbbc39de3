/**
 * `npm run plan -- <stack> [--markdown | --json] [--out <file>]`: what `pulumi up` would
 * create for a stack, offline, with an architecture diagram and the policy pack's verdicts.
 * `npm run plan -- --diff <first> <second> [--markdown | --json] [--out <file>]`: what
 * differs between two stacks, resource by resource and setting by setting, and what the
 * second costs per month more or less (tools/cost/).
 *
 * Each stack is the real program (index.ts) evaluated with Pulumi.yaml's defaults and the
 * stack's file applied as the CLI applies them, against the recording mock engine.
 */
import * as path from "path";
import { estimatePlan } from "./cost/estimate";
import { costDiffAsMarkdown, costDiffAsText, diffCosts } from "./cost/render";
import { architectureDiagram } from "./diagram";
import { diffStacks } from "./diff";
import { Evaluation, evaluateProgram } from "./mock-engine";
import { checkPolicies } from "./policy-check";
import { diffAsJson, diffAsMarkdown, diffAsText, planAsJson, planAsMarkdown, planAsText, StackPlan } from "./plan-render";
import { deliverOutput, OutputFormat, parseStackCommandLine } from "./stack-command";
import { loadStackConfig, StackConfig } from "./stack-config";

const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Evaluates one stack's program with its config, as `pulumi up` would run it. */
export async function evaluateStack(stack: string, root = PROJECT_ROOT): Promise<{ stackConfig: StackConfig } & Evaluation> {
  const stackConfig = loadStackConfig(stack, root);
  const previousDirectory = process.cwd();
  // Handler paths resolve against the working directory, as under `pulumi up`.
  process.chdir(root);
  try {
    return { stackConfig, ...(await evaluateProgram(path.join(root, "index.ts"), stackConfig)) };
  } finally {
    process.chdir(previousDirectory);
  }
}

/** Evaluates one stack and derives the diagram and the policy verdicts from what it registered. */
export async function buildPlan(stack: string, root = PROJECT_ROOT): Promise<StackPlan> {
  const { stackConfig, resources, outputs } = await evaluateStack(stack, root);
  return {
    project: stackConfig.project,
    stack,
    region: stackConfig.config["aws:region"] ?? "unset",
    resources,
    outputs,
    placeholders: stackConfig.placeholders,
    config: stackConfig,
    diagram: architectureDiagram(resources),
    verdicts: await checkPolicies(resources),
  };
}

export interface PlanCommand {
  format: OutputFormat;
  /** One stack to plan, or two to compare. */
  stacks: [string] | [string, string];
  /** Write the output to this file instead of standard output. */
  out?: string;
}

export const USAGE = `usage: npm run -s plan -- [<stack>] [--markdown | --json] [--out <file>]
       npm run -s plan -- --diff <first stack> <second stack> [--markdown | --json] [--out <file>]

  <stack>       the stack to plan, from Pulumi.<stack>.yaml (default dev)
  --diff        compare two stacks, resource by resource and setting by setting,
                and their monthly cost (npm run cost)
  --markdown    a pull-request comment
  --json        for machines
  --out <file>  write the output to <file> instead of standard output
  --help        this text

npm prints a banner on standard output before the plan; -s (--silent) leaves it out, so
\`npm run -s plan -- prod --json > plan.json\` is JSON. --out never carries the banner.`;

/** Reads the command line: a plan command, or "help"; throws with the usage on anything it does not understand. */
export function parsePlanArguments(args: string[]): PlanCommand | "help" {
  const line = parseStackCommandLine(args, USAGE, { "--out": "a file name" });
  if (line === "help") return line;
  const out = line.values["--out"];
  return { format: line.format, stacks: line.stacks, ...(out === undefined ? {} : { out }) };
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
  // What the change costs per month, at each stack's traffic model (tools/cost/).
  const cost = diffCosts(estimatePlan(first), estimatePlan(second));
  if (command.format === "json") return JSON.stringify({ ...JSON.parse(diffAsJson(diff, first, second)), cost }, null, 2);
  const [render, renderCost] = command.format === "markdown" ? [diffAsMarkdown, costDiffAsMarkdown] : [diffAsText, costDiffAsText];
  return `${render(diff, first, second)}\n\n${renderCost(cost)}`;
}

/** The command line: usage, or the plan on standard output or in the --out file. */
export async function main(args: string[]): Promise<void> {
  const command = parsePlanArguments(args);
  if (command === "help") console.log(USAGE);
  else deliverOutput("plan", await runPlanCommand(command), command.out);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`plan failed: ${error.message}`);
    process.exit(1);
  });
}
