// Event filter patterns as Lambda's event source mappings match them ("Lambda event
// filtering"): a JSON object whose leaves are arrays of matchers. A pattern that can never
// match is worse than an error: Lambda drops every record it filters out, so a typo in a
// key silently discards the whole stream. Checked here, before anything is registered.
import { ProblemCollector } from "./validation";

/** The comparison operators of a `numeric` matcher. */
const NUMERIC_OPERATORS = ["=", "<", "<=", ">", ">="];
const LOWER_BOUNDS = [">", ">="];
const UPPER_BOUNDS = ["<", "<="];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> => typeof value === "object" && value !== null && !Array.isArray(value);
const isScalar = (value: unknown) => value === null || ["string", "number", "boolean"].includes(typeof value);

/** Why one matcher inside a leaf array is not one Lambda knows, or undefined. */
function matcherProblem(matcher: Json): string | undefined {
  if (isScalar(matcher)) return typeof matcher === "number" && !Number.isFinite(matcher) ? `${matcher} is not a finite number` : undefined;
  if (!isObject(matcher)) return `${JSON.stringify(matcher)} is neither a value nor an operator object`;
  const keys = Object.keys(matcher);
  if (keys.length !== 1) return `${JSON.stringify(matcher)} has ${keys.length} operators; an operator object has exactly one, e.g. { "prefix": "order-" }`;
  const [operator] = keys;
  const operand = matcher[operator];
  switch (operator) {
    case "prefix":
    case "suffix":
    case "equals-ignore-case":
      return typeof operand === "string" ? undefined : `"${operator}" takes a string, not ${JSON.stringify(operand)}`;
    case "exists":
      return typeof operand === "boolean" ? undefined : `"exists" takes true or false, not ${JSON.stringify(operand)}`;
    case "anything-but":
      if (typeof operand === "string" || typeof operand === "number") return undefined;
      if (Array.isArray(operand) && operand.length > 0 && operand.every((value) => typeof value === "string" || typeof value === "number")) return undefined;
      if (isObject(operand) && Object.keys(operand).length === 1 && ["prefix", "suffix", "equals-ignore-case"].includes(Object.keys(operand)[0]) && typeof Object.values(operand)[0] === "string") return undefined;
      return `"anything-but" takes a string, a number, a non-empty list of them, or { "prefix" | "suffix" | "equals-ignore-case": string }, not ${JSON.stringify(operand)}`;
    case "numeric":
      return numericProblem(operand);
    default:
      return `"${operator}" is not an operator of Lambda event filtering; use "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric" or "exists"`;
  }
}

/** `numeric` takes `[op, n]` or a range `[lower, n, upper, m]`. */
function numericProblem(operand: Json): string | undefined {
  const shape = `"numeric" takes [operator, number] or a range such as [">", 0, "<=", 100], with operators ${NUMERIC_OPERATORS.join(" ")}`;
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) return `${shape}, not ${JSON.stringify(operand)}`;
  for (let index = 0; index < operand.length; index += 2) {
    if (!NUMERIC_OPERATORS.includes(operand[index] as string) || typeof operand[index + 1] !== "number") return `${shape}, not ${JSON.stringify(operand)}`;
  }
  if (operand.length === 4 && !(LOWER_BOUNDS.includes(operand[0] as string) && UPPER_BOUNDS.includes(operand[2] as string))) {
    return `a "numeric" range is a lower bound (> or >=) then an upper bound (< or <=), not ${JSON.stringify(operand)}`;
  }
  return undefined;
}

/** Checks one level of a pattern: every field is a nested pattern or a non-empty list of matchers. */
function checkLevel(pattern: Record<string, Json>, at: string, problems: ProblemCollector): void {
  if (Object.keys(pattern).length === 0) {
    problems.add(at, "is an empty object, which matches nothing useful; name a field, e.g. { \"eventName\": [\"INSERT\"] }.");
    return;
  }
  for (const [key, value] of Object.entries(pattern)) {
    const path = `${at}.${key}`;
    if (key === "$or") {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        problems.add(path, "takes a list of two or more patterns (objects); with one, write the pattern itself.");
      } else {
        value.forEach((alternative, index) => checkLevel(alternative as Record<string, Json>, `${path}[${index}]`, problems));
      }
    } else if (isObject(value)) {
      checkLevel(value, path, problems);
    } else if (!Array.isArray(value) || value.length === 0) {
      problems.add(path, `${JSON.stringify(value)} is not a list of matchers; wrap the value in a list, e.g. [${JSON.stringify(value ?? "INSERT")}].`);
    } else {
      const problem = value.map(matcherProblem).find(Boolean);
      if (problem) problems.add(path, `${problem}.`);
    }
  }
}

/** Reports the top-level fields of `pattern` (and of its top-level `$or` alternatives) that the records do not have. */
function checkRecordFields(pattern: Record<string, Json>, at: string, recordFields: readonly string[], problems: ProblemCollector): void {
  for (const [key, value] of Object.entries(pattern)) {
    if (key === "$or") {
      if (Array.isArray(value)) value.forEach((alternative, index) => isObject(alternative) && checkRecordFields(alternative, `${at}.$or[${index}]`, recordFields, problems));
    } else if (!recordFields.includes(key)) {
      problems.add(`${at}.${key}`, `is not a field of this stream's records (${recordFields.join(", ")}), so the pattern matches no record and Lambda would drop every one; use one of those fields.`);
    }
  }
}

/**
 * Checks the filter patterns `patterns` (at `path`, e.g. `filters`): each a JSON object
 * whose top-level fields are among `recordFields` (the fields of the source's records),
 * at most `maxFilters` of them, each at most `maxLength` characters as JSON.
 */
export function checkFilterPatterns(
  path: string,
  patterns: readonly unknown[] | undefined,
  recordFields: readonly string[] | undefined,
  limits: { maxFilters: number; maxLength: number },
  problems: ProblemCollector,
): void {
  if (patterns === undefined) return;
  if (!Array.isArray(patterns)) {
    problems.add(path, "is not a list; give a list of filter patterns, e.g. [{ eventName: [\"INSERT\"] }].");
    return;
  }
  if (patterns.length > limits.maxFilters) {
    problems.add(path, `has ${patterns.length} patterns, above AWS's ${limits.maxFilters} per event source mapping; combine them with "$or" in one pattern.`);
  }
  patterns.forEach((pattern, index) => {
    const at = `${path}[${index}]`;
    if (!isObject(pattern)) {
      problems.add(at, `${JSON.stringify(pattern)} is not a pattern object; write e.g. { eventName: ["INSERT"] }.`);
      return;
    }
    const length = JSON.stringify(pattern).length;
    if (length > limits.maxLength) problems.add(at, `is ${length} characters as JSON, above AWS's ${limits.maxLength}; simplify it.`);
    if (recordFields) checkRecordFields(pattern, at, recordFields, problems);
    checkLevel(pattern, at, problems);
  });
}
