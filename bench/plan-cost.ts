/**
 * `npm run bench:plan`: what the prod plan costs as a user runs it, next to importing
 * @pulumi/aws alone (the goal: at most 2x). Each sample is a fresh process, timed from its
 * spawn to its exit:
 *  - import: `node -e 'require("@pulumi/aws")'`, plain Node;
 *  - import, compile cache: the same with Node's compile cache on (in a directory of its
 *    own, warmed first), which the plan's launcher (tools/ts-register.cjs) also turns on,
 *    so the second ratio shows what is left once V8's compile work is cached for both;
 *  - plan: `npm run -s plan -- prod`, the documented command: npm's start, the launcher,
 *    the program's evaluation, the diagram, the policy verdicts and the text.
 * The kinds alternate, so drift in the machine's load hits all alike; each run's plan is
 * divided by the same run's import (paired ratios), reported as median (min-max).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const RUNS = Number(process.env.RUNS ?? 7);
const GOAL = 2;
const PROJECT_ROOT = path.resolve(__dirname, "..");

type Kind = "import" | "importCached" | "plan";

function sample(kind: Kind, compileCache: string): number {
  const [command, args, env] =
    kind === "plan"
      ? ["npm", ["run", "-s", "plan", "--", "prod"], process.env]
      : [process.execPath, ["-e", 'require("@pulumi/aws")'], kind === "importCached" ? { ...process.env, NODE_COMPILE_CACHE: compileCache } : process.env];
  const t0 = performance.now();
  const result = spawnSync(command, args, { cwd: PROJECT_ROOT, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`);
  if (kind === "plan" && !result.stdout.includes("\nflowchart ")) throw new Error(`the plan has no diagram:\n${result.stdout.slice(-2000)}`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values: number[], digits: number) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;

function main(): void {
  const compileCache = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cost-"));
  try {
    const samples: Record<Kind, number[]> = { import: [], importCached: [], plan: [] };
    // Warms the disk caches every later run shares: compiled TypeScript, V8's code, bundles.
    sample("plan", compileCache);
    sample("importCached", compileCache);
    for (let run = 0; run < RUNS; run += 1) {
      for (const kind of ["import", "importCached", "plan"] as const) samples[kind].push(sample(kind, compileCache));
    }
    const ratios = samples.plan.map((ms, run) => ms / samples.import[run]);
    const cachedRatios = samples.plan.map((ms, run) => ms / samples.importCached[run]);
    const line = (label: string, values: number[]) =>
      `  ${label.padEnd(34)} ${median(values).toFixed(0).padStart(6)} ms   samples ${values.map((s) => s.toFixed(0)).join(" ")}`;
    console.log(`\`npm run -s plan -- prod\` vs. importing @pulumi/aws alone: ${RUNS} fresh processes each, spawn to exit (node ${process.version})\n`);
    console.log(line("node -e 'require(\"@pulumi/aws\")'", samples.import));
    console.log(line("  the same, compile cache on", samples.importCached));
    console.log(line("npm run -s plan -- prod", samples.plan));
    const ratio = median(ratios);
    console.log(`\n  plan / import                  ${spread(ratios, 2)}x (goal: at most ${GOAL}x) ${ratio <= GOAL ? "met" : "NOT met"}`);
    console.log(`  plan / import (compile cache)  ${spread(cachedRatios, 2)}x`);
  } finally {
    fs.rmSync(compileCache, { recursive: true, force: true });
  }
}

main();
