/**
 * Event filtering for stream event source mappings (`filterCriteria.filters[].pattern`), as
 * Lambda applies it: a record is delivered when any pattern matches; the others count as
 * processed. Patterns use EventBridge's syntax (the matcher the asynchronous sources use).
 */
import { matchesPattern } from "./event-patterns";

/** Whether a record (in its filtering shape) should reach the function. */
export type RecordFilter = (document: unknown) => boolean;

/** The filter for a mapping's patterns (JSON strings); no patterns let everything through. */
export function recordFilter(patterns: string[], mappingName: string): RecordFilter {
  const parsed = patterns.map((pattern) => {
    try {
      const value = JSON.parse(pattern) as unknown;
      matchesPattern(value, {}, "EventBridge"); // a pattern Lambda would refuse fails here, at start, not per record
      return value;
    } catch (error) {
      throw new Error(`Mapping ${mappingName}: filter pattern ${pattern} is not a valid pattern (${(error as Error).message}).`);
    }
  });
  if (parsed.length === 0) return () => true;
  return (document) => parsed.some((pattern) => matchesPattern(pattern, document, "EventBridge"));
}
