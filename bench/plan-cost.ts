/**
 * `npm run bench:plan`: what evaluating the prod plan costs next to importing @pulumi/aws
 * alone (the goal: at most 1.5x). Each sample is a fresh Node process with the same loader
 * (tsx), timed inside the process with performance.now():
 *  - import: `require("@pulumi/aws")`;
 *  - plan: `require("../tools/plan")` and the whole prod plan (program evaluation, diagram,
 *    policy verdicts, text), which imports @pulumi/aws itself on the way.
 * The two kinds of samples alternate, so drift in the machine's load hits both alike.
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";

const RUNS = Number(process.env.RUNS ?? 7);
const GOAL = 1.5;

function child(mode: "import" | "plan"): void {
  const t0 = performance.now();
  if (mode === "import") {
    require("@pulumi/aws");
    report(performance.now() - t0);
    return;
  }
  const { buildPlan } = require("../tools/plan") as typeof import("../tools/plan");
  const { planAsText } = require("../tools/plan-render") as typeof import("../tools/plan-render");
  buildPlan("prod").then((plan) => {
    const text = planAsText(plan);
    if (!text.includes("flowchart LR")) throw new Error("the plan has no diagram");
    report(performance.now() - t0);
  });
}

function report(ms: number): void {
  process.stdout.write(`\nPLAN_COST ${ms.toFixed(1)}\n`, () => process.exit(0));
}

function sample(mode: "import" | "plan"): number {
  const out = execFileSync(process.execPath, ["--require", "tsx/cjs", __filename, mode], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const match = /PLAN_COST ([\d.]+)/.exec(out);
  if (!match) throw new Error(`no PLAN_COST line from the ${mode} child:\n${out.slice(-2000)}`);
  return Number(match[1]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function main(): void {
  const samples = { import: [] as number[], plan: [] as number[] };
  sample("plan"); // warms the disk caches (tsx transforms, bundles) that every later run shares
  for (let run = 0; run < RUNS; run += 1) {
    samples.import.push(sample("import"));
    samples.plan.push(sample("plan"));
  }
  const importMs = median(samples.import);
  const planMs = median(samples.plan);
  const ratio = planMs / importMs;
  console.log(`Prod plan vs. importing @pulumi/aws alone: ${RUNS} fresh processes each, medians (node ${process.version}, tsx loader in both)\n`);
  console.log(`  import @pulumi/aws     ${importMs.toFixed(0).padStart(6)} ms   samples ${samples.import.map((s) => s.toFixed(0)).join(" ")}`);
  console.log(`  plan prod (complete)   ${planMs.toFixed(0).padStart(6)} ms   samples ${samples.plan.map((s) => s.toFixed(0)).join(" ")}`);
  console.log(`\n  ratio ${ratio.toFixed(2)}x (goal: at most ${GOAL}x) ${ratio <= GOAL ? "met" : "NOT met"}`);
}

if (process.argv[2] === "import" || process.argv[2] === "plan") child(process.argv[2]);
else main();
