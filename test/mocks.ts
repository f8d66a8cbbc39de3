/**
 * The one mocks harness of the test suite: every test evaluates components or the
 * program against the recording mock engine (tools/mock-engine.ts), which gives each
 * resource realistic outputs, refuses unknown data sources, and records what was
 * registered. Tests assert on the recorded inputs, which are fully resolved values.
 */
import * as path from "path";
import { evaluate, Evaluation, EngineOptions, RecordedResource } from "../tools/mock-engine";
import { buildPlan } from "../tools/plan";
import type { StackPlan } from "../tools/plan-render";

export { RecordedResource } from "../tools/mock-engine";

export const TEST_PROJECT = "shop";
export const TEST_STACK = "dev";
export const TEST_REGION = "eu-west-1";

/** Evaluates `build` (which creates components) and returns what it registered. */
export function record(build: () => unknown, options: Partial<EngineOptions> = {}): Promise<Evaluation> {
  return evaluate(build, {
    project: TEST_PROJECT,
    stack: TEST_STACK,
    ...options,
    config: { "aws:region": TEST_REGION, ...options.config },
  });
}

const stackPlans = new Map<string, Promise<StackPlan>>();

/**
 * The plan of the real program for a stack file as written (resources, outputs, diagram,
 * policy verdicts), evaluated once per test run and shared by every test file that reads
 * it. Read-only: a test that needs other config evaluates the program itself.
 */
export function stackPlan(stack: string): Promise<StackPlan> {
  if (!stackPlans.has(stack)) stackPlans.set(stack, buildPlan(stack, path.resolve(__dirname, "..")));
  return stackPlans.get(stack)!;
}

/** Every recorded resource of a type, e.g. `aws:lambda/function:Function`. */
export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((resource) => resource.type === type);
}

/** The one resource of a type (and name, if given); fails when there is not exactly one. */
export function one(resources: RecordedResource[], type: string, name?: string): RecordedResource {
  const found = ofType(resources, type).filter((resource) => name === undefined || resource.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  }
  return found[0];
}
