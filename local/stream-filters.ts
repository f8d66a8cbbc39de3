/**
 * Event filtering for stream event source mappings (`filterCriteria.filters[].pattern`), as
 * Lambda applies it: a record is delivered when any pattern matches; the others count as
 * processed. Patterns use EventBridge's syntax; the poller sees only `RecordFilter`, so the
 * matcher behind it can be swapped for a shared one.
 */

/** Whether a record (in its filtering shape) should reach the function. */
export type RecordFilter = (document: unknown) => boolean;

/** The filter for a mapping's patterns (JSON strings); no patterns let everything through. */
export function recordFilter(patterns: string[], mappingName: string): RecordFilter {
  const parsed = patterns.map((pattern) => {
    try {
      return JSON.parse(pattern) as unknown;
    } catch (error) {
      throw new Error(`Mapping ${mappingName}: filter pattern ${pattern} is not JSON (${(error as Error).message}).`);
    }
  });
  if (parsed.length === 0) return () => true;
  return (document) => parsed.some((pattern) => matchesPattern(pattern, document));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** EventBridge-style matching: every key of the pattern must match; leaves are lists of alternatives. */
export function matchesPattern(pattern: unknown, document: unknown): boolean {
  if (!isObject(pattern)) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const value = isObject(document) ? document[key] : undefined;
    if (Array.isArray(expected)) return matchesAlternatives(expected, value);
    return isObject(expected) && matchesPattern(expected, value);
  });
}

function matchesAlternatives(alternatives: unknown[], value: unknown): boolean {
  // A list in the document matches when any of its elements does.
  const values = Array.isArray(value) ? value : [value];
  return alternatives.some((alternative) => {
    if (isObject(alternative) && "exists" in alternative) return (value !== undefined) === alternative.exists;
    return value !== undefined && values.some((v) => matchesLeaf(alternative, v));
  });
}

function matchesLeaf(alternative: unknown, value: unknown): boolean {
  if (!isObject(alternative)) return alternative === value;
  if ("prefix" in alternative) return typeof value === "string" && value.startsWith(String(alternative.prefix));
  if ("suffix" in alternative) return typeof value === "string" && value.endsWith(String(alternative.suffix));
  if ("equals-ignore-case" in alternative) return typeof value === "string" && value.toLowerCase() === String(alternative["equals-ignore-case"]).toLowerCase();
  if ("anything-but" in alternative) {
    const excluded = alternative["anything-but"];
    return Array.isArray(excluded) ? !excluded.includes(value) : isObject(excluded) ? !matchesLeaf(excluded, value) : excluded !== value;
  }
  if ("numeric" in alternative && Array.isArray(alternative.numeric)) return typeof value === "number" && matchesNumeric(alternative.numeric, value);
  return false;
}

function matchesNumeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const bound = Number(conditions[i + 1]);
    const ok = { "=": value === bound, "<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound }[String(conditions[i])];
    if (!ok) return false;
  }
  return true;
}
