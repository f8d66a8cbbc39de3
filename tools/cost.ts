/**
 * `npm run cost -- <stack> [--markdown | --json] [--out <file>]`: what a stack costs per
 * month, offline, before it is deployed: the real program evaluated as `npm run plan`
 * evaluates it, each recorded resource priced at the stack's traffic model.
 * `npm run cost -- --diff <first> <second>`: what the second costs more or less per month.
 * `npm run cost -- <stack> --recommend-memory <durations.json> [--max-p99 <ms>]`: the
 * cheapest memory size per function whose p99 stays within the allowed latency.
 */
import * as path from "path";
import { estimateCost, functionUsages } from "./cost/estimate";
import { readDurations, recommendMemory, recommendationsAsJson, recommendationsAsMarkdown, recommendationsAsText } from "./cost/memory";
import { costAsJson, costAsMarkdown, costAsText, costDiffAsMarkdown, costDiffAsText, diffCosts } from "./cost/render";
import { readTraffic } from "./cost/traffic";
import { evaluateStack } from "./plan";
import { pricesFor } from "./cost/prices";
import { stackGraph } from "./policy-check";
import { deliverOutput, OutputFormat, parseStackCommandLine } from "./stack-command";
import { loadStackConfig } from "./stack-config";

const PROJECT_ROOT = path.resolve(__dirname, "..");

export const USAGE = `usage: npm run -s cost -- [<stack>] [--markdown | --json] [--out <file>]
       npm run -s cost -- --diff <first stack> <second stack> [--markdown | --json] [--out <file>]
       npm run -s cost -- [<stack>] --recommend-memory <durations.json> [--max-p99 <ms>] [--markdown | --json]

  <stack>                    the stack to price, from Pulumi.<stack>.yaml (default dev)
  --diff                     what the second stack costs per month more or less than the first
  --recommend-memory <file>  per function, the cheapest memory size whose p99 stays within the
                             allowed latency, from durations measured at some sizes (docs/cost.md)
  --max-p99 <ms>             the latency allowed where the file does not give one
  --markdown                 a pull-request comment
  --json                     for machines
  --out <file>               write the output to <file> instead of standard output
  --help                     this text

Prices: tools/cost/prices.ts (list prices, free tiers not applied); traffic: the traffic* keys
of Pulumi.yaml and the stack's file.`;

export interface CostCommand {
  format: OutputFormat;
  stacks: [string] | [string, string];
  out?: string;
  recommendMemory?: string;
  maxP99Ms?: number;
}

const VALUE_OPTIONS = { "--out": "a file name", "--recommend-memory": "a file of durations", "--max-p99": "a latency in ms" };

/** Reads the command line: a cost command, or "help"; throws with the usage on anything it does not understand. */
export function parseCostArguments(args: string[]): CostCommand | "help" {
  const line = parseStackCommandLine(args, USAGE, VALUE_OPTIONS);
  if (line === "help") return line;
  const { "--out": out, "--recommend-memory": recommendMemory, "--max-p99": maxP99 } = line.values;
  if (maxP99 !== undefined && !(Number(maxP99) > 0)) throw new Error(`--max-p99 takes a latency in ms above 0, got ${JSON.stringify(maxP99)}\n${USAGE}`);
  if (maxP99 !== undefined && recommendMemory === undefined) throw new Error(`--max-p99 goes with --recommend-memory\n${USAGE}`);
  if (recommendMemory !== undefined && line.stacks.length === 2) throw new Error(`--recommend-memory takes one stack, not --diff\n${USAGE}`);
  return {
    format: line.format,
    stacks: line.stacks,
    ...(out !== undefined ? { out } : {}),
    ...(recommendMemory !== undefined ? { recommendMemory } : {}),
    ...(maxP99 !== undefined ? { maxP99Ms: Number(maxP99) } : {}),
  };
}

/** Evaluates a stack and estimates its monthly cost; the traffic model is checked before the program runs. */
export async function estimateStack(stack: string, root = PROJECT_ROOT) {
  const traffic = readTraffic(loadStackConfig(stack, root));
  const { stackConfig, resources } = await evaluateStack(stack, root);
  const region = stackConfig.config["aws:region"] ?? "unset";
  return { estimate: estimateCost(resources, traffic, { project: stackConfig.project, stack, region }), resources, traffic, region };
}

/** Runs a cost command and returns what it prints. */
export async function runCostCommand(command: CostCommand, root = PROJECT_ROOT): Promise<string> {
  if (command.stacks.length === 2) {
    // One after the other: both evaluations share the one Pulumi runtime of this process.
    const first = await estimateStack(command.stacks[0], root);
    const second = await estimateStack(command.stacks[1], root);
    const diff = diffCosts(first.estimate, second.estimate);
    return { text: costDiffAsText, markdown: costDiffAsMarkdown, json: (d: typeof diff) => JSON.stringify(d, null, 2) }[command.format](diff);
  }
  const { estimate, resources, traffic, region } = await estimateStack(command.stacks[0], root);
  if (command.recommendMemory) {
    const durations = readDurations(path.resolve(process.env.INIT_CWD ?? process.cwd(), command.recommendMemory));
    const usages = functionUsages(stackGraph(resources), traffic);
    const recommendations = recommendMemory(usages, durations, pricesFor(region), command.maxP99Ms);
    return { text: recommendationsAsText, markdown: recommendationsAsMarkdown, json: recommendationsAsJson }[command.format](recommendations, command.stacks[0]);
  }
  return { text: costAsText, markdown: costAsMarkdown, json: costAsJson }[command.format](estimate);
}

export async function main(args: string[]): Promise<void> {
  const command = parseCostArguments(args);
  if (command === "help") console.log(USAGE);
  else deliverOutput("cost", await runCostCommand(command), command.out);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`cost failed: ${error.message}`);
    process.exit(1);
  });
}
