/**
 * A memory size per function: the one with the lowest monthly cost whose p99 duration stays
 * within the latency the user allows (AWS Lambda Power Tuning's idea, offline): durations
 * measured at a few sizes (by a bench run or by hand, in a JSON file), the cost model of
 * estimate.ts at the stack's traffic.
 *
 * Sizes not measured get durations from this assumption. Lambda gives a function CPU in
 * proportion to its memory, one full vCPU at 1,769 MB; a Node.js handler runs on one
 * thread, so more memory past that buys it nothing. Between two measured sizes a duration
 * is `a + b / cpu` (a fixed part, such as waiting on DynamoDB, and a CPU-bound part),
 * fitted through both; below the smallest measured size all of it is taken as CPU-bound
 * (the slowest it could get, so a latency limit is never promised on hope); above the
 * largest, none of it is (no speed-up is assumed that was not measured).
 */
import * as fs from "fs";
import { StackConfigError } from "../../app/settings";
import { table } from "../plan-format";
import { cell } from "../plan-render";
import { FunctionUsage } from "./estimate";
import { HOURS_PER_MONTH, RegionPrices } from "./prices";
import { dollars } from "./render";

/** Lambda's memory range and the size with one full vCPU. */
export const MEMORY_RANGE = { min: 128, max: 10240, oneVcpu: 1769 } as const;
/** The sizes tried besides the measured ones. */
export const CANDIDATE_SIZES = [128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096, 6144, 8192, 10240];

export interface Measurement {
  memoryMb: number;
  averageMs: number;
  p99Ms: number;
}

export interface DurationsFile {
  /** The p99 latency allowed, in ms, where a function does not give its own. */
  maxP99Ms?: number;
  functions: Record<string, { maxP99Ms?: number; measured: Measurement[] }>;
}

/** Reads and checks a durations file; every problem is reported at once. */
export function readDurations(file: string): DurationsFile {
  let parsed: any;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`Cannot read the durations file ${file}: ${(error as Error).message}`);
  }
  return checkDurations(parsed, file);
}

export function checkDurations(parsed: any, where: string): DurationsFile {
  const problems: string[] = [];
  const positive = (value: unknown) => typeof value === "number" && Number.isFinite(value) && value > 0;
  if (parsed?.maxP99Ms !== undefined && !positive(parsed.maxP99Ms)) problems.push(`maxP99Ms = ${JSON.stringify(parsed.maxP99Ms)} is not a latency in ms above 0.`);
  if (!parsed || typeof parsed.functions !== "object" || Array.isArray(parsed.functions)) {
    problems.push(`"functions" is missing: give {"functions": {"<function>": {"measured": [{"memoryMb": 512, "averageMs": 40, "p99Ms": 90}]}}}.`);
  } else {
    for (const [name, entry] of Object.entries<any>(parsed.functions)) {
      if (entry?.maxP99Ms !== undefined && !positive(entry.maxP99Ms)) problems.push(`functions.${name}.maxP99Ms = ${JSON.stringify(entry.maxP99Ms)} is not a latency in ms above 0.`);
      if (!Array.isArray(entry?.measured) || entry.measured.length === 0) {
        problems.push(`functions.${name}.measured is not a non-empty list of {memoryMb, averageMs, p99Ms}.`);
        continue;
      }
      entry.measured.forEach((m: any, index: number) => {
        const at = `functions.${name}.measured[${index}]`;
        if (!Number.isInteger(m?.memoryMb) || m.memoryMb < MEMORY_RANGE.min || m.memoryMb > MEMORY_RANGE.max) problems.push(`${at}.memoryMb = ${JSON.stringify(m?.memoryMb)} is not a whole number of MB in ${MEMORY_RANGE.min}-${MEMORY_RANGE.max}.`);
        if (!positive(m?.averageMs) || !positive(m?.p99Ms) || m.p99Ms < m.averageMs) problems.push(`${at}: averageMs and p99Ms must be ms above 0, p99Ms at least averageMs (got ${JSON.stringify(m?.averageMs)}, ${JSON.stringify(m?.p99Ms)}).`);
      });
      const sizes = entry.measured.map((m: any) => m?.memoryMb);
      if (new Set(sizes).size !== sizes.length) problems.push(`functions.${name}.measured lists a memory size twice.`);
    }
  }
  if (problems.length > 0) throw new StackConfigError(`durations file ${where}`, problems);
  return parsed as DurationsFile;
}

const cpu = (memoryMb: number) => Math.min(memoryMb, MEMORY_RANGE.oneVcpu) / MEMORY_RANGE.oneVcpu;

/** A duration at `memoryMb` from the measurements, by the assumption in this file's comment. */
export function durationAt(measured: Measurement[], memoryMb: number, field: "averageMs" | "p99Ms"): number {
  const sorted = [...measured].sort((x, y) => x.memoryMb - y.memoryMb);
  const exact = sorted.find((m) => m.memoryMb === memoryMb);
  if (exact) return exact[field];
  const below = sorted.filter((m) => m.memoryMb < memoryMb).pop();
  const above = sorted.find((m) => m.memoryMb > memoryMb);
  if (!below) return above![field] * (cpu(above!.memoryMb) / cpu(memoryMb));
  if (!above) return below[field];
  const [x1, x2] = [1 / cpu(below.memoryMb), 1 / cpu(above.memoryMb)];
  if (x1 === x2) return below[field] + ((above[field] - below[field]) * (memoryMb - below.memoryMb)) / (above.memoryMb - below.memoryMb);
  const b = (below[field] - above[field]) / (x1 - x2);
  return above[field] + b * (1 / cpu(memoryMb) - x2);
}

/** The function's monthly Lambda cost at `memoryMb` with `averageMs` per invocation (first price tier). */
export function monthlyAt(usage: FunctionUsage, memoryMb: number, averageMs: number, prices: RegionPrices): number {
  const arch = prices.lambda[usage.architecture];
  const gb = memoryMb / 1024;
  const used = usage.invocations * (Math.ceil(averageMs) / 1000) * gb;
  const requests = usage.invocations * prices.lambda.request;
  if (usage.provisioned > 0) {
    const capacity = usage.provisioned * gb * HOURS_PER_MONTH * 3600;
    const onProvisioned = Math.min(used, capacity);
    return requests + capacity * arch.provisionedConcurrency + onProvisioned * arch.provisionedDuration + (used - onProvisioned) * arch.duration[0].price;
  }
  const init = usage.invocations * (usage.coldStartPercent / 100) * (Math.ceil(usage.initDurationMs) / 1000) * gb;
  return requests + (used + init) * arch.duration[0].price;
}

export interface Option {
  memoryMb: number;
  averageMs: number;
  p99Ms: number;
  monthly: number;
  measured: boolean;
}

export interface Recommendation {
  function: string;
  currentMb: number;
  invocations: number;
  maxP99Ms?: number;
  /** Undefined when the function was not measured or no size meets the limit. */
  recommended?: Option;
  current?: Option;
  options: Option[];
  reason: string;
}

/** For each function of the stack, the cheapest size meeting its p99 limit. */
export function recommendMemory(usages: FunctionUsage[], durations: DurationsFile, prices: RegionPrices, maxP99Ms?: number): Recommendation[] {
  const unknown = Object.keys(durations.functions).filter((name) => !usages.some((u) => u.name === name));
  if (unknown.length > 0) throw new Error(`The durations file names ${unknown.join(", ")}, which the stack does not have; its functions: ${usages.map((u) => u.name).join(", ")}.`);
  return usages.map((usage) => {
    const entry = durations.functions[usage.name];
    const base = { function: usage.name, currentMb: usage.memoryMb, invocations: usage.invocations };
    if (!entry) return { ...base, options: [], reason: "not measured" };
    const limit = entry.maxP99Ms ?? durations.maxP99Ms ?? maxP99Ms;
    const sizes = [...new Set([...CANDIDATE_SIZES, ...entry.measured.map((m) => m.memoryMb), usage.memoryMb])].sort((a, b) => a - b);
    const options = sizes.map((memoryMb) => {
      const averageMs = durationAt(entry.measured, memoryMb, "averageMs");
      return { memoryMb, averageMs, p99Ms: durationAt(entry.measured, memoryMb, "p99Ms"), monthly: monthlyAt(usage, memoryMb, averageMs, prices), measured: entry.measured.some((m) => m.memoryMb === memoryMb) };
    });
    const current = options.find((o) => o.memoryMb === usage.memoryMb);
    const within = options.filter((o) => limit === undefined || o.p99Ms <= limit);
    // Cheapest; ties (a function without traffic) go to the smallest size.
    const recommended = within.sort((a, b) => a.monthly - b.monthly || a.memoryMb - b.memoryMb)[0];
    const reason = recommended
      ? `${limit === undefined ? "no latency limit given: the cheapest size" : `the cheapest size with p99 <= ${limit} ms`}${recommended.measured ? " (measured)" : " (estimated between or beyond the measured sizes)"}`
      : `no size keeps p99 within ${limit} ms; the fastest is ${Math.round(Math.min(...options.map((o) => o.p99Ms)))} ms`;
    return { ...base, maxP99Ms: limit, recommended, current, options, reason };
  });
}

const ms = (value: number) => `${Math.round(value)} ms`;
const choice = (r: Recommendation) => (r.recommended ? `${r.recommended.memoryMb} MB` : "-");
const saving = (r: Recommendation) => (r.recommended && r.current ? dollars(r.current.monthly - r.recommended.monthly) : "-");

export function recommendationsAsText(recommendations: Recommendation[], stack: string): string {
  return [
    `Memory per function for stack "${stack}": the cheapest size whose p99 stays within the limit (durations between and beyond the measured sizes estimated; docs/cost.md)`,
    "",
    table([
      ["FUNCTION", "NOW", "RECOMMENDED", "P99", "MONTHLY NOW", "MONTHLY THEN", "SAVES", "WHY"],
      ...recommendations.map((r) => [r.function, `${r.currentMb} MB`, choice(r), r.recommended ? ms(r.recommended.p99Ms) : "-", r.current ? dollars(r.current.monthly) : "-", r.recommended ? dollars(r.recommended.monthly) : "-", saving(r), r.reason]),
    ]),
  ].join("\n");
}

export function recommendationsAsMarkdown(recommendations: Recommendation[], stack: string): string {
  return [
    `### Memory per function for \`${stack}\``,
    "",
    "| function | now | recommended | p99 | monthly now | monthly then | saves | why |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    ...recommendations.map((r) => `| ${cell(r.function)} | ${r.currentMb} MB | ${choice(r)} | ${r.recommended ? ms(r.recommended.p99Ms) : "-"} | ${r.current ? dollars(r.current.monthly) : "-"} | ${r.recommended ? dollars(r.recommended.monthly) : "-"} | ${saving(r)} | ${cell(r.reason)} |`),
  ].join("\n");
}

export function recommendationsAsJson(recommendations: Recommendation[], stack: string): string {
  return JSON.stringify({ stack, recommendations }, null, 2);
}
